// The node containers of a kind cluster, found through the Docker API by kind's labels, and a
// helper that runs work on several nodes in parallel, one Docker client per thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "docker_api/docker_client.h"
#include "kind/cluster_config.h"

namespace kmps::cluster {

inline constexpr const char* kClusterLabel = "io.x-k8s.kind.cluster";
inline constexpr const char* kRoleLabel = "io.x-k8s.kind.role";

struct NodeRef {
  std::string name;
  std::string role;
  bool running = false;
  bool gpu = false;
};

// Every container labelled for cluster `name` (kind's load balancer too), sorted by name.
StatusOr<std::vector<std::string>> ClusterContainerNames(docker::DockerClient& client, const std::string& name);

// Node containers labelled for `config.name`, sorted by name; `gpu` per config.gpu_nodes.
StatusOr<std::vector<NodeRef>> ListNodes(docker::DockerClient& client, const kind::ClusterConfig& config);

// What kubeadm init writes on a control-plane node once Kubernetes runs there. A kind killed
// mid-create (by a deadline, Ctrl-C) leaves labelled node containers without it.
inline constexpr const char* kKubeadmAdminConf = "/etc/kubernetes/admin.conf";

// Whether kind finished the cluster of `nodes`: its first control-plane node holds
// kKubeadmAdminConf (asked through the archive endpoint: no exec, stopped nodes too). false when
// there is no control-plane node.
StatusOr<bool> KindFinished(docker::DockerClient& client, const std::vector<NodeRef>& nodes);

inline constexpr size_t kMaxParallel = 16;

// Runs fn(client, i) for every i in [0, count) on up to kMaxParallel threads, each with its own
// client (Clone()); the calling thread works too, with `client`. Returns the statuses in order.
std::vector<Status> ForEachParallel(docker::DockerClient& client, size_t count,
                                    const std::function<Status(docker::DockerClient&, size_t)>& fn);

// The nodes an MPS command goes to: `node` by name, else every GPU node, which must be one node
// unless `all`. kInvalidArgument for an ambiguous choice, kNotFound for an unknown node.
StatusOr<std::vector<NodeRef>> SelectMpsTargets(const std::vector<NodeRef>& nodes, const kind::ClusterConfig& config,
                                                const std::string& node, bool all);

}  // namespace kmps::cluster
