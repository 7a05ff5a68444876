// A cluster node as the MPS and cluster code sees it: commands and a process list, behind a small
// interface (like kind's Node.Command) so the logic is tested with a fake and run on Docker.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "docker_api/docker_client.h"

namespace kmps::cluster {

class Node {
 public:
  virtual ~Node() = default;
  virtual const std::string& name() const = 0;
  // Runs `options.cmd` (argv, no shell) in the node and captures its output and exit code.
  virtual StatusOr<docker::ExecResult> Command(const docker::ExecOptions& options) = 0;
  // The node's process table (GET /containers/{id}/top).
  virtual StatusOr<docker::TopResult> Top(std::string_view ps_args) = 0;
};

// A node that is a Docker container, reached through the Engine API.
class DockerNode : public Node {
 public:
  DockerNode(docker::DockerClient& client, std::string name) : client_(client), name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  StatusOr<docker::ExecResult> Command(const docker::ExecOptions& options) override {
    return client_.ExecCapture(name_, options);
  }
  StatusOr<docker::TopResult> Top(std::string_view ps_args) override { return client_.Top(name_, ps_args); }

 private:
  docker::DockerClient& client_;
  std::string name_;
};

}  // namespace kmps::cluster
