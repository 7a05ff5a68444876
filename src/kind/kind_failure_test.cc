#include "kind/kind_failure.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

namespace kmps::kind {
namespace {

KindOutput Fed(const std::deque<std::string>& lines) {
  KindOutput output;
  for (const auto& l : lines) output.Add(l);
  return output;
}

std::string KindErrorLine(const std::deque<std::string>& lines) { return Fed(lines).ErrorLine(); }

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

// kubeadm init failed: kind's ERROR line, then kubeadm's output and a Go stack trace, far more
// than a tail holds.
std::vector<std::string> KubeadmInitFailed() {
  std::vector<std::string> lines = {
      "Creating cluster \"c\" ...",
      " \u2713 Preparing nodes \U0001F4E6",
      " \u2717 Starting control-plane \U0001F579\uFE0F",
      "Deleted nodes: [\"c-control-plane\"]",
      "ERROR: failed to create cluster: failed to init node with kubeadm: command \"docker exec --privileged "
      "c-control-plane kubeadm init --skip-phases=preflight --config=/kind/kubeadm.conf --skip-token-print "
      "--v=6\" failed with error: exit status 1",
      "Command Output: I1201 22:01:02.123456     215 initconfiguration.go:255] loading configuration from "
      "\"/kind/kubeadm.conf\"",
  };
  for (int i = 0; i < 120; ++i) {
    lines.push_back("I1201 22:01:03.000000     215 round_trippers.go:553] GET https://c-control-plane:6443/healthz"
                    "?timeout=10s  in 0 milliseconds");
  }
  lines.push_back("[kubelet-check] The kubelet is not healthy after 4m0.000532124s");
  lines.push_back("error execution phase wait-control-plane: could not initialize a Kubernetes cluster");
  lines.push_back("k8s.io/kubernetes/cmd/kubeadm/app/cmd/phases/workflow.(*Runner).Run.func1");
  for (int i = 0; i < 30; ++i) {
    lines.push_back("\tk8s.io/kubernetes/vendor/github.com/spf13/cobra.(*Command).execute");
    lines.push_back("\t\t/go/src/k8s.io/kubernetes/vendor/github.com/spf13/cobra/command.go:940");
  }
  lines.push_back("runtime.goexit");
  lines.push_back("\t/usr/local/go/src/runtime/asm_amd64.s:1700");
  return lines;
}

TEST(KindOutput, KubeadmInitFailedIsReportedByKindsErrorLineNotTheStackTrace) {
  KindOutput output;
  std::deque<std::string> tail;
  for (const auto& l : KubeadmInitFailed()) {
    output.Add(l);
    tail.push_back(l);
    if (tail.size() > 20) tail.pop_front();
  }
  const std::string kExpected =
      "ERROR: failed to create cluster: failed to init node with kubeadm: command \"docker exec --privileged "
      "c-control-plane kubeadm init --skip-phases=preflight --config=/kind/kubeadm.conf --skip-token-print --v=6\" "
      "failed with error: exit status 1";
  EXPECT_EQ(output.ErrorLine(), kExpected);
  EXPECT_EQ(DescribeKindFailure("kind create cluster --name c", 1, output),
            "kind create cluster --name c failed (exit 1): " + kExpected);
  EXPECT_EQ(KindErrorLine(tail), "/usr/local/go/src/runtime/asm_amd64.s:1700");  // what a tail alone saw
}

TEST(KindOutput, TheDaemonsRefusalAfterTheLastErrorLineWins) {
  KindOutput output;
  output.Add("Command Output: docker: Error response from daemon: an earlier one");
  output.Add("ERROR: failed to create cluster: command \"docker run --name c-control-plane ...\" failed with "
             "error: exit status 125");
  EXPECT_EQ(output.ErrorLine(), "ERROR: failed to create cluster: command \"docker run --name c-control-plane ...\" "
                                "failed with error: exit status 125");  // the earlier refusal is not this error's
  output.Add("Command Output: docker: Error response from daemon: Conflict. The container name is in use.");
  for (int i = 0; i < 50; ++i) output.Add("\t/usr/local/go/src/runtime/proc.go:267");
  output.Add("See 'docker run --help'.");
  EXPECT_EQ(output.ErrorLine(), "docker: Error response from daemon: Conflict. The container name is in use.");
}

TEST(KindOutput, AnErrorLineIsCutAfterTheErrorsFirstClause) {
  KindOutput output;
  output.Add("ERROR: failed to create cluster: command \"x\" failed with error: exit status 1; and much more");
  EXPECT_EQ(output.ErrorLine(), "ERROR: failed to create cluster: command \"x\" failed with error: exit status 1");
}

TEST(DescribeKindFailure, NamesTheCommandTheExitAndTheReason) {
  EXPECT_EQ(DescribeKindFailure("kind create cluster --name c", 1, Fed(kDockerRunFailed)),
            "kind create cluster --name c failed (exit 1): docker: Error response from daemon: invalid mount config "
            "for type \"bind\": bind source path does not exist: /nope.");
  EXPECT_EQ(DescribeKindFailure("kind delete cluster --name c", 1, Fed({})),
            "kind delete cluster --name c failed (exit 1)");
}

TEST(DescribeKindFailure, OneBoundedLineWhateverKindPrinted) {
  KindOutput output;
  output.Add("ERROR: failed to create cluster: " + std::string(20'000, 'x') + "\u2713 tail");
  std::string message = DescribeKindFailure("kind create cluster --name c", 1, output);
  const std::string prefix = "kind create cluster --name c failed (exit 1): ERROR: failed to create cluster: xxx";
  EXPECT_EQ(message.substr(0, prefix.size()), prefix);
  EXPECT_EQ(message.size(), std::string("kind create cluster --name c failed (exit 1): ").size() + kQuotedLineMax +
                                std::string("\u2026").size());
  EXPECT_EQ(message.substr(message.size() - 3), "\u2026");
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST(DescribeKindFailure, ControlCharactersAndBinaryAreEscaped) {
  KindOutput output;
  output.Add("\x1b[31mERROR: failed to create cluster: \xff\xfe\x01 bad\x1b[0m");
  output.Add("Command Output: docker: Error response from daemon: no\rpe\n");
  EXPECT_EQ(DescribeKindFailure("kind create cluster --name c", 1, output),
            "kind create cluster --name c failed (exit 1): docker: Error response from daemon: no\\x0dpe");
  KindOutput colour;
  colour.Add("\x1b[31mpanic: \xff\x01 bad\x1b[0m");
  EXPECT_EQ(DescribeKindFailure("kind delete cluster --name c\n", 2, colour),
            "kind delete cluster --name c\\x0a failed (exit 2): \\x1b[31mpanic: \\xff\\x01 bad\\x1b[0m");
}

TEST(QuotedLine, CutOnACharacterPastTheLimit) {
  EXPECT_EQ(QuotedLine("short"), "short");
  std::string exactly(kQuotedLineMax, 'a');
  EXPECT_EQ(QuotedLine(exactly), exactly);
  std::string line = std::string(kQuotedLineMax - 1, 'a') + "\u2713\u2713";  // the limit inside a character
  EXPECT_EQ(QuotedLine(line), std::string(kQuotedLineMax - 1, 'a') + "\u2026");
  EXPECT_LE(QuotedLine(std::string(10'000, '\x1b')).size(), kQuotedLineMax + 3);  // escapes count too
}

}  // namespace
}  // namespace kmps::kind
