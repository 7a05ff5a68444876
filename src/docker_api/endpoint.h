// Where the Docker daemon listens: DOCKER_HOST (unix:// or tcp://), default
// unix:///var/run/docker.sock.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace kmps::docker {

struct Endpoint {
  enum class Kind { kUnix, kTcp };
  Kind kind = Kind::kUnix;
  std::string socket_path = "/var/run/docker.sock";  // kUnix
  std::string host;                                  // kTcp
  int port = 2375;                                   // kTcp
  std::string original;  // the DOCKER_HOST text it was parsed from

  // Human-readable name for messages: the socket path or host:port.
  std::string Describe() const;
  // The URL prefix curl is given: "http://localhost" for unix sockets, "http://host:port" for tcp.
  std::string BaseUrl() const;
};

// Parses a DOCKER_HOST value. Unsupported schemes (ssh://, npipe://, ...) and malformed values are
// kInvalidArgument with a message naming the value.
StatusOr<Endpoint> ParseDockerHost(std::string_view docker_host);

// DOCKER_HOST from the environment, or the default socket when unset or empty.
StatusOr<Endpoint> EndpointFromEnvironment();

}  // namespace kmps::docker
