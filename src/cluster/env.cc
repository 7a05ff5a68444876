#include "cluster/env.h"

#include "cluster/state.h"

namespace kmps::cluster {

StatusOr<std::string> FileStateStore::Save(const config::ClusterConfig& config, const std::string& kind_config_yaml) {
  return SaveState(config, kind_config_yaml);
}

StatusOr<config::ClusterConfig> FileStateStore::Load(const std::string& cluster) { return LoadSavedConfig(cluster); }

}  // namespace kmps::cluster
