// The user's own kind config (`up --kind-config FILE`, `kindConfig:` in kindmps.yaml), merged
// into the one kindmps-api writes. It is read strictly, as kind reads it (kind.x-k8s.io/v1alpha4
// Cluster, unknown fields refused), so that a typo is named at its line before anything runs.
//
// kindmps-api owns the cluster's name, the number and roles of its nodes, their image, the
// GPU mounts and the kindmps.dev/mps label: where the user's file sets one of those, it must agree
// with what kindmps-api was asked (else kInvalidArgument naming both). Everything else (networking,
// feature gates, runtime config, port mappings, labels, mounts, kubeadm and containerd patches) is
// the user's and is passed to kind as given, after kindmps-api's own.
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/status.h"

namespace kmps::config {

struct ClusterConfig;

inline constexpr const char* kKindApiVersion = "kind.x-k8s.io/v1alpha4";
inline constexpr const char* kKindClusterKind = "Cluster";

struct UserKindConfig {
  std::string file;
  YAML::Node root;                      // checked: a v1alpha4 Cluster
  std::vector<YAML::Node> control_planes;  // its nodes entries by role, in order
  std::vector<YAML::Node> workers;
};

// Parses and checks `text` (named `file` in messages) against kind's v1alpha4 Cluster schema.
StatusOr<UserKindConfig> ParseUserKindConfig(const std::string& text, const std::string& file);

// The fields kindmps-api owns that `user` sets differently from `config`: its name, its nodes
// (one control-plane and config.workers workers, when it lists nodes) and their image.
Status CheckUserKindConfig(const UserKindConfig& user, const ClusterConfig& config);

// kInvalidArgument "FILE:line:column: message" at node `at` of `user` (YamlReader::Error).
Status KindConfigError(const UserKindConfig& user, const YAML::Node& at, const std::string& message);

// The user's nodes entry that becomes kind node `index` of `role` (0-based; kind numbers the
// workers worker, worker2, ... in the order they are listed); a null node when there is none.
YAML::Node UserKindNode(const UserKindConfig& user, const std::string& role, size_t index);

// Emits `key: value` for a field of the user's Cluster (scope "cluster") or of one of its nodes
// (scope "node"), in one canonical form: strings quoted (kind's YAML 1.1 reader would take a plain
// `on` or `1.10` for another type), multi-line strings as literal blocks, mappings in the user's
// order. Nothing when `parent` lacks the field.
void EmitUserKindField(YAML::Emitter& out, const YAML::Node& parent, const std::string& scope, const std::string& key);
// The items of a list field (extraMounts), in the same form, into a sequence the caller has begun.
void EmitUserKindItems(YAML::Emitter& out, const YAML::Node& parent, const std::string& scope, const std::string& key);
// Emits a string so that kind's reader gets exactly it back: a literal block (`|`) when that is
// lossless, which is what a patch written by hand usually is (lines of printable ASCII without
// trailing blanks, ending in one newline, the first line not indented); else double-quoted, with
// escapes. yaml-cpp's literal form has neither an indentation nor a chomping indicator, so an
// indented first line or a missing final newline would not read back the same.
void EmitKindText(YAML::Emitter& out, const std::string& s);
// The strings of a list field (patches), [] when absent.
std::vector<std::string> UserKindStrings(const YAML::Node& parent, const std::string& key);

}  // namespace kmps::config
