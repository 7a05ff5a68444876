// `kindmps-api up` and `down`: lists of steps (steps.h) run against the seams of env.h, with
// progress reported through a callback.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "cluster/env.h"
#include "cluster/status.h"
#include "cluster/steps.h"
#include "common/status.h"
#include "config/config.h"
#include "kind/kind_runner.h"

namespace kmps::cluster {

// The deadlines `up` and `down` give kind by default: 15 and 5 minutes.
inline constexpr std::chrono::milliseconds kDefaultUpTimeout{900'000};
inline constexpr std::chrono::milliseconds kDefaultDownTimeout{300'000};
// The longest --timeout taken: a day.
inline constexpr double kMaxTimeoutSeconds = 86400;

struct UpOptions {
  config::ClusterConfig config;
  std::string kind = "kind";  // name on PATH or a path
  bool recreate = false;
  // The deadline of each kind run (`up --timeout`); kind's own node waits fit in it.
  std::chrono::milliseconds kind_timeout = kDefaultUpTimeout;
  kind::KindFlags kind_flags;  // up --wait, --retain, --kubeconfig
};

struct UpResult {
  ClusterStatus status;
  std::string kind_config_path;
  bool created = false;       // kind create cluster ran
  double kind_ms = 0;         // time spent in kind
  double total_ms = 0;
  std::vector<std::string> node_notes;  // e.g. "node X: control daemon started (pid 12)"
  // `up --json`: the status document plus kindConfig, created and timings.
  nlohmann::json ToJson() const;
};

// Runs the flow; the status in the result tells whether the cluster ended healthy. Errors:
// kEnvironment (driver files or kind missing), kFailed (kind failed, a node step failed),
// kCancelled with the signal (SIGINT, SIGTERM, SIGHUP or SIGQUIT while kind ran; forwarded to kind). When kind
// create cluster fails or is stopped, the node containers still labelled for the cluster once
// every process kind started is gone are deleted (kind delete cluster); the error says so when
// that did not work.
// The steps: inspect the host, write the kind config, create the kind cluster (or keep the one
// kind finished), prepare every GPU node in one exec each and read the others, verify.
StatusOr<UpResult> Up(Env env, const UpOptions& options, const ProgressFn& progress);

struct DownOptions {
  config::ClusterConfig config;
  std::string kind = "kind";
  bool keep_cluster = false;
  std::chrono::milliseconds kind_timeout = kDefaultDownTimeout;  // `down --timeout`
  std::string kubeconfig;  // down --kubeconfig
};

// Checks that kind is there and the kubeconfig unlocked (unless keep_cluster), before anything
// changes; then `quit` the MPS daemons of every running GPU node (with a deadline), then `kind
// delete cluster`, also when a daemon would not quit (the delete ends it). With keep_cluster, a
// failed quit is the result. A SIGINT, SIGTERM, SIGHUP or SIGQUIT while kind runs is kCancelled
// with the signal.
Status Down(Env env, const DownOptions& options, const ProgressFn& progress);

}  // namespace kmps::cluster
