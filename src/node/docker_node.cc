#include "node/docker_node.h"

#include <algorithm>

namespace kmps::node {
namespace {

docker::ExecOptions ToExec(const Command& command) {
  docker::ExecOptions exec;
  exec.cmd = command.argv;
  exec.env = command.env;
  exec.timeout = command.timeout;
  return exec;
}

// Hands exec output to a line callback, stdout and stderr merged, as the host runner does.
class LineSink : public docker::OutputSink {
 public:
  explicit LineSink(const std::function<void(std::string_view)>& on_line) : on_line_(on_line) {}
  ~LineSink() override {
    if (!partial_.empty()) on_line_(partial_);
  }
  void OnStdout(std::string_view data) override { Feed(data); }
  void OnStderr(std::string_view data) override { Feed(data); }

 private:
  void Feed(std::string_view data) {
    for (size_t nl; (nl = data.find('\n')) != std::string_view::npos; data.remove_prefix(nl + 1)) {
      partial_.append(data.substr(0, nl));
      on_line_(partial_);
      partial_.clear();
    }
    partial_.append(data);
  }
  const std::function<void(std::string_view)>& on_line_;
  std::string partial_;
};

StatusOr<std::vector<docker::ContainerSummary>> ListLabelled(docker::DockerClient& client, const std::string& cluster) {
  docker::ListOptions list;
  list.all = true;
  list.labels = {std::string(kClusterLabel) + "=" + cluster};
  return client.ListContainers(list);
}

}  // namespace

StatusOr<CommandResult> DockerNode::Run(const Command& command) {
  if (!command.on_line) {
    KMPS_ASSIGN_OR_RETURN(docker::ExecResult r, client_->ExecCapture(name(), ToExec(command)));
    return CommandResult{r.exit_code, std::move(r.out), std::move(r.err)};
  }
  CommandResult result;
  {
    LineSink sink(command.on_line);
    KMPS_ASSIGN_OR_RETURN(result.exit_code, client_->Exec(name(), ToExec(command), sink));
  }
  return result;
}

StatusOr<ProcessTable> DockerNode::Processes(std::string_view ps_args) {
  return client_->Top(name(), ps_args);
}

StatusOr<bool> DockerNode::PathExists(std::string_view path) { return client_->PathExists(name(), path); }

StatusOr<std::unique_ptr<Node>> DockerNode::Fork() {
  KMPS_ASSIGN_OR_RETURN(auto client, client_->Clone());
  return std::unique_ptr<Node>(std::make_unique<DockerNode>(info(), std::move(client)));
}

StatusOr<std::vector<std::string>> ClusterContainerNames(docker::DockerClient& client, const std::string& cluster) {
  KMPS_ASSIGN_OR_RETURN(std::vector<docker::ContainerSummary> containers, ListLabelled(client, cluster));
  std::vector<std::string> names;
  for (const auto& c : containers) names.push_back(c.name);
  std::sort(names.begin(), names.end());
  return names;
}

StatusOr<NodeList> ListDockerNodes(docker::DockerClient& client, const std::string& cluster) {
  KMPS_ASSIGN_OR_RETURN(std::vector<docker::ContainerSummary> containers, ListLabelled(client, cluster));
  std::sort(containers.begin(), containers.end(),
            [](const docker::ContainerSummary& a, const docker::ContainerSummary& b) { return a.name < b.name; });
  NodeList nodes;
  for (const auto& c : containers) {
    NodeInfo info;
    info.name = c.name;
    auto role = c.labels.find(kRoleLabel);
    info.role = role == c.labels.end() ? "" : role->second;
    info.running = c.state == "running";
    info.paused = c.state == "paused";
    // kind's load balancer of HA clusters carries the label but is no Kubernetes node.
    if (info.role == "external-load-balancer") continue;
    KMPS_ASSIGN_OR_RETURN(auto own, client.Clone());
    nodes.push_back(std::make_unique<DockerNode>(std::move(info), std::move(own)));
  }
  return nodes;
}

StatusOr<NodeList> DockerProvider::ListNodes(const std::string& cluster) { return ListDockerNodes(client_, cluster); }

StatusOr<std::vector<std::string>> DockerProvider::ContainerNames(const std::string& cluster) {
  return ClusterContainerNames(client_, cluster);
}

}  // namespace kmps::node
