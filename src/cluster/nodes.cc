#include "cluster/nodes.h"

#include <algorithm>
#include <thread>

namespace kmps::cluster {

StatusOr<std::vector<NodeRef>> ListNodes(docker::DockerClient& client, const kind::ClusterConfig& config) {
  docker::ListOptions list;
  list.all = true;
  list.labels = {std::string(kClusterLabel) + "=" + config.name};
  KMPS_ASSIGN_OR_RETURN(std::vector<docker::ContainerSummary> containers, client.ListContainers(list));
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

std::vector<Status> ForEachParallel(docker::DockerClient& client, size_t count,
                                    const std::function<Status(docker::DockerClient&, size_t)>& fn) {
  std::vector<Status> results(count);
  if (count == 0) return results;
  std::vector<std::thread> threads;
  for (size_t i = 1; i < count; ++i) {
    auto clone = client.Clone();
    if (!clone.ok()) {
      results[i] = clone.status();
      continue;
    }
    threads.emplace_back([&fn, &results, i, c = std::move(clone).value()]() mutable { results[i] = fn(*c, i); });
  }
  results[0] = fn(client, 0);
  for (auto& t : threads) t.join();
  return results;
}

}  // namespace kmps::cluster
