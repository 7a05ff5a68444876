// CPU time the client spends per Docker API call (Google Benchmark's CPU column is this process's
// CPU time; the daemon's work is in the real-time column only). Needs the engine of
// tools/setup-docker.sh; creates a sleeper container kmps-bench-<pid> and removes it at the end.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include "docker_api/docker_client.h"

namespace {

using kmps::docker::DockerClient;

std::unique_ptr<DockerClient> g_client;
std::string g_node;

void BM_Ping(benchmark::State& state) {
  for (auto _ : state) {
    if (!g_client->Ping().ok()) state.SkipWithError("ping failed");
  }
}
BENCHMARK(BM_Ping);

void BM_InspectContainer(benchmark::State& state) {
  for (auto _ : state) {
    if (!g_client->InspectContainer(g_node).ok()) state.SkipWithError("inspect failed");
  }
}
BENCHMARK(BM_InspectContainer);

void BM_Top(benchmark::State& state) {
  for (auto _ : state) {
    if (!g_client->Top(g_node, "").ok()) state.SkipWithError("top failed");
  }
}
BENCHMARK(BM_Top);

void BM_ExecInspect(benchmark::State& state) {
  kmps::docker::ExecOptions o;
  o.cmd = {"true"};
  auto id = g_client->ExecCreate(g_node, o);
  if (!id.ok()) {
    state.SkipWithError("exec create failed");
    return;
  }
  for (auto _ : state) {
    if (!g_client->ExecInspect(*id).ok()) state.SkipWithError("exec inspect failed");
  }
}
BENCHMARK(BM_ExecInspect);

// A whole exec of `true`: create, start (stream), inspect until the exit code is known.
void BM_ExecTrue(benchmark::State& state) {
  kmps::docker::ExecOptions o;
  o.cmd = {"true"};
  for (auto _ : state) {
    auto r = g_client->ExecCapture(g_node, o);
    if (!r.ok() || r->exit_code != 0) state.SkipWithError("exec failed");
  }
}
BENCHMARK(BM_ExecTrue)->Iterations(50);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  auto c = DockerClient::Create();
  if (!c.ok()) {
    fmt::print(stderr, "bench_docker_api: {}\n", c.status().message());
    return 3;
  }
  g_client = std::move(c).value();
  g_node = fmt::format("kmps-bench-{}", getpid());
  nlohmann::json spec = {{"Image", "kmps-test:busybox"},
                         {"Cmd", {"sleep", "100000"}},
                         {"HostConfig", {{"CapAdd", {"SYS_ADMIN"}}, {"NetworkMode", "none"}}}};
  auto id = g_client->CreateContainer(g_node, spec);
  if (!id.ok() || !g_client->StartContainer(g_node).ok()) {
    fmt::print(stderr, "bench_docker_api: cannot start {}: {} (run tools/setup-docker.sh)\n", g_node,
               id.ok() ? "start failed" : id.status().message());
    (void)g_client->RemoveContainer(g_node, true);
    return 3;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  (void)g_client->RemoveContainer(g_node, true);
  return 0;
}
