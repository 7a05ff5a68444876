// DOCKER_HOST (docker_api/endpoint.h): the user's environment, any text. What the target hands kind
// for an explicit endpoint (KindEnvironment's DOCKER_HOST) must parse back to the same endpoint.
#include <stdlib.h>

#include <string>

#include "docker_api/docker_context.h"
#include "docker_api/endpoint.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kmps::docker::Endpoint;
  // An empty DOCKER_HOST falls through to DOCKER_CONTEXT and the config file: none here.
  static const bool isolated = [] {
    KMPS_FUZZ_CHECK(setenv("DOCKER_CONFIG", "/nonexistent/kmps-fuzz-docker-config", 1) == 0);
    for (const char* v : {"DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_TLS"}) KMPS_FUZZ_CHECK(unsetenv(v) == 0);
    return true;
  }();
  (void)isolated;
  std::string_view value = kmps::fuzz::Bytes(data, size);
  auto e = kmps::docker::ParseDockerHost(value);
  if (value.find('\0') == std::string_view::npos) {
    // The same through the environment, where an empty value is the default socket.
    KMPS_FUZZ_CHECK(setenv("DOCKER_HOST", std::string(value).c_str(), 1) == 0);
    auto from_env = kmps::docker::EndpointFromEnvironment();
    if (!value.empty()) {
      KMPS_FUZZ_CHECK(from_env.ok() == e.ok());
      if (e.ok()) KMPS_FUZZ_CHECK(from_env->BaseUrl() == e->BaseUrl() && from_env->Describe() == e->Describe());
    } else {
      KMPS_FUZZ_CHECK(from_env.ok() && from_env->socket_path == "/var/run/docker.sock");
    }
  }
  if (!e.ok()) {
    KMPS_FUZZ_CHECK(e.status().code() == kmps::Code::kInvalidArgument);
    return 0;
  }
  KMPS_FUZZ_CHECK(e->original == value);
  if (e->kind == Endpoint::Kind::kUnix) {
    KMPS_FUZZ_CHECK(!e->socket_path.empty() && e->socket_path.front() == '/');
    KMPS_FUZZ_CHECK(e->BaseUrl() == "http://localhost");
  } else {
    KMPS_FUZZ_CHECK(!e->host.empty() && e->port > 0 && e->port <= 65535);
    KMPS_FUZZ_CHECK(e->BaseUrl().starts_with("http://"));
  }
  KMPS_FUZZ_CHECK(!e->Describe().empty());
  auto kind_env = kmps::docker::KindEnvironment(*e);
  KMPS_FUZZ_CHECK(!kind_env.empty() && kind_env[0].starts_with("DOCKER_HOST="));
  auto again = kmps::docker::ParseDockerHost(std::string_view(kind_env[0]).substr(12));
  KMPS_FUZZ_CHECK(again.ok() && again->BaseUrl() == e->BaseUrl() && again->Describe() == e->Describe());
  return 0;
}
