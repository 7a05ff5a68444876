#include "kind/kind_failure.h"

#include <gtest/gtest.h>

namespace kmps::kind {
namespace {

// What kind v0.33 prints when `docker run` of a node fails (after its progress lines).
const std::deque<std::string> kDockerRunFailed = {
    "Creating cluster \"c\" ...",
    " \u2717 Preparing nodes \U0001F4E6",
    "ERROR: failed to create cluster: command \"docker run --name c-control-plane --hostname c-control-plane "
    "--label io.x-k8s.kind.role=control-plane --privileged ...\" failed with error: exit status 125",
    "Command Output: docker: Error response from daemon: invalid mount config for type \"bind\": bind source "
    "path does not exist: /nope.",
    "See 'docker run --help'.",
};

TEST(KindErrorLine, TheDaemonsRefusalNotTheHelpPointer) {
  EXPECT_EQ(KindErrorLine(kDockerRunFailed),
            "docker: Error response from daemon: invalid mount config for type \"bind\": bind source path does "
            "not exist: /nope.");
}

TEST(KindErrorLine, NewerDockerClisEndWithRunHelp) {
  std::deque<std::string> lines = {
      "ERROR: failed to create cluster: command \"docker run --name c-control-plane ...\" failed with error: "
      "exit status 125",
      "Command Output: docker: Error response from daemon: failed to create task for container: unable to "
      "apply caps: operation not permitted",
      "",
      "Run 'docker run --help' for more information",
  };
  EXPECT_EQ(KindErrorLine(lines),
            "docker: Error response from daemon: failed to create task for container: unable to apply caps: "
            "operation not permitted");
}

TEST(KindErrorLine, ADockerLineWithoutTheDaemon) {
  std::deque<std::string> lines = {"ERROR: failed to create cluster: command \"docker run ...\" failed",
                                   "Command Output: docker: invalid reference format.", "See 'docker run --help'."};
  EXPECT_EQ(KindErrorLine(lines), "docker: invalid reference format.");
}

TEST(KindErrorLine, ElseTheLastErrorLine) {
  std::deque<std::string> lines = {"ERROR: first", "ERROR: failed to delete cluster \"c\": failed to lock config "
                                                   "file: open /root/.kube/config.lock: file exists",
                                   "   "};
  EXPECT_EQ(KindErrorLine(lines),
            "ERROR: failed to delete cluster \"c\": failed to lock config file: open /root/.kube/config.lock: "
            "file exists");
}

TEST(KindErrorLine, ElseTheLastLineAndNeverTheBoilerplate) {
  EXPECT_EQ(KindErrorLine({"panic: something", "", ""}), "panic: something");
  EXPECT_EQ(KindErrorLine({"Run 'docker run --help' for more information"}), "");
  EXPECT_EQ(KindErrorLine({}), "");
}

TEST(DescribeKindFailure, NamesTheCommandTheExitAndTheReason) {
  ProcessResult r;
  r.exit_code = 1;
  r.tail = kDockerRunFailed;
  EXPECT_EQ(DescribeKindFailure("kind create cluster --name c", r),
            "kind create cluster --name c failed (exit 1): docker: Error response from daemon: invalid mount config "
            "for type \"bind\": bind source path does not exist: /nope.");
  r.tail.clear();
  EXPECT_EQ(DescribeKindFailure("kind delete cluster --name c", r), "kind delete cluster --name c failed (exit 1)");
}

}  // namespace
}  // namespace kmps::kind
