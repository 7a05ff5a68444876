#include "support/docker_test_env.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include <fmt/core.h>

namespace kmps::testing {

bool DockerRequired() {
  const char* v = std::getenv("KMPS_REQUIRE_DOCKER");
  return v != nullptr && std::string_view(v) == "1";
}

StatusOr<std::unique_ptr<docker::DockerClient>> ConnectToDocker() {
  docker::ClientOptions o;
  o.call_timeout = std::chrono::seconds(60);
  KMPS_ASSIGN_OR_RETURN(auto client, docker::DockerClient::Create(o));
  KMPS_RETURN_IF_ERROR(client->Ping());
  return client;
}

std::string UniqueContainerName(std::string_view what) {
  static std::atomic<int> n{0};
  return fmt::format("kmps-test-{}-{}-{}", what, getpid(), n++);
}

nlohmann::json SleeperSpec() {
  return {{"Image", std::string(kTestImage)},
          {"Cmd", {"sleep", "100000"}},
          {"Labels", {{"kmps.test", "1"}}},
          {"HostConfig", {{"CapAdd", {"SYS_ADMIN"}}, {"NetworkMode", "none"}}}};
}

StatusOr<std::string> StartSleeper(docker::DockerClient& client, const std::string& name) {
  KMPS_ASSIGN_OR_RETURN(std::string id, client.CreateContainer(name, SleeperSpec()));
  Status s = client.StartContainer(id);
  if (!s.ok()) {
    (void)client.RemoveContainer(id, true);
    return s;
  }
  return id;
}

std::unique_ptr<docker::DockerClient> DockerContainerTest::client_;
std::string DockerContainerTest::name_;
std::string DockerContainerTest::unavailable_;

void DockerContainerTest::SetUpTestSuite() {
  auto c = ConnectToDocker();
  if (!c.ok()) {
    unavailable_ = c.status().message();
    return;
  }
  client_ = std::move(c).value();
  name_ = UniqueContainerName("suite");
  auto id = StartSleeper(*client_, name_);
  if (!id.ok()) {
    unavailable_ = fmt::format("cannot start test container from {}: {} (run tools/setup-docker.sh)", kTestImage,
                               id.status().message());
    client_.reset();
  }
}

void DockerContainerTest::TearDownTestSuite() {
  if (client_ != nullptr) (void)client_->RemoveContainer(name_, true);
  client_.reset();
  unavailable_.clear();
}

void DockerContainerTest::SetUp() {
  if (client_ != nullptr) return;
  if (DockerRequired()) {
    FAIL() << "Docker engine required (KMPS_REQUIRE_DOCKER=1) but unavailable: " << unavailable_;
  }
  GTEST_SKIP() << "Docker engine unavailable (run tools/setup-docker.sh): " << unavailable_;
}

}  // namespace kmps::testing
