// `kindmps-api up` and `down`: the whole flow, with progress reported through a callback.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "cluster/status.h"
#include "common/status.h"
#include "docker_api/docker_client.h"
#include "kind/cluster_config.h"

namespace kmps::cluster {

struct ProgressEvent {
  enum class Kind { kStepStarted, kStepDone, kStepFailed, kLine };
  Kind kind = Kind::kLine;
  int step = 0;   // 1-based; 0 for kLine
  int total = 0;
  std::string title;   // the step's title
  std::string detail;  // a result, an error, or one line of kind's output
  double elapsed_ms = 0;
};
// Called on the thread that called Up or Down, one event at a time.
using ProgressFn = std::function<void(const ProgressEvent&)>;

struct UpOptions {
  kind::ClusterConfig config;
  std::string kind = "kind";  // name on PATH or a path
  bool recreate = false;
  std::chrono::seconds kind_timeout{900};
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
StatusOr<UpResult> Up(docker::DockerClient& client, const UpOptions& options, const ProgressFn& progress);

struct DownOptions {
  kind::ClusterConfig config;
  std::string kind = "kind";
  bool keep_cluster = false;
  std::chrono::seconds kind_timeout{300};
};

// Checks that kind is there and the kubeconfig unlocked (unless keep_cluster), before anything
// changes; then `quit` the MPS daemons of every running GPU node (with a deadline), then `kind
// delete cluster`, also when a daemon would not quit (the delete ends it). With keep_cluster, a
// failed quit is the result. A SIGINT, SIGTERM, SIGHUP or SIGQUIT while kind runs is kCancelled
// with the signal.
Status Down(docker::DockerClient& client, const DownOptions& options, const ProgressFn& progress);

}  // namespace kmps::cluster
