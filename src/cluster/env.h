// The seams every cluster flow runs against: where the nodes come from (kind's node provider),
// where kind runs (the host), and where the saved state lives. Production uses Docker, the host
// and the state directory (DockerEnv); tests use fakes.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "docker_api/docker_client.h"
#include "docker_api/docker_context.h"
#include "config/config.h"
#include "node/docker_node.h"
#include "node/host_runner.h"
#include "node/node.h"

namespace kmps::cluster {

class StateStore {
 public:
  virtual ~StateStore() = default;
  // Writes the kind config `up` passes to kind; returns its path.
  virtual StatusOr<std::string> SaveKindConfig(const std::string& cluster, const std::string& kind_config_yaml) = 0;
  // Records the settings of `config` as the cluster's (once they are true).
  virtual Status Save(const config::ClusterConfig& config) = 0;
  // The settings saved for `cluster` and the kind config it was made with, nullopt when none are
  // (state.h FindSavedConfig).
  struct Saved {
    config::ClusterConfig config;
    std::string kind_config;  // "" when it cannot be read
  };
  virtual StatusOr<std::optional<Saved>> Find(const std::string& cluster) = 0;
  // Removes what is kept for `cluster`.
  virtual Status Remove(const std::string& cluster) = 0;

  // Find for `cluster` (empty: the default name), else the defaults under that name.
  StatusOr<config::ClusterConfig> Load(const std::string& cluster);
};

// The state directory (state.h).
class FileStateStore : public StateStore {
 public:
  StatusOr<std::string> SaveKindConfig(const std::string& cluster, const std::string& kind_config_yaml) override;
  Status Save(const config::ClusterConfig& config) override;
  StatusOr<std::optional<Saved>> Find(const std::string& cluster) override;
  Status Remove(const std::string& cluster) override;
};

struct Env {
  node::Provider& provider;
  node::Commander& host;
  StateStore& state;
};

// The production seams over one Docker client.
class DockerEnv {
 public:
  // kind runs with the environment that points its docker CLI at the client's engine (a client
  // made for another DOCKER_HOST than the environment's, as the C API's kmps_client_new allows).
  explicit DockerEnv(docker::DockerClient& client) : provider_(client) {
    host_.SetEnvironment(docker::KindEnvironment(client.endpoint()));
  }
  Env env() { return {provider_, host_, state_}; }

 private:
  node::DockerProvider provider_;
  node::HostRunner host_;
  FileStateStore state_;
};

}  // namespace kmps::cluster
