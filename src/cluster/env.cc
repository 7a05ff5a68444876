#include "cluster/env.h"

#include "cluster/state.h"

namespace kmps::cluster {

StatusOr<std::string> FileStateStore::Save(const kind::ClusterConfig& config, const std::string& kind_config_yaml) {
  return SaveState(config, kind_config_yaml);
}

StatusOr<kind::ClusterConfig> FileStateStore::Load(const std::string& cluster) { return LoadSavedConfig(cluster); }

}  // namespace kmps::cluster
