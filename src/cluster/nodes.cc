#include "cluster/nodes.h"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <system_error>
#include <thread>

namespace kmps::cluster {

namespace {

StatusOr<std::vector<docker::ContainerSummary>> ListLabelled(docker::DockerClient& client, const std::string& name) {
  docker::ListOptions list;
  list.all = true;
  list.labels = {std::string(kClusterLabel) + "=" + name};
  return client.ListContainers(list);
}

}  // namespace

StatusOr<std::vector<std::string>> ClusterContainerNames(docker::DockerClient& client, const std::string& name) {
  KMPS_ASSIGN_OR_RETURN(std::vector<docker::ContainerSummary> containers, ListLabelled(client, name));
  std::vector<std::string> names;
  for (const auto& c : containers) names.push_back(c.name);
  std::sort(names.begin(), names.end());
  return names;
}

StatusOr<std::vector<NodeRef>> ListNodes(docker::DockerClient& client, const kind::ClusterConfig& config) {
  KMPS_ASSIGN_OR_RETURN(std::vector<docker::ContainerSummary> containers, ListLabelled(client, config.name));
  std::vector<NodeRef> nodes;
  for (const auto& c : containers) {
    NodeRef n;
    n.name = c.name;
    auto role = c.labels.find(kRoleLabel);
    n.role = role == c.labels.end() ? "" : role->second;
    n.running = c.state == "running";
    // kind's load balancer of HA clusters carries the label but is no Kubernetes node.
    if (n.role == "external-load-balancer") continue;
    n.gpu = kind::IsGpuNode(config, n.name, n.role);
    nodes.push_back(std::move(n));
  }
  std::sort(nodes.begin(), nodes.end(), [](const NodeRef& a, const NodeRef& b) { return a.name < b.name; });
  return nodes;
}

StatusOr<bool> KindFinished(docker::DockerClient& client, const std::vector<NodeRef>& nodes) {
  auto control_plane =
      std::find_if(nodes.begin(), nodes.end(), [](const NodeRef& n) { return n.role == "control-plane"; });
  if (control_plane == nodes.end()) return false;
  return client.PathExists(control_plane->name, kKubeadmAdminConf);
}

std::vector<Status> ForEachParallel(docker::DockerClient& client, size_t count,
                                    const std::function<Status(docker::DockerClient&, size_t)>& fn) {
  std::vector<Status> results(count);
  if (count == 0) return results;
  std::atomic<size_t> next{0};
  auto work = [&](docker::DockerClient& c) {
    for (size_t i = next++; i < count; i = next++) results[i] = fn(c, i);
  };
  // Up to kMaxParallel workers, each with its own client; with fewer (a clone or a thread that
  // could not be had) the others take the remaining items.
  std::vector<std::unique_ptr<docker::DockerClient>> clients;
  std::vector<std::thread> threads;
  for (size_t w = 1; w < std::min(count, kMaxParallel); ++w) {
    auto clone = client.Clone();
    if (!clone.ok()) break;
    clients.push_back(std::move(clone).value());
    try {
      threads.emplace_back(work, std::ref(*clients.back()));
    } catch (const std::system_error&) {
      break;
    }
  }
  work(client);
  for (auto& t : threads) t.join();
  return results;
}

StatusOr<std::vector<NodeRef>> SelectMpsTargets(const std::vector<NodeRef>& nodes, const kind::ClusterConfig& config,
                                                const std::string& node, bool all) {
  if (all && !node.empty()) return InvalidArgument("--node and --all exclude each other");
  std::vector<NodeRef> targets;
  for (const auto& n : nodes) {
    if (!node.empty() ? n.name == node : n.gpu) targets.push_back(n);
  }
  if (targets.empty()) {
    if (!node.empty()) return NotFound(fmt::format("no node {} in cluster {}", node, config.name));
    return Failed(fmt::format("cluster {} has no GPU node", config.name));
  }
  if (targets.size() > 1 && !all) {
    return InvalidArgument(fmt::format("cluster {} has {} GPU nodes: name one with --node, or use --all", config.name,
                                       targets.size()));
  }
  return targets;
}

}  // namespace kmps::cluster
