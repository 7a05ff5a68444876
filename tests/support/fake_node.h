// A scripted node::Node for unit tests: commands go to a handler, the process table is a value,
// paths are a set. Forks share the fake (and its records), as forks of a real node share the
// container; every member is guarded, so a node and its forks may be used from several threads.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "node/node.h"

namespace kmps::testing {

class FakeNode : public node::Node {
 public:
  using Handler = std::function<StatusOr<node::CommandResult>(const node::Command&)>;

  explicit FakeNode(std::string name = "n1-control-plane", std::string role = "control-plane", bool running = true,
                    bool gpu = true)
      : Node({std::move(name), std::move(role), running, gpu}) {}

  StatusOr<node::CommandResult> Run(const node::Command& command) override {
    Handler h;
    {
      std::lock_guard<std::mutex> lock(mu);
      commands.push_back(command);
      h = handler;
    }
    if (!h) return node::CommandResult{0, "", ""};
    return h(command);
  }
  StatusOr<node::ProcessTable> Processes(std::string_view ps_args) override {
    std::function<StatusOr<node::ProcessTable>()> h;
    {
      std::lock_guard<std::mutex> lock(mu);
      ++top_calls;
      last_ps_args = std::string(ps_args);
      if (!top_handler) return top;
      h = top_handler;
    }
    return h();
  }
  StatusOr<bool> PathExists(std::string_view path) override {
    std::lock_guard<std::mutex> lock(mu);
    return paths.count(std::string(path)) > 0;
  }
  StatusOr<std::unique_ptr<node::Node>> Fork() override {
    return std::unique_ptr<node::Node>(std::make_unique<Forked>(*this));
  }

  // Rows of PID, PPID, STAT, COMMAND.
  void SetProcesses(std::vector<std::vector<std::string>> rows) {
    std::lock_guard<std::mutex> lock(mu);
    top.titles = {"PID", "PPID", "STAT", "COMMAND"};
    top.processes = std::move(rows);
  }

  std::mutex mu;
  Handler handler;
  std::function<StatusOr<node::ProcessTable>()> top_handler;
  node::ProcessTable top;
  std::set<std::string> paths;
  std::vector<node::Command> commands;
  int top_calls = 0;
  std::string last_ps_args;

 private:
  // The same fake under the same name.
  class Forked : public node::Node {
   public:
    explicit Forked(FakeNode& origin) : Node(origin.info()), origin_(origin) {}
    StatusOr<node::CommandResult> Run(const node::Command& c) override { return origin_.Run(c); }
    StatusOr<node::ProcessTable> Processes(std::string_view a) override { return origin_.Processes(a); }
    StatusOr<bool> PathExists(std::string_view p) override { return origin_.PathExists(p); }
    StatusOr<std::unique_ptr<node::Node>> Fork() override { return origin_.Fork(); }

   private:
    FakeNode& origin_;
  };
};

}  // namespace kmps::testing
