// One way into kindmps clusters: the calls the CLI and the C API make, each with the same order
// of checks (the request, then the saved state, then Docker's reachability, then the work), so
// that both front ends are thin adapters with the same semantics and exit codes.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/env.h"
#include "cluster/status.h"
#include "cluster/up.h"
#include "common/status.h"
#include "docker_api/docker_client.h"

namespace kmps::cluster {

struct DownRequest {
  std::string cluster;        // empty: the default name
  std::string kind = "kind";  // name on PATH or a path
  bool keep_cluster = false;
  std::chrono::milliseconds kind_timeout = kDefaultDownTimeout;
  std::string kubeconfig = "";  // kind's --kubeconfig ("": kind's resolution)
};

struct MpsRequest {
  std::string cluster;  // empty: the default name
  std::string node;     // empty: the only GPU node, or every one with `all`
  bool all = false;
  std::string command;  // one line, e.g. "get_server_list"
  std::string gpu = "";  // instead of node/all: the GPU node that has this GPU (minor or UUID)
};

struct MpsReply {
  std::string node;
  std::optional<int> gpu = std::nullopt;  // mps.daemons perGpu: the GPU whose daemon answered
  StatusOr<std::string> reply{Failed("not sent")};
};
// {"replies": [{"node", "ok": true, "reply"} | {"node", "ok": false, "error", "code"}]}, each with
// "gpu" (its device minor) where the daemon is a GPU's (mps.daemons perGpu); "code"
// named by `code_name` (the C API passes its error-kind names; default: CodeName).
nlohmann::json MpsRepliesToJson(const std::vector<MpsReply>& replies,
                                const std::function<std::string(Code)>& code_name = nullptr);
// kNotFound "no cluster named X (create it with kindmps-api up -n X)": neither node containers
// nor a saved state, which is not the same as an unhealthy cluster.
Status NoSuchCluster(const std::string& name);

// The first failure among `replies`, else Ok.
Status FirstFailure(const std::vector<MpsReply>& replies);

struct GpuPlace {
  std::string node;
  std::optional<int> gpu = std::nullopt;  // perGpu: the device minor of the GPU's daemon
};

class Api {
 public:
  // Docker's node provider, the host runner and the state directory, over `client`.
  explicit Api(docker::DockerClient& client);
  // Any seams (tests); reachability is then not checked.
  explicit Api(Env env);
  ~Api();

  StatusOr<UpResult> Up(const UpOptions& options, const ProgressFn& progress);
  Status Down(const DownRequest& request, const ProgressFn& progress);
  // kNotFound (NoSuchCluster) when the cluster has neither node containers nor a saved state.
  StatusOr<ClusterStatus> ReadStatus(const std::string& cluster);
  // The command sent to every chosen node at once; one reply per node, in node order. Errors:
  // the request, the state and the choice of nodes; a node's own failure is in its reply.
  StatusOr<std::vector<MpsReply>> Mps(const MpsRequest& request);
  // The GPU node of `cluster` that has GPU `gpu` (SelectGpuNode), and with mps.daemons perGpu
  // the daemon of that GPU: `pod --gpu`.
  StatusOr<GpuPlace> GpuNode(const std::string& cluster, const std::string& gpu);

 private:
  // The API version negotiation's /_ping: an unreachable daemon fails before any work starts.
  Status Reachable();

  docker::DockerClient* client_ = nullptr;
  std::unique_ptr<DockerEnv> docker_env_;
  Env env_;
};

}  // namespace kmps::cluster
