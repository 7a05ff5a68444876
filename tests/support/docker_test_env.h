// Shared fixture for tests that need the real Docker engine (started by tools/setup-docker.sh).
//
// When the engine is unreachable the tests SKIP with a clear message, unless the environment sets
// KMPS_REQUIRE_DOCKER=1 (CI), where they FAIL. Containers get a unique name with the pid and are
// removed at the end: other people run tests on the same engine concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/status.h"
#include "docker_api/docker_client.h"

namespace kmps::testing {

inline constexpr std::string_view kTestImage = "kmps-test:busybox";

// True when KMPS_REQUIRE_DOCKER=1.
bool DockerRequired();

// A client on the engine of DOCKER_HOST (or the default socket) that answered a ping; else
// the reason, naming the socket.
StatusOr<std::unique_ptr<docker::DockerClient>> ConnectToDocker();

// "kmps-test-<what>-<pid>-<n>": unique within and across processes.
std::string UniqueContainerName(std::string_view what);

// The create body of a container from kTestImage running `sleep 100000` with CAP_SYS_ADMIN
// (privileged containers fail on these hosts).
nlohmann::json SleeperSpec();

// Creates and starts a sleeper named `name`; returns its id.
StatusOr<std::string> StartSleeper(docker::DockerClient& client, const std::string& name);

// A suite with one running sleeper container shared by its tests, removed after the suite.
// Tests use client() and container(); SetUp skips (or fails, under KMPS_REQUIRE_DOCKER=1) when
// the engine is unreachable.
class DockerContainerTest : public ::testing::Test {
 public:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

 protected:
  void SetUp() override;
  static docker::DockerClient& client() { return *client_; }
  static const std::string& container() { return name_; }

 private:
  static std::unique_ptr<docker::DockerClient> client_;
  static std::string name_;
  static std::string unavailable_;
};

}  // namespace kmps::testing
