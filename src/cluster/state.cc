#include "cluster/state.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/core.h>

#include "common/file_util.h"

namespace kmps::cluster {

namespace fs = std::filesystem;

std::string StateDir(const std::string& cluster) {
  if (const char* d = std::getenv("KMPS_STATE_DIR"); d && *d) return fmt::format("{}/{}", d, cluster);
  if (const char* d = std::getenv("XDG_STATE_HOME"); d && *d) return fmt::format("{}/kindmps/{}", d, cluster);
  const char* home = std::getenv("HOME");
  return fmt::format("{}/.local/state/kindmps/{}", home && *home ? home : "/tmp", cluster);
}

nlohmann::json SettingsToJson(const kind::ClusterConfig& c) {
  nlohmann::json limits = nlohmann::json::array();
  for (const auto& l : c.mps.pinned_device_memory_limits) limits.push_back({{"device", l.device}, {"limit", l.limit}});
  nlohmann::json mps = {{"pipeDirectory", c.mps.pipe_directory},
                        {"logDirectory", c.mps.log_directory},
                        {"startServer", c.mps.start_server},
                        {"serverUid", c.mps.server_uid},
                        {"pinnedDeviceMemoryLimits", limits}};
  if (c.mps.default_active_thread_percentage) {
    mps["defaultActiveThreadPercentage"] = *c.mps.default_active_thread_percentage;
  }
  return {{"name", c.name},     {"image", c.image},       {"workers", c.workers},
          {"gpuNodes", c.gpu_nodes}, {"shmSize", c.shm_size}, {"shmBytes", c.shm_bytes},
          {"mps", mps}};
}

StatusOr<kind::ClusterConfig> SettingsFromJson(const nlohmann::json& j) {
  try {
    kind::ClusterConfig c = kind::DefaultClusterConfig();
    c.name = j.at("name").get<std::string>();
    c.image = j.value("image", "");
    c.workers = j.value("workers", 0);
    c.gpu_nodes = j.value("gpuNodes", std::vector<std::string>{});
    c.shm_size = j.value("shmSize", c.shm_size);
    c.shm_bytes = j.value("shmBytes", c.shm_bytes);
    const auto& m = j.at("mps");
    c.mps.pipe_directory = m.value("pipeDirectory", c.mps.pipe_directory);
    c.mps.log_directory = m.value("logDirectory", c.mps.log_directory);
    c.mps.start_server = m.value("startServer", c.mps.start_server);
    c.mps.server_uid = m.value("serverUid", c.mps.server_uid);
    if (m.contains("defaultActiveThreadPercentage")) {
      c.mps.default_active_thread_percentage = m["defaultActiveThreadPercentage"].get<double>();
    }
    for (const auto& l : m.value("pinnedDeviceMemoryLimits", nlohmann::json::array())) {
      c.mps.pinned_device_memory_limits.push_back({l.at("device").get<std::string>(), l.at("limit").get<std::string>()});
    }
    return c;
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(fmt::format("saved cluster state is malformed: {}", e.what()));
  }
}

StatusOr<std::string> SaveState(const kind::ClusterConfig& config, const std::string& kind_config_yaml) {
  fs::path dir = StateDir(config.name);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Failed(fmt::format("cannot create state directory {}: {}", dir.string(), ec.message()));
  fs::path kind_config = dir / "kind-config.yaml";
  KMPS_RETURN_IF_ERROR(WriteFileAtomically(kind_config.string(), kind_config_yaml));
  KMPS_RETURN_IF_ERROR(WriteFileAtomically((dir / "kindmps.json").string(), SettingsToJson(config).dump(2) + "\n"));
  return kind_config.string();
}

StatusOr<kind::ClusterConfig> LoadSavedConfig(const std::string& cluster) {
  kind::ClusterConfig fallback = kind::DefaultClusterConfig();
  if (!cluster.empty()) fallback.name = cluster;
  fs::path path = fs::path(StateDir(fallback.name)) / "kindmps.json";
  std::ifstream in(path);
  if (!in) return fallback;
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument(fmt::format("{}: not JSON (remove it, or run up again)", path.string()));
  auto parsed = SettingsFromJson(j);
  if (!parsed.ok()) return parsed.status().WithContext(path.string());
  if (parsed->name != fallback.name) {
    return InvalidArgument(fmt::format("{}: holds cluster {}, not {}", path.string(), parsed->name, fallback.name));
  }
  return parsed;
}

}  // namespace kmps::cluster
