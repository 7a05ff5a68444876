// A scripted cluster::Node for unit tests: commands go to a handler, `top` returns a table.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cluster/node.h"

namespace kmps::testing {

class FakeNode : public cluster::Node {
 public:
  using Handler = std::function<StatusOr<docker::ExecResult>(const docker::ExecOptions&)>;

  explicit FakeNode(std::string name = "n1-control-plane") : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  StatusOr<docker::ExecResult> Command(const docker::ExecOptions& options) override {
    commands.push_back(options);
    if (!handler) return docker::ExecResult{0, "", ""};
    return handler(options);
  }
  StatusOr<docker::TopResult> Top(std::string_view ps_args) override {
    ++top_calls;
    last_ps_args = std::string(ps_args);
    if (top_handler) return top_handler();
    return top;
  }

  // Rows of PID, PPID, STAT, COMMAND.
  void SetProcesses(std::vector<std::vector<std::string>> rows) {
    top.titles = {"PID", "PPID", "STAT", "COMMAND"};
    top.processes = std::move(rows);
  }

  Handler handler;
  std::function<StatusOr<docker::TopResult>()> top_handler;
  docker::TopResult top;
  std::vector<docker::ExecOptions> commands;
  int top_calls = 0;
  std::string last_ps_args;

 private:
  std::string name_;
};

}  // namespace kmps::testing
