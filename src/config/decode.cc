#include "config/decode.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include <fmt/core.h>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "common/file_util.h"
#include "common/size.h"
#include "common/number.h"
#include "common/text.h"
#include "config/kind_config.h"
#include "config/yaml_reader.h"

namespace kmps::config {
namespace {

using Reader = YamlReader;

Status ParseExtraMounts(const Reader& r, const YAML::Node& n, std::vector<ExtraMount>& out) {
  if (!n.IsSequence()) return r.Error(n, fmt::format("extraMounts: expected a list, got {}", YamlNodeKind(n)));
  for (size_t i = 0; i < n.size(); ++i) {
    std::string where = fmt::format("extraMounts[{}]", i);
    ExtraMount m;
    m.read_only = false;  // kind's default
    KMPS_RETURN_IF_ERROR(r.ForEach(
        n[i], where, {"hostPath", "containerPath", "readOnly", "propagation"},
        [&](const std::string& k, const YAML::Node& v) -> Status {
          std::string what = where + "." + k;
          if (k == "hostPath") {
            KMPS_ASSIGN_OR_RETURN(m.host_path, r.String(v, what));
            if (m.host_path.empty()) return r.Error(v, what + ": expected a path, got \"\"");
          } else if (k == "containerPath") {
            KMPS_ASSIGN_OR_RETURN(m.container_path, r.AbsolutePath(v, what));
          } else if (k == "readOnly") {
            KMPS_ASSIGN_OR_RETURN(m.read_only, r.Bool(v, what));
          } else if (k == "propagation") {
            KMPS_ASSIGN_OR_RETURN(m.propagation, r.String(v, what));
            if (m.propagation != "None" && m.propagation != "HostToContainer" &&
                m.propagation != "Bidirectional") {
              return r.Error(v, fmt::format("{}: expected None, HostToContainer or Bidirectional, "
                                            "got \"{}\"", what, m.propagation));
            }
          }
          return Status::Ok();
        }));
    if (m.host_path.empty() || m.container_path.empty()) {
      return r.Error(n[i], fmt::format("{}: hostPath and containerPath are both required", where));
    }
    out.push_back(std::move(m));
  }
  return Status::Ok();
}

// mps.perGpu: [{gpu: 0, defaultActiveThreadPercentage: 50, pinnedDeviceMemoryLimit: 2G}, ...]. That
// it goes with mps.daemons: perGpu is checked once the whole mapping is read.
Status ParsePerGpu(const Reader& r, const YAML::Node& v, MpsSettings& mps) {
  if (!v.IsSequence()) return r.Error(v, fmt::format("mps.perGpu: expected a list, got {}", YamlNodeKind(v)));
  for (size_t i = 0; i < v.size(); ++i) {
    std::string item = fmt::format("mps.perGpu[{}]", i);
    MpsSettings::GpuSettings g;
    KMPS_RETURN_IF_ERROR(r.ForEach(
        v[i], item, {"gpu", "defaultActiveThreadPercentage", "pinnedDeviceMemoryLimit"},
        [&](const std::string& k, const YAML::Node& x) -> Status {
          std::string at = item + "." + k;
          if (k == "defaultActiveThreadPercentage") {
            KMPS_ASSIGN_OR_RETURN(double p, r.Number(x, at, 100));
            if (!(p > 0)) return r.Error(x, fmt::format("{}: expected a percentage in (0, 100], got {}", at, x.Scalar()));
            g.default_active_thread_percentage = p;
            return Status::Ok();
          }
          KMPS_ASSIGN_OR_RETURN(std::string value, r.String(x, at));
          std::string why = k == "gpu" ? GpuRefProblem(value) : PinnedLimitProblem(value);
          if (!why.empty()) return r.Error(x, fmt::format("{}: {}", at, why));
          for (const auto& seen : mps.per_gpu) {
            if (k == "gpu" && AsciiLower(seen.gpu) == AsciiLower(value)) {
              return r.Error(x, fmt::format("{}: GPU {} is listed twice", at, value));
            }
          }
          (k == "gpu" ? g.gpu : g.pinned_device_memory_limit) = value;
          return Status::Ok();
        }));
    if (g.gpu.empty()) return r.Error(v[i], item + ": gpu is required (a device minor or a UUID)");
    mps.per_gpu.push_back(std::move(g));
  }
  return Status::Ok();
}

Status ParseMps(const Reader& r, const YAML::Node& n, MpsSettings& mps) {
  return r.ForEach(
      n, "mps",
      {"pipeDirectory", "logDirectory", "startServer", "serverUid", "defaultActiveThreadPercentage",
       "pinnedDeviceMemoryLimits", "daemons", "perGpu"},
      [&](const std::string& k, const YAML::Node& v) -> Status {
        std::string what = "mps." + k;
        if (k == "pipeDirectory") {
          KMPS_ASSIGN_OR_RETURN(mps.pipe_directory, r.AbsolutePath(v, what));
        } else if (k == "logDirectory") {
          KMPS_ASSIGN_OR_RETURN(mps.log_directory, r.AbsolutePath(v, what));
        } else if (k == "startServer") {
          KMPS_ASSIGN_OR_RETURN(mps.start_server, r.Bool(v, what));
        } else if (k == "serverUid") {
          KMPS_ASSIGN_OR_RETURN(int64_t uid, r.Count(v, what, std::numeric_limits<int32_t>::max()));
          mps.server_uid = static_cast<int>(uid);
        } else if (k == "defaultActiveThreadPercentage") {
          KMPS_ASSIGN_OR_RETURN(double p, r.Number(v, what, 100));
          if (!(p > 0)) {
            return r.Error(v, fmt::format("{}: expected a percentage in (0, 100], got {}", what, v.Scalar()));
          }
          mps.default_active_thread_percentage = p;
        } else if (k == "daemons") {
          KMPS_ASSIGN_OR_RETURN(std::string text, r.String(v, what));
          auto daemons = ParseDaemons(text);
          if (!daemons.ok()) return r.Error(v, fmt::format("{}: {}", what, daemons.status().message()));
          mps.daemons = *daemons;
        } else if (k == "perGpu") {
          return ParsePerGpu(r, v, mps);
        } else if (k == "pinnedDeviceMemoryLimits") {
          if (!v.IsSequence()) return r.Error(v, fmt::format("{}: expected a list, got {}", what, YamlNodeKind(v)));
          for (size_t i = 0; i < v.size(); ++i) {
            std::string item = fmt::format("{}[{}]", what, i);
            MpsSettings::PinnedLimit limit;
            KMPS_RETURN_IF_ERROR(r.ForEach(
                v[i], item, {"device", "limit"}, [&](const std::string& lk, const YAML::Node& lv) -> Status {
                  std::string at = fmt::format("{}.{}", item, lk);
                  KMPS_ASSIGN_OR_RETURN(std::string value, r.String(lv, at));
                  (lk == "device" ? limit.device : limit.limit) = value;
                  if (std::string why = lk == "device" ? PinnedDeviceProblem(value) : PinnedLimitProblem(value);
                      !why.empty()) {
                    return r.Error(lv, fmt::format("{}: {}", at, why));
                  }
                  return Status::Ok();
                }));
            if (limit.device.empty() || limit.limit.empty()) {
              return r.Error(v[i], item + ": device and limit are both required");
            }
            mps.pinned_device_memory_limits.push_back(std::move(limit));
          }
        }
        return Status::Ok();
      });
}

// gpus: all | onePerNode | {NODE: [GPU, ...], ...}, a GPU being a device minor or a UUID.
Status ParseGpus(const Reader& r, const YAML::Node& n, GpuAssignment& gpus) {
  if (n.IsScalar()) {
    KMPS_ASSIGN_OR_RETURN(std::string mode, r.String(n, "gpus"));
    if (mode == "all" || mode == "onePerNode" || mode == "one-per-node") {  // the flag's spelling too
      gpus = *ParseGpuAssignment(mode);
      return Status::Ok();
    }
    return r.Error(n, fmt::format("gpus: expected all, onePerNode or a mapping of node names to GPUs, got \"{}\"", mode));
  }
  if (!n.IsMap()) return r.Error(n, fmt::format("gpus: expected all, onePerNode or a mapping, got {}", YamlNodeKind(n)));
  gpus.mode = GpuAssignment::Mode::kPerNode;
  gpus.per_node.clear();
  for (auto it = n.begin(); it != n.end(); ++it) {
    YAML::Node key = it->first, value = it->second;
    KMPS_ASSIGN_OR_RETURN(std::string node, r.String(key, "gpus key"));
    std::string what = "gpus." + node;
    for (const auto& [seen, refs] : gpus.per_node) {
      if (seen == node) return r.Error(key, fmt::format("duplicate key \"{}\" in gpus", node));
    }
    if (!value.IsSequence() || value.size() == 0) {
      return r.Error(value, fmt::format("{}: expected a list of GPUs (device minors or UUIDs), got {}", what,
                                        YamlNodeKind(value)));
    }
    std::vector<std::string> refs;
    for (size_t i = 0; i < value.size(); ++i) {
      KMPS_ASSIGN_OR_RETURN(std::string ref, r.String(value[i], fmt::format("{}[{}]", what, i)));
      if (std::string why = GpuRefProblem(ref); !why.empty()) return r.Error(value[i], fmt::format("{}: {}", what, why));
      if (std::find(refs.begin(), refs.end(), ref) != refs.end()) {
        return r.Error(value[i], fmt::format("{}: GPU {} is listed twice", what, ref));
      }
      refs.push_back(ref);
    }
    gpus.per_node.emplace_back(node, std::move(refs));
  }
  return Status::Ok();
}

// apiVersion and kind, which say what the document is: checked before anything else, so that
// another file (kind's own config, say) is named as such rather than by its first unknown key.
// Without `required` (the C API's options) they may be left out.
Status CheckTypeMeta(const Reader& r, const YAML::Node& root, bool required) {
  int next_line = 1;  // where a missing key belongs: the first line, then the line below apiVersion
  for (auto [key, want] : {std::pair{"apiVersion", kConfigApiVersion}, std::pair{"kind", kConfigKind}}) {
    auto it = std::find_if(root.begin(), root.end(), [&](const auto& entry) {
      return entry.first.IsScalar() && entry.first.Scalar() == key;  // the first (ForEach rejects a second)
    });
    if (it == root.end()) {
      if (!required) continue;
      return r.ErrorAt(next_line, 1, fmt::format("{} is missing; add \"{}: {}\" {}", key, key, want,
                                                 next_line == 1 ? "as the first line" : "below apiVersion"));
    }
    YAML::Node k = it->first, v = it->second;
    if (v.IsNull()) return r.Error(k, fmt::format("{}: expected {}, got no value", key, want));
    KMPS_ASSIGN_OR_RETURN(std::string got, r.String(v, key));
    if (got != want) return r.Error(v, fmt::format("{}: expected {}, got \"{}\"", key, want, got));
    next_line = k.Mark().line + 2;
  }
  return Status::Ok();
}

}  // namespace

StatusOr<ClusterConfig> ParseClusterConfig(const std::string& text, const std::string& file, TypeMeta type_meta) {
  ClusterConfig c = DefaultClusterConfig();
  Reader r(file);
  // One config, one document: a second would be lost, so it is refused where it starts. Found by
  // its marker, not by YAML::LoadAll, which loops for ever on a stray "," (yaml-cpp 0.7,
  // jbeder/yaml-cpp#1040; fixtures/fuzz/kindmps_yaml/hang-stray-comma).
  KMPS_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlDocument(text, file));
  if (root.IsMap()) KMPS_RETURN_IF_ERROR(CheckTypeMeta(r, root, type_meta == TypeMeta::kRequired));
  Status s = r.ForEach(
      root, "the config",
      {"apiVersion", "kind", "name", "image", "workers", "gpuNodes", "extraMounts",
       "containerdConfigPatches", "kubeadmConfigPatches", "kindConfig", "shmSize", "mps", "gpus", "driverRoot", "devRoot", "procRoot"},
      [&](const std::string& k, const YAML::Node& v) -> Status {
        if (k == "apiVersion" || k == "kind") {
          // CheckTypeMeta read them.
        } else if (k == "name") {
          KMPS_ASSIGN_OR_RETURN(c.name, r.String(v, k));
          if (std::string why = ClusterNameProblem(c.name); !why.empty()) {
            return r.Error(v, fmt::format("name \"{}\": {}", c.name, why));
          }
        } else if (k == "image") {
          KMPS_ASSIGN_OR_RETURN(c.image, r.String(v, k));
        } else if (k == "workers") {
          KMPS_ASSIGN_OR_RETURN(int64_t w, r.Count(v, k, kMaxWorkers));
          c.workers = static_cast<int>(w);
        } else if (k == "gpuNodes") {
          KMPS_ASSIGN_OR_RETURN(c.gpu_nodes, r.Strings(v, k));
        } else if (k == "extraMounts") {
          KMPS_RETURN_IF_ERROR(ParseExtraMounts(r, v, c.extra_mounts));
        } else if (k == "containerdConfigPatches") {
          KMPS_ASSIGN_OR_RETURN(c.containerd_config_patches, r.Strings(v, k));
        } else if (k == "kubeadmConfigPatches") {
          KMPS_ASSIGN_OR_RETURN(c.kubeadm_config_patches, r.Strings(v, k));
        } else if (k == "kindConfig") {
          // A relative path is the kindmps.yaml's neighbour, wherever the command runs.
          KMPS_ASSIGN_OR_RETURN(std::string path, r.String(v, k));
          if (path.empty()) return r.Error(v, "kindConfig: expected the path of a kind config, got \"\"");
          std::filesystem::path dir = std::filesystem::path(file).parent_path();
          c.kind_config_file = path[0] == '/' || dir.empty() ? path : (dir / path).string();
        } else if (k == "shmSize") {
          KMPS_ASSIGN_OR_RETURN(std::string size, r.String(v, k));
          auto bytes = ParseSize(size);
          if (!bytes.ok()) return r.Error(v, "shmSize: " + bytes.status().message());
          if (std::string why = ShmSizeProblem(*bytes); !why.empty()) return r.Error(v, "shmSize: " + why);
          c.shm_size = size;
          c.shm_bytes = *bytes;
        } else if (k == "mps") {
          KMPS_RETURN_IF_ERROR(ParseMps(r, v, c.mps));
          if (Status per_gpu = ValidatePerGpuSettings(c.mps); !per_gpu.ok()) return r.Error(v, per_gpu.message());
        } else if (k == "driverRoot") {
          KMPS_ASSIGN_OR_RETURN(c.driver_root, r.AbsolutePath(v, k));
        } else if (k == "devRoot") {
          KMPS_ASSIGN_OR_RETURN(c.dev_root, r.AbsolutePath(v, k));
        } else if (k == "procRoot") {
          KMPS_ASSIGN_OR_RETURN(c.proc_root, r.AbsolutePath(v, k));
        } else if (k == "gpus") {
          KMPS_RETURN_IF_ERROR(ParseGpus(r, v, c.gpus));
        }
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return c;
}

namespace {

// A config file's text, read as strictly as every config (ReadRegularFile, kMaxConfigFileBytes):
// kNotFound "<what> PATH does not exist", else kInvalidArgument "<what> <why>".
StatusOr<std::string> ReadConfigText(const std::string& path, std::string_view what) {
  auto text = ReadRegularFile(path, kMaxConfigFileBytes);
  if (text.ok()) return text;
  if (text.status().code() == Code::kNotFound) return NotFound(fmt::format("{} {} does not exist", what, path));
  return InvalidArgument(fmt::format("{} {}", what, text.status().message()));
}

}  // namespace

StatusOr<ClusterConfig> LoadClusterConfig(const std::string& path) {
  KMPS_ASSIGN_OR_RETURN(std::string text, ReadConfigText(path, "config file"));
  return ParseClusterConfig(text, path);
}

Status ReadKindConfigFile(ClusterConfig& config) {
  if (config.kind_config_file.empty()) return Status::Ok();
  auto text = ReadConfigText(config.kind_config_file, "kind config");
  if (!text.ok()) return InvalidArgument(text.status().message());  // named by the flag or kindConfig: exit 2
  KMPS_ASSIGN_OR_RETURN(UserKindConfig user, ParseUserKindConfig(*text, config.kind_config_file));
  KMPS_RETURN_IF_ERROR(CheckUserKindConfig(user, config));
  config.kind_config_text = *std::move(text);
  return Status::Ok();
}


}  // namespace kmps::config
