// Where the Docker daemon listens: unix:// or tcp:// (no TLS), found as the docker CLI finds it
// (docker_context.h: DOCKER_HOST, DOCKER_CONTEXT, the config file's currentContext, the default
// unix:///var/run/docker.sock).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace kmps::docker {

struct Endpoint {
  enum class Kind { kUnix, kTcp };
  // Where the endpoint came from: a value given by the caller (ClientOptions::docker_host, the C
  // API), DOCKER_HOST, a docker context named by DOCKER_CONTEXT or by the config file's
  // currentContext, or the default socket.
  enum class Origin { kExplicit, kDockerHost, kDockerContext, kCurrentContext, kDefault };
  Kind kind = Kind::kUnix;
  std::string socket_path = "/var/run/docker.sock";  // kUnix
  std::string host;                                  // kTcp; an IPv6 literal without brackets
  int port = 2375;                                   // kTcp
  std::string original;  // the host text it was parsed from ("unix:///var/run/docker.sock", ...)
  Origin origin = Origin::kExplicit;
  // Origin for messages: "DOCKER_HOST", "context \"foo\" (from DOCKER_CONTEXT)", "context \"foo\"
  // (currentContext in /root/.docker/config.json)", "default"; empty for kExplicit.
  std::string source;
  std::string context;  // the docker context's name (kDockerContext, kCurrentContext)

  // Human-readable name for messages: the socket path or host:port.
  std::string Describe() const;
  // The URL prefix curl is given: "http://localhost" for unix sockets, "http://host:port" for tcp.
  std::string BaseUrl() const;
};

// Parses a DOCKER_HOST value. Unsupported schemes (ssh://, npipe://, ...) and malformed values are
// kInvalidArgument with a message naming the value: `DOCKER_HOST "<value>": <why>`.
StatusOr<Endpoint> ParseDockerHost(std::string_view docker_host);
// The same with messages that name `what` instead of DOCKER_HOST (a docker context's host).
StatusOr<Endpoint> ParseEngineHost(std::string_view host, std::string_view what);

// The endpoint the docker CLI would use in this process's environment (docker_context.h,
// ResolveEndpoint of EndpointEnvironment::OfProcess()).
StatusOr<Endpoint> EndpointFromEnvironment();

}  // namespace kmps::docker
