// The docker CLI's endpoint rules (cli/command/cli.go resolveContextName, cli/context/store), so
// that kindmps-api and the docker CLI that kind drives talk to the same engine:
//   1. DOCKER_HOST, when set and not empty;
//   2. else the context DOCKER_CONTEXT names, when set and not empty;
//   3. else the config file's currentContext ($DOCKER_CONFIG/config.json, else
//      ~/.docker/config.json; HOME unset: the passwd entry's home);
//   4. else the default, unix:///var/run/docker.sock.
// The context "default" is rule 4. Any other context is <config dir>/contexts/meta/<sha256 hex of
// its name>/meta.json, whose Endpoints.docker.Host is the engine (empty: the default socket).
// kindmps-api speaks unix:// and tcp:// without TLS: ssh://, npipe:// and TLS (a context's
// SkipTLSVerify or contexts/tls/<sha256>/docker/{ca,cert,key}.pem for a tcp:// host; the default
// context with DOCKER_TLS_VERIFY or DOCKER_TLS set and a tcp:// or no DOCKER_HOST) are refused.
// Every error is kInvalidArgument, one line naming the file and context and what to do.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "docker_api/endpoint.h"

namespace kmps::docker {

// What the rules read besides files: the seam unit tests replace (files are read where the
// config directory says, a temporary one in tests).
struct EndpointEnvironment {
  // An environment variable; nullopt when unset.
  std::function<std::optional<std::string>(const std::string&)> getenv = nullptr;
  // The home directory for ~/.docker when DOCKER_CONFIG is unset or empty.
  std::function<std::string()> home = nullptr;

  // This process: getenv(3); $HOME, else getpwuid(getuid())'s home.
  static EndpointEnvironment OfProcess();
};

// The docker CLI's config directory: $DOCKER_CONFIG, else <home>/.docker.
std::string DockerConfigDir(const EndpointEnvironment& env);

// The directory name of a context in the store: the lower-case hex SHA-256 of its name.
std::string ContextDirName(std::string_view context);

// The currentContext of a config.json's text (`path` for messages); "" when it has none.
StatusOr<std::string> CurrentContextOf(std::string_view config_json, std::string_view path);

// A context's docker endpoint as meta.json (`path`, for messages) holds it.
struct ContextEndpointMeta {
  std::string host;  // "" when the context leaves it to the docker client's default
  bool skip_tls_verify = false;
};
// `source` names the context in messages: `context "foo" (from DOCKER_CONTEXT)`.
StatusOr<ContextEndpointMeta> ParseContextMeta(std::string_view meta_json, std::string_view path,
                                               std::string_view source);

// The endpoint by the rules above, with origin, source and context said.
StatusOr<Endpoint> ResolveEndpoint(const EndpointEnvironment& env);

// What to add to the environment kind inherits ("NAME=value") so that the docker CLI it runs
// talks to `endpoint`: nothing when the endpoint came from the environment (the docker CLI
// follows the same rules in the same environment), else DOCKER_HOST (and for tcp://, empty
// DOCKER_TLS_VERIFY and DOCKER_TLS, so that no TLS setting of the environment applies to it).
std::vector<std::string> KindEnvironment(const Endpoint& endpoint);

}  // namespace kmps::docker
