#include "node/node.h"

#include "node/host_runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <chrono>
#include <string>
#include <thread>

namespace kmps::node {
namespace {

TEST(ParallelFor, RunsEveryItemOnceWithBoundedThreads) {
  constexpr size_t kItems = 40;
  std::vector<std::atomic<int>> seen(kItems);
  std::atomic<int> running{0}, peak{0};
  auto results = ParallelFor(kItems, [&](size_t i) {
    int now = ++running;
    for (int p = peak.load(); now > p && !peak.compare_exchange_weak(p, now);) {
    }
    ++seen[i];
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    --running;
    return i % 7 == 3 ? Failed("item " + std::to_string(i)) : Status::Ok();
  });
  ASSERT_EQ(results.size(), kItems);
  for (size_t i = 0; i < kItems; ++i) {
    EXPECT_EQ(seen[i].load(), 1) << i;
    EXPECT_EQ(results[i].ok(), i % 7 != 3) << i;
  }
  EXPECT_LE(peak.load(), static_cast<int>(kMaxParallel));
  EXPECT_GT(peak.load(), 1);
  EXPECT_TRUE(ParallelFor(0, [](size_t) { return Failed("never"); }).empty());
}

Command Shell(const std::string& script) {
  Command c;
  c.argv = {"/bin/sh", "-c", script};
  c.timeout = std::chrono::seconds(20);
  return c;
}

TEST(HostRunner, RunsOnTheHostWithTheEnvironmentItIsGiven) {
  HostRunner host;
  Command c = Shell("echo one; echo two >&2; exit 3");
  auto r = host.Run(c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "one\ntwo\n");  // merged, as kind's output is read
  // The runner's entries replace the inherited ones (DockerEnv's DOCKER_HOST), the command's
  // replace those; the rest is inherited.
  setenv("KMPS_HOST_RUNNER_A", "inherited", 1);
  setenv("KMPS_HOST_RUNNER_B", "inherited", 1);
  host.SetEnvironment({"KMPS_HOST_RUNNER_A=runner", "KMPS_HOST_RUNNER_C=runner"});
  Command e = Shell("echo $KMPS_HOST_RUNNER_A $KMPS_HOST_RUNNER_B $KMPS_HOST_RUNNER_C; env | grep -c '^KMPS_HOST_RUNNER_A='");
  r = host.Run(e);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->out, "runner inherited runner\n1\n");
  e.env = {"KMPS_HOST_RUNNER_C=command"};
  EXPECT_EQ(host.Run(e)->out, "runner inherited command\n1\n");
  unsetenv("KMPS_HOST_RUNNER_A");
  unsetenv("KMPS_HOST_RUNNER_B");
}

TEST(HostRunner, CapturedOutputIsBounded) {
  HostRunner host;
  auto r = host.Run(Shell("head -c 3000000 /dev/zero | tr '\\0' '\\n'; echo last"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_LE(r->out.size(), HostRunner::kMaxCaptured + 64);
  EXPECT_EQ(r->out.substr(0, 3), "\n\n\n");
  const std::string kEnd = "more lines cut]\n";
  EXPECT_EQ(r->out.substr(r->out.size() - kEnd.size()), kEnd) << r->out.substr(r->out.size() - 64);
}

// kind exits while a process it started goes on: stopped after the grace, and said so on a line.
TEST(HostRunner, SaysWhenItStoppedWhatTheCommandLeft) {
  kind::RunLimits limits;
  limits.leftover_grace = std::chrono::milliseconds(200);
  HostRunner host(limits);
  auto r = host.Run(Shell("sleep 30 & echo started"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out, "started\n/bin/sh exited; processes it started were still running 0.2 s later and were stopped\n");
}

}  // namespace
}  // namespace kmps::node
