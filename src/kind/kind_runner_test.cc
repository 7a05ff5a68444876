#include "kind/kind_runner.h"

#include <gtest/gtest.h>

#include <chrono>

namespace kmps::kind {
namespace {

TEST(KindArgs, CreateAndDelete) {
  EXPECT_EQ(CreateClusterArgs("/usr/bin/kind", "demo", "/s/kind-config.yaml", ""),
            (std::vector<std::string>{"/usr/bin/kind", "create", "cluster", "--name", "demo", "--config",
                                      "/s/kind-config.yaml"}));
  EXPECT_EQ(CreateClusterArgs("kind", "demo", "c.yaml", "kindest/node:v1.31.0").back(), "kindest/node:v1.31.0");
  EXPECT_EQ(DeleteClusterArgs("kind", "demo"),
            (std::vector<std::string>{"kind", "delete", "cluster", "--name", "demo"}));
}

TEST(FindExecutable, MissingKindIsAnEnvironmentError) {
  auto r = FindExecutable("kmps-no-such-kind-binary");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kEnvironment);
  EXPECT_NE(r.status().message().find("kmps-no-such-kind-binary not found on PATH"), std::string::npos);
  EXPECT_EQ(FindExecutable("/nonexistent/kind").status().code(), Code::kEnvironment);
  auto sh = FindExecutable("sh");
  ASSERT_TRUE(sh.ok());
  EXPECT_NE(sh->find("/sh"), std::string::npos);
}

TEST(RunProcess, StreamsMergedLinesAndKeepsTheTail) {
  std::vector<std::string> lines;
  auto r = RunProcess({"/bin/sh", "-c", "echo one; echo two >&2; printf three; exit 4"},
                      Deadline::In(std::chrono::seconds(20)), [&](std::string_view l) { lines.emplace_back(l); }, 2);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 4);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(r->tail, (std::deque<std::string>{"two", "three"}));
}

TEST(RunProcess, KillsAProcessPastItsDeadline) {
  auto r = RunProcess({"/bin/sh", "-c", "echo started; exec sleep 30"}, Deadline::In(std::chrono::milliseconds(300)),
                      nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded);
}

TEST(RunProcess, AMissingProgramIsAnEnvironmentError) {
  auto r = RunProcess({"/nonexistent/kind", "version"}, Deadline::In(std::chrono::seconds(5)), nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kEnvironment);
}

}  // namespace
}  // namespace kmps::kind
