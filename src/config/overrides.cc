#include "config/overrides.h"

#include <cstdlib>

#include <fmt/core.h>

#include "common/size.h"
#include "config/decode.h"

namespace kmps::config {

Status ApplyOverrides(ClusterConfig& config, const ConfigOverrides& o) {
  if (o.name) {
    if (std::string why = ClusterNameProblem(*o.name); !why.empty()) {
      return InvalidArgument(fmt::format("--name \"{}\": {}", *o.name, why));
    }
    config.name = *o.name;
  }
  if (o.workers) {
    if (*o.workers < 0 || *o.workers > kMaxWorkers) {
      return InvalidArgument(fmt::format("--workers {}: expected 0 to {}", *o.workers, kMaxWorkers));
    }
    config.workers = *o.workers;
  }
  if (o.image) config.image = *o.image;
  for (auto [flag, value, field] :
       {std::tuple{"--driver-root", &o.driver_root, &config.driver_root},
        std::tuple{"--dev-root", &o.dev_root, &config.dev_root},
        std::tuple{"--proc-root", &o.proc_root, &config.proc_root}}) {
    if (!*value) continue;
    if ((*value)->empty() || (**value)[0] != '/') {
      return InvalidArgument(fmt::format("{} \"{}\": expected an absolute path", flag, **value));
    }
    *field = **value;
  }
  if (o.shm_size) {
    auto bytes = ParseSize(*o.shm_size);
    if (!bytes.ok()) return InvalidArgument("--shm-size: " + bytes.status().message());
    if (std::string why = ShmSizeProblem(*bytes); !why.empty()) return InvalidArgument("--shm-size: " + why);
    config.shm_size = *o.shm_size;
    config.shm_bytes = *bytes;
  }
  if (o.gpus) {
    auto gpus = ParseGpuAssignment(*o.gpus);
    if (!gpus.ok()) return InvalidArgument("--gpus " + gpus.status().message());
    config.gpus = *std::move(gpus);
  }
  if (o.mps_daemons) {
    auto daemons = ParseDaemons(*o.mps_daemons);
    if (!daemons.ok()) return InvalidArgument("--mps-daemons " + daemons.status().message());
    config.mps.daemons = *daemons;
  }
  if (o.kind_config) {
    if (o.kind_config->empty()) return InvalidArgument("--kind-config: expected the path of a kind config, got \"\"");
    config.kind_config_file = *o.kind_config;
  }
  return ValidateClusterConfig(config);
}

namespace {

// The file, the environment's name, the flags; the kind config too when `with_kind_config`.
StatusOr<ClusterConfig> Load(const std::string& config_path, const ConfigOverrides& overrides, bool with_kind_config) {
  ClusterConfig config = DefaultClusterConfig();
  // ./kindmps.yaml counts when anything is there: a directory or a FIFO of that name is an error,
  // not a file to skip.
  auto loaded = LoadClusterConfig(config_path.empty() ? kDefaultConfigFile : config_path);
  if (loaded.ok()) {
    config = *std::move(loaded);
    // kind's order: the environment beats the file's name.
    if (const char* env = std::getenv("KIND_CLUSTER_NAME"); env != nullptr && *env != '\0') config.name = env;
  } else if (!config_path.empty() || loaded.status().code() != Code::kNotFound) {
    return InvalidArgument(loaded.status().message());
  }
  KMPS_RETURN_IF_ERROR(ApplyOverrides(config, overrides));
  if (with_kind_config) {
    KMPS_RETURN_IF_ERROR(ReadKindConfigFile(config));
  }
  return config;
}

}  // namespace

StatusOr<ClusterConfig> LoadConfigWithOverrides(const std::string& config_path, const ConfigOverrides& overrides) {
  return Load(config_path, overrides, true);
}


StatusOr<std::string> ResolveClusterName(const std::string& flag, const std::string& config_path) {
  ConfigOverrides o;
  if (!flag.empty()) {
    // The flag decides; a kindmps.yaml that happens to be here is not read for it.
    ClusterConfig named = DefaultClusterConfig();
    o.name = flag;
    KMPS_RETURN_IF_ERROR(ApplyOverrides(named, o));
    return named.name;
  }
  // The name only: the kind config (which must agree with it) is not read.
  KMPS_ASSIGN_OR_RETURN(ClusterConfig config, Load(config_path, o, false));
  return config.name;
}

}  // namespace kmps::config
