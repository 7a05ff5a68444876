// The definition behind the opaque kmps_client handle.
#pragma once

#include <memory>

#include "docker_api/docker_client.h"

struct kmps_client {
  std::unique_ptr<kmps::docker::DockerClient> docker;
};
