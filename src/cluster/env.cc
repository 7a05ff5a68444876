#include "cluster/env.h"

#include "cluster/state.h"
#include "common/file_util.h"

namespace kmps::cluster {

StatusOr<config::ClusterConfig> StateStore::Load(const std::string& cluster) {
  std::string name = cluster.empty() ? config::DefaultClusterConfig().name : cluster;
  KMPS_ASSIGN_OR_RETURN(std::optional<Saved> saved, Find(name));
  if (saved) return std::move(saved->config);
  config::ClusterConfig defaults = config::DefaultClusterConfig();
  defaults.name = name;
  return defaults;
}

StatusOr<std::string> FileStateStore::SaveKindConfig(const std::string& cluster, const std::string& yaml) {
  return cluster::SaveKindConfig(cluster, yaml);
}

Status FileStateStore::Save(const config::ClusterConfig& config) { return SaveState(config); }

StatusOr<std::optional<StateStore::Saved>> FileStateStore::Find(const std::string& cluster) {
  KMPS_ASSIGN_OR_RETURN(std::optional<config::ClusterConfig> config, FindSavedConfig(cluster));
  if (!config) return std::optional<Saved>();
  auto kind_config = ReadRegularFile(KindConfigPath(cluster), kMaxStateFileBytes);
  return std::optional<Saved>(Saved{*std::move(config), kind_config.ok() ? *kind_config : ""});
}

Status FileStateStore::Remove(const std::string& cluster) { return RemoveState(cluster); }

}  // namespace kmps::cluster
