// The seams every cluster flow runs against: where the nodes come from (kind's node provider),
// where kind runs (the host), and where the saved state lives. Production uses Docker, the host
// and the state directory (DockerEnv); tests use fakes.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "docker_api/docker_client.h"
#include "config/config.h"
#include "node/docker_node.h"
#include "node/host_runner.h"
#include "node/node.h"

namespace kmps::cluster {

class StateStore {
 public:
  virtual ~StateStore() = default;
  // Saves the kind config and the settings of `config`; returns the kind config's path.
  virtual StatusOr<std::string> Save(const config::ClusterConfig& config, const std::string& kind_config_yaml) = 0;
  // The settings saved for `cluster` (empty: the default name).
  virtual StatusOr<config::ClusterConfig> Load(const std::string& cluster) = 0;
};

// The state directory (state.h).
class FileStateStore : public StateStore {
 public:
  StatusOr<std::string> Save(const config::ClusterConfig& config, const std::string& kind_config_yaml) override;
  StatusOr<config::ClusterConfig> Load(const std::string& cluster) override;
};

struct Env {
  node::Provider& provider;
  node::Commander& host;
  StateStore& state;
};

// The production seams over one Docker client.
class DockerEnv {
 public:
  explicit DockerEnv(docker::DockerClient& client) : provider_(client) {}
  Env env() { return {provider_, host_, state_}; }

 private:
  node::DockerProvider provider_;
  node::HostRunner host_;
  FileStateStore state_;
};

}  // namespace kmps::cluster
