// Nodes that are Docker containers (kind's docker provider), reached through the Engine API:
// commands are execs, the process table is `top`, paths are asked with the archive endpoint.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "docker_api/docker_client.h"
#include "node/node.h"

namespace kmps::node {

inline constexpr const char* kClusterLabel = "io.x-k8s.kind.cluster";
inline constexpr const char* kRoleLabel = "io.x-k8s.kind.role";

class DockerNode : public Node {
 public:
  // The node uses `client` (its own: a client is not thread-safe).
  DockerNode(NodeInfo info, std::unique_ptr<docker::DockerClient> client)
      : Node(std::move(info)), client_(std::move(client)) {}
  StatusOr<CommandResult> Run(const Command& command) override;
  StatusOr<ProcessTable> Processes(std::string_view ps_args) override;
  StatusOr<bool> PathExists(std::string_view path) override;
  StatusOr<std::unique_ptr<Node>> Fork() override;

 private:
  std::unique_ptr<docker::DockerClient> client_;
};

// The nodes of kind's docker provider, through `client` (which the provider clones per node).
class DockerProvider : public Provider {
 public:
  explicit DockerProvider(docker::DockerClient& client) : client_(client) {}
  StatusOr<NodeList> ListNodes(const std::string& cluster) override;
  StatusOr<std::vector<std::string>> ContainerNames(const std::string& cluster) override;
  docker::DockerClient& client() { return client_; }

 private:
  docker::DockerClient& client_;
};

// Every container labelled for cluster `cluster` (kind's load balancer too), sorted by name.
StatusOr<std::vector<std::string>> ClusterContainerNames(docker::DockerClient& client, const std::string& cluster);

// The Kubernetes nodes of cluster `cluster` (kind's load balancer left out), sorted by name, each
// with a client of its own cloned from `client`.
StatusOr<NodeList> ListDockerNodes(docker::DockerClient& client, const std::string& cluster);

}  // namespace kmps::node
