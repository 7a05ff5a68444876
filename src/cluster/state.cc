#include "cluster/state.h"

#include <cstdlib>
#include <filesystem>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "cluster/env.h"
#include "common/file_util.h"
#include "common/text.h"
#include "common/json_text.h"

namespace kmps {
namespace {

// A field of the state file that is not as `up` writes it; what() is "/json/pointer: why".
struct StateError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// j.at(key) into `out`; its errors, and those of a nested from_json, name the field's path.
template <typename T>
void Read(const nlohmann::json& j, const char* key, T& out) {
  if (!j.is_object()) throw StateError(fmt::format(": expected an object, got {}", j.type_name()));
  if (!j.contains(key)) throw StateError(fmt::format("/{}: missing", key));
  try {
    j.at(key).get_to(out);
  } catch (const StateError& e) {
    throw StateError(fmt::format("/{}{}", key, e.what()));
  } catch (const nlohmann::json::exception& e) {
    std::string_view what = e.what();  // "[json.exception.type_error.302] type must be string, but is number"
    throw StateError(fmt::format("/{}: {}", key, what.substr(what.find("] ") + 2)));
  }
}

}  // namespace
}  // namespace kmps

// nlohmann's conversions of the settings that outlive `up`, found by ADL in the types' namespace;
// only the state file uses them. Reading takes every field; what the file holds beyond them is
// found by LoadSavedConfig's round trip.
namespace kmps::config {

static void to_json(nlohmann::json& j, const MpsSettings::PinnedLimit& l) {
  j = {{"device", l.device}, {"limit", l.limit}};
}

static void from_json(const nlohmann::json& j, MpsSettings::PinnedLimit& l) {
  Read(j, "device", l.device);
  Read(j, "limit", l.limit);
}

static void to_json(nlohmann::json& j, const MpsSettings::GpuSettings& g) {
  j = {{"gpu", g.gpu}};
  if (g.default_active_thread_percentage) j["defaultActiveThreadPercentage"] = *g.default_active_thread_percentage;
  if (!g.pinned_device_memory_limit.empty()) j["pinnedDeviceMemoryLimit"] = g.pinned_device_memory_limit;
}

static void from_json(const nlohmann::json& j, MpsSettings::GpuSettings& g) {
  Read(j, "gpu", g.gpu);
  if (j.contains("defaultActiveThreadPercentage")) {
    Read(j, "defaultActiveThreadPercentage", g.default_active_thread_percentage.emplace());
  }
  if (j.contains("pinnedDeviceMemoryLimit")) Read(j, "pinnedDeviceMemoryLimit", g.pinned_device_memory_limit);
}

static void to_json(nlohmann::json& j, const MpsSettings& m) {
  j = {{"pipeDirectory", m.pipe_directory}, {"logDirectory", m.log_directory},
       {"startServer", m.start_server},     {"serverUid", m.server_uid},
       {"pinnedDeviceMemoryLimits", m.pinned_device_memory_limits}};
  if (m.default_active_thread_percentage) j["defaultActiveThreadPercentage"] = *m.default_active_thread_percentage;
  // Only for a daemon per GPU, so that a state file of before keeps its exact round trip.
  if (m.daemons != MpsSettings::Daemons::kPerNode) j["daemons"] = DaemonsText(m.daemons);
  if (!m.per_gpu.empty()) j["perGpu"] = m.per_gpu;
}

static void from_json(const nlohmann::json& j, MpsSettings& m) {
  Read(j, "pipeDirectory", m.pipe_directory);
  Read(j, "logDirectory", m.log_directory);
  Read(j, "startServer", m.start_server);
  Read(j, "serverUid", m.server_uid);
  Read(j, "pinnedDeviceMemoryLimits", m.pinned_device_memory_limits);
  if (j.contains("defaultActiveThreadPercentage")) {
    Read(j, "defaultActiveThreadPercentage", m.default_active_thread_percentage.emplace());
  }
  if (j.contains("daemons")) {
    std::string text;
    Read(j, "daemons", text);
    auto daemons = ParseDaemons(text);
    if (!daemons.ok()) throw StateError("/mps/daemons: " + daemons.status().message());
    m.daemons = *daemons;
  }
  if (j.contains("perGpu")) Read(j, "perGpu", m.per_gpu);
}

static void to_json(nlohmann::json& j, const ClusterConfig& c) {
  j = {{"name", c.name},         {"image", c.image},       {"workers", c.workers}, {"gpuNodes", c.gpu_nodes},
       {"shmSize", c.shm_size}, {"shmBytes", c.shm_bytes}, {"mps", c.mps}};
  // Only when the GPUs were assigned, so that a state file of before keeps its exact round trip.
  if (c.gpus.mode != GpuAssignment::Mode::kAll) j["gpus"] = GpuAssignmentText(c.gpus);
}

static void from_json(const nlohmann::json& j, ClusterConfig& c) {
  Read(j, "name", c.name);
  Read(j, "image", c.image);
  Read(j, "workers", c.workers);
  Read(j, "gpuNodes", c.gpu_nodes);
  Read(j, "shmSize", c.shm_size);
  Read(j, "shmBytes", c.shm_bytes);
  Read(j, "mps", c.mps);
  if (j.contains("gpus")) {
    std::string text;
    Read(j, "gpus", text);
    auto gpus = ParseGpuAssignment(text);
    if (!gpus.ok()) throw StateError("/gpus: " + gpus.status().message());
    c.gpus = *std::move(gpus);
  }
}

}  // namespace kmps::config

namespace kmps::cluster {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kStateFile = "kindmps.json";
constexpr const char* kStateApiVersion = config::kConfigApiVersion;  // one API version for both documents
constexpr const char* kStateKind = "ClusterState";

// The whole file `up` writes for `config`.
json StateDocument(const config::ClusterConfig& config) {
  json j = config;
  j["apiVersion"] = kStateApiVersion;
  j["kind"] = kStateKind;
  return j;
}

// Where `got` differs from `want`, e.g. "/mps/extra: unknown field"; "" when nowhere. Numbers are
// compared as written (nlohmann's == takes -1 for 2^64-1). What `want` has and `got` lacks, at()
// reported already.
std::string Difference(const json& want, const json& got, const std::string& at = "") {
  if (want.is_object() && got.is_object()) {
    for (const auto& [key, value] : got.items()) {
      std::string path = at + "/" + key;
      if (!want.contains(key)) return path + ": unknown field";
      if (std::string d = Difference(want.at(key), value, path); !d.empty()) return d;
    }
    return "";
  }
  if (want.is_array() && got.is_array() && want.size() == got.size()) {
    for (size_t i = 0; i < got.size(); ++i) {
      if (std::string d = Difference(want[i], got[i], at + "/" + std::to_string(i)); !d.empty()) return d;
    }
    return "";
  }
  return want.dump() == got.dump() ? "" : fmt::format("{}: unexpected value {}", at, got.dump());
}

// Why `j` is not a state file that `up` of this version writes; "" when it is one.
std::string Check(const json& j, config::ClusterConfig& config) {
  if (!j.is_object()) return fmt::format("expected a JSON object, got {}", j.type_name());
  for (auto [key, want] : {std::pair{"apiVersion", kStateApiVersion}, std::pair{"kind", kStateKind}}) {
    auto it = j.find(key);
    if (it == j.end() || *it != want) {
      return fmt::format("{} is {}, expected \"{}\" (another kindmps-api version wrote it)", key,
                         it == j.end() ? "missing" : it->dump(), want);
    }
  }
  try {
    j.get_to(config);
  } catch (const StateError& e) {
    return e.what();
  }
  // What was read, written again, must be the file: else it holds a field `up` does not write, or
  // a value get_to() converted (2.5 read as the integer 2, -1 as 2^64-1).
  return Difference(StateDocument(config), j);
}

}  // namespace

std::string StateDir(const std::string& cluster) {
  if (const char* d = std::getenv("KMPS_STATE_DIR"); d && *d) return fmt::format("{}/{}", d, cluster);
  if (const char* d = std::getenv("XDG_STATE_HOME"); d && *d) return fmt::format("{}/kindmps/{}", d, cluster);
  const char* home = std::getenv("HOME");
  return fmt::format("{}/.local/state/kindmps/{}", home && *home ? home : "/tmp", cluster);
}

std::string KindConfigPath(const std::string& cluster) { return StateDir(cluster) + "/kind-config.yaml"; }

namespace {

// Writes `text` as `file` of the state dir of `cluster`, made if need be.
StatusOr<std::string> WriteStateFile(const std::string& cluster, const char* file, const std::string& text) {
  fs::path dir = StateDir(cluster);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Failed(fmt::format("cannot create state directory {}: {}", dir.string(), ec.message()));
  std::string path = (dir / file).string();
  KMPS_RETURN_IF_ERROR(WriteFileAtomically(path, text));
  return path;
}

}  // namespace

StatusOr<std::string> SaveKindConfig(const std::string& cluster, const std::string& kind_config_yaml) {
  return WriteStateFile(cluster, "kind-config.yaml", kind_config_yaml);
}

Status SaveState(const config::ClusterConfig& config) {
  return WriteStateFile(config.name, kStateFile, JsonText(StateDocument(config)) + "\n").status();
}

StatusOr<std::optional<config::ClusterConfig>> FindSavedConfig(const std::string& cluster) {
  if (std::string why = config::ClusterNameProblem(cluster); !why.empty()) {
    return InvalidArgument(fmt::format("cluster name \"{}\" is invalid: {}", cluster, why));
  }
  config::ClusterConfig config = config::DefaultClusterConfig();
  config.name = cluster;
  std::string path = (fs::path(StateDir(cluster)) / kStateFile).string();
  const std::string what_to_do = "run kindmps-api up again to rewrite it (or remove the file)";
  auto text = ReadRegularFile(path, kMaxStateFileBytes);
  if (!text.ok() && text.status().code() == Code::kNotFound) return std::optional<config::ClusterConfig>();
  if (!text.ok()) return InvalidArgument(fmt::format("state file {}; {}", text.status().message(), what_to_do));
  auto invalid = [&](const std::string& where_why) {
    return InvalidArgument(fmt::format("{}{}; {}", path, where_why, what_to_do));
  };
  json j;
  try {
    j = json::parse(*text);
  } catch (const json::parse_error& e) {
    return invalid(":" + JsonParseErrorAt(*text, e.byte, e.what()));
  } catch (const json::exception& e) {  // a number too large for a double (1e400), ...
    std::string_view what = e.what();
    return invalid(fmt::format(": invalid JSON: {}", what.substr(what.find("] ") + 2)));
  }
  if (std::string why = Check(j, config); !why.empty()) return invalid(": " + why);
  if (config.name != cluster) return invalid(fmt::format(": holds cluster {}, not {}", config.name, cluster));
  if (Status valid = config::ValidateClusterConfig(config); !valid.ok()) return invalid(": " + valid.message());
  return std::optional<config::ClusterConfig>(std::move(config));
}

StatusOr<config::ClusterConfig> LoadSavedConfig(const std::string& cluster) {
  FileStateStore store;
  return store.Load(cluster);
}

Status RemoveState(const std::string& cluster) {
  std::error_code ec;
  fs::remove_all(StateDir(cluster), ec);
  if (ec) return Failed(fmt::format("cannot remove state directory {}: {}", StateDir(cluster), ec.message()));
  return Status::Ok();
}

}  // namespace kmps::cluster
