#include "kind/kind_render.h"

#include <algorithm>
#include <map>

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include "config/kind_config.h"
#include "kind/root_fs.h"

namespace kmps::kind {
namespace {

constexpr const char* kLibDir = "/usr/lib/x86_64-linux-gnu/";
constexpr const char* kBinDir = "/usr/bin/";

void EmitStrings(YAML::Emitter& out, const char* key, const std::vector<std::string>& values) {
  if (values.empty()) return;
  out << YAML::Key << key << YAML::Value << YAML::BeginSeq;
  for (const auto& v : values) config::EmitKindText(out, v);
  out << YAML::EndSeq;
}

}  // namespace

std::string NodeLibraryPath(const HostLibrary& lib) { return kLibDir + lib.soname; }

std::vector<config::ExtraMount> GpuMounts(const HostInventory& inventory) {
  std::vector<config::ExtraMount> mounts;
  for (const auto& lib : inventory.libraries) {
    mounts.push_back({lib.real_path, NodeLibraryPath(lib), true, ""});
  }
  for (const auto& bin : inventory.binaries) {
    mounts.push_back({bin.real_path, kBinDir + bin.name, true, ""});
  }
  // A dev root other than / (a fake host, a driver container's) is not what the privileged node
  // sees in its /dev: its device nodes are passed through as the host's would be, so that the
  // node has the same /dev/nvidia* either way (and `gpus` can take the others away).
  if (!inventory.dev_root.empty() && NormalizePath(inventory.dev_root) != "/") {
    for (const auto& d : inventory.devices) mounts.push_back({d.path, InsidePath(inventory.dev_root, d.path), false, ""});
  }
  for (size_t i = 0; i < inventory.cdi_specs.size(); ++i) {
    std::string inside = i < inventory.cdi_spec_inside.size()
                             ? inventory.cdi_spec_inside[i]
                             : InsidePath(inventory.driver_root, inventory.cdi_specs[i]);
    mounts.push_back({inventory.cdi_specs[i], inside, true, ""});
  }
  return mounts;
}

StatusOr<std::string> RenderKindConfig(const config::ClusterConfig& config, const HostInventory& inventory) {
  const std::vector<config::ExtraMount> gpu = GpuMounts(inventory);
  std::vector<std::string> containerd = config.containerd_config_patches;
  if (!inventory.cdi_specs.empty() &&
      std::find(containerd.begin(), containerd.end(), kEnableCdiPatch) == containerd.end()) {
    containerd.push_back(kEnableCdiPatch);
  }
  std::vector<std::string> kubeadm = config.kubeadm_config_patches;
  // The user's own kind config (--kind-config), checked again here for callers that did not read
  // it through config::ReadKindConfigFile (the C API's options).
  config::UserKindConfig user;
  if (!config.kind_config_text.empty()) {
    KMPS_ASSIGN_OR_RETURN(user, config::ParseUserKindConfig(config.kind_config_text, config.kind_config_file));
    KMPS_RETURN_IF_ERROR(config::CheckUserKindConfig(user, config));
    for (auto& p : config::UserKindStrings(user.root, "containerdConfigPatches")) containerd.push_back(std::move(p));
    for (auto& p : config::UserKindStrings(user.root, "kubeadmConfigPatches")) kubeadm.push_back(std::move(p));
  }
  const YAML::Node& root = user.root;

  YAML::Emitter out;
  out.SetIndent(2);
  out << YAML::BeginMap;
  out << YAML::Key << "kind" << YAML::Value << "Cluster";
  out << YAML::Key << "apiVersion" << YAML::Value << "kind.x-k8s.io/v1alpha4";
  out << YAML::Key << "name" << YAML::Value << config.name;
  for (const char* key : {"featureGates", "runtimeConfig", "networking"}) {
    config::EmitUserKindField(out, root, "cluster", key);
  }
  out << YAML::Key << "nodes" << YAML::Value << YAML::BeginSeq;
  size_t workers_seen = 0;
  for (const auto& node : config::NodeNames(config)) {
    const std::string role = config::NodeRole(config, node);
    const bool gpu_node = config::IsGpuNode(config, node, role);
    const YAML::Node user_node = config::UserKindNode(user, role, role == "worker" ? workers_seen++ : 0);
    std::vector<config::ExtraMount> mounts;
    if (gpu_node) mounts = gpu;
    mounts.insert(mounts.end(), config.extra_mounts.begin(), config.extra_mounts.end());
    std::map<std::string, std::string> by_container_path;
    for (const auto& m : mounts) {
      auto [it, fresh] = by_container_path.emplace(NormalizePath(m.container_path), m.host_path);
      if (!fresh) {
        return InvalidArgument(fmt::format(
            "node {}: container path {} is mounted twice (from {} and from {})", node,
            m.container_path, it->second, m.host_path));
      }
    }
    size_t user_mounts = 0;
    if (YAML::Node list = user_node ? user_node["extraMounts"] : YAML::Node(); list && list.IsSequence()) {
      for (const auto& m : list) {
        YAML::Node path = m["containerPath"];
        if (!path || !path.IsScalar()) continue;
        YAML::Node host = m["hostPath"];
        std::string from = fmt::format("{} (the kind config)", host && host.IsScalar() ? host.Scalar() : "");
        auto [it, fresh] = by_container_path.emplace(NormalizePath(path.Scalar()), from);
        if (!fresh) {
          return config::KindConfigError(user, path,
                                         fmt::format("node {}: containerPath {} is mounted already, from {}: choose "
                                                     "another container path",
                                                     node, path.Scalar(), it->second));
        }
        ++user_mounts;
      }
    }
    std::vector<std::pair<std::string, std::string>> labels;
    // Pods select MPS nodes by this label (kindmps-api pod's nodeSelector).
    if (gpu_node) labels.emplace_back(kMpsNodeLabel, kMpsNodeLabelValue);
    if (YAML::Node l = user_node ? user_node["labels"] : YAML::Node(); l && l.IsMap()) {
      for (auto it = l.begin(); it != l.end(); ++it) {
        if (it->first.Scalar() == kMpsNodeLabel) {
          return config::KindConfigError(user, it->first,
                                         fmt::format("node {}: the label {} is kindmps-api's (it marks the GPU nodes; "
                                                     "choose them with gpuNodes): leave it out of the kind config",
                                                     node, kMpsNodeLabel));
        }
        labels.emplace_back(it->first.Scalar(), it->second.Scalar());
      }
    }
    out << YAML::BeginMap;
    out << YAML::Key << "role" << YAML::Value << role;
    if (!config.image.empty()) out << YAML::Key << "image" << YAML::Value << config.image;
    if (!labels.empty()) {
      out << YAML::Key << "labels" << YAML::Value << YAML::BeginMap;
      for (const auto& [k, v] : labels) {
        if (k == kMpsNodeLabel) {
          out << YAML::Key << k << YAML::Value << v;
        } else {
          out << YAML::Key << YAML::DoubleQuoted << k << YAML::Value << YAML::DoubleQuoted << v;
        }
      }
      out << YAML::EndMap;
    }
    if (!mounts.empty() || user_mounts > 0) {
      out << YAML::Key << "extraMounts" << YAML::Value << YAML::BeginSeq;
      for (const auto& m : mounts) {
        out << YAML::BeginMap;
        out << YAML::Key << "hostPath" << YAML::Value << m.host_path;
        out << YAML::Key << "containerPath" << YAML::Value << m.container_path;
        if (m.read_only) out << YAML::Key << "readOnly" << YAML::Value << true;
        if (!m.propagation.empty()) {
          out << YAML::Key << "propagation" << YAML::Value << m.propagation;
        }
        out << YAML::EndMap;
      }
      config::EmitUserKindItems(out, user_node, "node", "extraMounts");
      out << YAML::EndSeq;
    }
    for (const char* key : {"extraPortMappings", "kubeadmConfigPatches", "kubeadmConfigPatchesJSON6902"}) {
      config::EmitUserKindField(out, user_node, "node", key);
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  EmitStrings(out, "containerdConfigPatches", containerd);
  config::EmitUserKindField(out, root, "cluster", "containerdConfigPatchesJSON6902");
  EmitStrings(out, "kubeadmConfigPatches", kubeadm);
  config::EmitUserKindField(out, root, "cluster", "kubeadmConfigPatchesJSON6902");
  out << YAML::EndMap;
  if (!out.good()) return InvalidArgument(fmt::format("rendering the kind config: {}", out.GetLastError()));
  return std::string(out.c_str()) + "\n";
}

}  // namespace kmps::kind
