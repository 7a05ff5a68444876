// The nodes of a kindmps cluster: which are GPU nodes, whether kind finished them, and which an
// MPS command goes to.
#pragma once

#include <string>
#include <optional>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "node/node.h"

namespace kmps::cluster {

// The provider's nodes of `config.name`, GPU nodes marked per config.gpu_nodes.
StatusOr<node::NodeList> ListClusterNodes(node::Provider& provider, const config::ClusterConfig& config);

// What kubeadm init writes on a control-plane node once Kubernetes runs there. A kind killed
// mid-create (by a deadline, Ctrl-C) leaves labelled node containers without it.
inline constexpr const char* kKubeadmAdminConf = "/etc/kubernetes/admin.conf";

// Whether kind finished the cluster of `nodes`: its first control-plane node holds
// kKubeadmAdminConf (asked without an exec: stopped nodes too). false when there is no
// control-plane node.
StatusOr<bool> KindFinished(const node::NodeList& nodes);

// The nodes an MPS command goes to: `node` by name, else every GPU node, which must be one node
// unless `all`. kInvalidArgument for an ambiguous choice, kNotFound for an unknown node.
// The GPU node of `config` whose MPS daemon serves GPU `gpu` (a device minor: the node has its
// /dev/nvidiaN; a UUID: its daemon's CUDA_VISIBLE_DEVICES names it, or is unset, as with gpus: all).
// kNotFound when none does, kInvalidArgument when several do (gpus: all) or `gpu` names no GPU.
StatusOr<node::Node*> SelectGpuNode(const node::NodeList& nodes, const config::ClusterConfig& config,
                                    const std::string& gpu);
StatusOr<std::vector<node::Node*>> SelectMpsTargets(const node::NodeList& nodes, const config::ClusterConfig& config,
                                                    const std::string& node, bool all);

// One MPS control daemon an MPS command can go to: a node's, or (mps.daemons perGpu) one GPU's.
struct MpsTarget {
  node::Node* node = nullptr;
  std::optional<int> gpu;   // perGpu: its GPU's device minor
  config::MpsSettings mps;  // its pipe and log directories (daemons.h's DaemonSettings)
};

// The daemons of `node` that serve `gpu` ("": every one): with one daemon per node, the node's
// (config.mps); per GPU, one per /dev/nvidiaN of the node, in order, `gpu` choosing by minor or
// by the UUID in its daemon's CUDA_VISIBLE_DEVICES. kNotFound when none serves `gpu`.
StatusOr<std::vector<MpsTarget>> DaemonTargets(node::Node& node, const config::ClusterConfig& config,
                                               const std::string& gpu = "");

}  // namespace kmps::cluster
