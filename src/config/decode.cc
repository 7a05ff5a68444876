#include "config/decode.h"

#include <algorithm>
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

namespace kmps::config {
namespace {

std::string NodeKind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Null: return "null";
    case YAML::NodeType::Scalar: return fmt::format("\"{}\"", n.Scalar());
    default: return "nothing";
  }
}

bool IsDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Strict reading of one document, every error "file:line:column: what was expected".
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  Status Error(const YAML::Node& at, const std::string& message) const {
    YAML::Mark m = at.Mark();
    if (m.is_null()) return InvalidArgument(fmt::format("{}: {}", file_, message));
    return ErrorAt(m.line + 1, m.column + 1, message);
  }

  // At a 1-based line and column.
  Status ErrorAt(int line, int column, const std::string& message) const {
    return InvalidArgument(fmt::format("{}:{}:{}: {}", file_, line, column, message));
  }

  // Walks a mapping; rejects non-mappings, unknown and duplicate keys.
  Status ForEach(const YAML::Node& map, const std::string& where,
                 const std::vector<std::string>& allowed,
                 const std::function<Status(const std::string&, const YAML::Node&)>& fn) const {
    if (!map.IsMap()) return Error(map, fmt::format("{}: expected a mapping, got {}", where, NodeKind(map)));
    std::vector<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      YAML::Node key = it->first;  // copies: it-> yields a temporary
      YAML::Node value = it->second;
      if (!key.IsScalar()) return Error(key, fmt::format("{}: keys must be strings", where));
      std::string k = key.Scalar();
      if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
        return Error(key, fmt::format("unknown key \"{}\" in {} (expected one of: {})", k, where,
                                      fmt::join(allowed, ", ")));
      }
      if (std::find(seen.begin(), seen.end(), k) != seen.end()) {
        return Error(key, fmt::format("duplicate key \"{}\" in {}", k, where));
      }
      seen.push_back(k);
      if (value.IsNull()) continue;  // "key:" with no value keeps the default
      KMPS_RETURN_IF_ERROR(fn(k, value));
    }
    return Status::Ok();
  }

  // UTF-8 only: the state file and the Docker API carry JSON, which holds nothing else, so another
  // byte would come back changed (a pipe directory `status` would not find).
  StatusOr<std::string> String(const YAML::Node& n, const std::string& what) const {
    if (!n.IsScalar()) return Error(n, fmt::format("{}: expected a string, got {}", what, NodeKind(n)));
    if (!IsValidUtf8(n.Scalar())) return Error(n, fmt::format("{}: holds bytes that are not UTF-8", what));
    return n.Scalar();
  }

  StatusOr<std::string> AbsolutePath(const YAML::Node& n, const std::string& what) const {
    KMPS_ASSIGN_OR_RETURN(std::string s, String(n, what));
    if (s.empty() || s[0] != '/') {
      return Error(n, fmt::format("{}: expected an absolute path, got \"{}\"", what, s));
    }
    return s;
  }

  // Plain (unquoted) scalars only: "3" in quotes is a string, not a number.
  StatusOr<std::string> PlainScalar(const YAML::Node& n, const std::string& what,
                                    const std::string& expected) const {
    if (!n.IsScalar()) return Error(n, fmt::format("{}: expected {}, got {}", what, expected, NodeKind(n)));
    if (n.Tag() == "!") {
      return Error(n, fmt::format("{}: expected {}, got the quoted string \"{}\"", what, expected,
                                  n.Scalar()));
    }
    return n.Scalar();
  }

  // Digits only (ParseCount): no sign, exponent or fraction.
  StatusOr<int64_t> Count(const YAML::Node& n, const std::string& what, int64_t max) const {
    std::string expected = "a non-negative integer";
    KMPS_ASSIGN_OR_RETURN(std::string s, PlainScalar(n, what, expected));
    if (s.empty() || !IsDigits(s)) return Error(n, fmt::format("{}: expected {}, got {}", what, expected, s));
    std::optional<uint64_t> value = ParseCount(s, static_cast<uint64_t>(max));
    if (!value) return Error(n, fmt::format("{}: expected at most {}, got {}", what, max, s));
    return static_cast<int64_t>(*value);
  }

  StatusOr<bool> Bool(const YAML::Node& n, const std::string& what) const {
    KMPS_ASSIGN_OR_RETURN(std::string s, PlainScalar(n, what, "true or false"));
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    return Error(n, fmt::format("{}: expected true or false, got {}", what, s));
  }

  // A decimal up to `max` (ParseDecimal): no sign, exponent, NaN or infinity.
  StatusOr<double> Number(const YAML::Node& n, const std::string& what, double max) const {
    KMPS_ASSIGN_OR_RETURN(std::string s, PlainScalar(n, what, "a number"));
    std::optional<double> value = ParseDecimal(s, max);
    if (!value) return Error(n, fmt::format("{}: expected a number from 0 to {}, got {}", what, max, s));
    return *value;
  }

  StatusOr<std::vector<std::string>> Strings(const YAML::Node& n, const std::string& what) const {
    if (!n.IsSequence()) return Error(n, fmt::format("{}: expected a list of strings, got {}", what, NodeKind(n)));
    std::vector<std::string> out;
    for (size_t i = 0; i < n.size(); ++i) {
      KMPS_ASSIGN_OR_RETURN(std::string s, String(n[i], fmt::format("{}[{}]", what, i)));
      out.push_back(std::move(s));
    }
    return out;
  }

 private:
  std::string file_;
};

Status ParseExtraMounts(const Reader& r, const YAML::Node& n, std::vector<ExtraMount>& out) {
  if (!n.IsSequence()) return r.Error(n, fmt::format("extraMounts: expected a list, got {}", NodeKind(n)));
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

Status ParseMps(const Reader& r, const YAML::Node& n, MpsSettings& mps) {
  return r.ForEach(
      n, "mps",
      {"pipeDirectory", "logDirectory", "startServer", "serverUid", "defaultActiveThreadPercentage",
       "pinnedDeviceMemoryLimits"},
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
        } else if (k == "pinnedDeviceMemoryLimits") {
          if (!v.IsSequence()) return r.Error(v, fmt::format("{}: expected a list, got {}", what, NodeKind(v)));
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

// The 1-based line where a second YAML document begins: a "---" (or "..." then more) at the
// start of a line once the first document has content; 0 when there is none. At the start of a
// line, outside any block scalar of the top-level mapping (whose lines are indented), a marker is
// always one.
int SecondDocumentLine(std::string_view text) {
  bool content = false, ended = false;
  int number = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    std::string_view line = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto marker = [&](std::string_view m) {
      return line.substr(0, 3) == m && (line.size() == 3 || line[3] == ' ' || line[3] == '\t');
    };
    if (marker("---")) {
      if (content || ended) return number;
      content = !Trim(line.substr(3)).empty();  // "--- {a: 1}": the document starts on its line
      continue;
    }
    if (marker("...")) {
      ended = content;
      continue;
    }
    std::string_view body = Trim(line);
    if (body.empty() || body.front() == '#' || body.front() == '%') continue;
    if (ended) return number;
    content = true;
  }
  return 0;
}

}  // namespace

StatusOr<ClusterConfig> ParseClusterConfig(const std::string& text, const std::string& file, TypeMeta type_meta) {
  ClusterConfig c = DefaultClusterConfig();
  Reader r(file);
  // One config, one document: a second would be lost, so it is refused where it starts. Found by
  // its marker, not by YAML::LoadAll, which loops for ever on a stray "," (yaml-cpp 0.7,
  // jbeder/yaml-cpp#1040; fixtures/fuzz/kindmps_yaml/hang-stray-comma).
  if (int line = SecondDocumentLine(text); line != 0) {
    return r.ErrorAt(line, 1, "a second YAML document (after ---): a kindmps.yaml holds one config");
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {  // a parser error, or the nesting too deep for yaml-cpp
    return InvalidArgument(fmt::format("{}:{}:{}: invalid YAML: {}", file, e.mark.line + 1,
                                       e.mark.column + 1, e.msg));
  }
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);  // an empty document: no keys
  if (root.IsMap()) KMPS_RETURN_IF_ERROR(CheckTypeMeta(r, root, type_meta == TypeMeta::kRequired));
  Status s = r.ForEach(
      root, "the config",
      {"apiVersion", "kind", "name", "image", "workers", "gpuNodes", "extraMounts",
       "containerdConfigPatches", "kubeadmConfigPatches", "shmSize", "mps", "driverRoot", "devRoot"},
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
        } else if (k == "shmSize") {
          KMPS_ASSIGN_OR_RETURN(std::string size, r.String(v, k));
          auto bytes = ParseSize(size);
          if (!bytes.ok()) return r.Error(v, "shmSize: " + bytes.status().message());
          if (std::string why = ShmSizeProblem(*bytes); !why.empty()) return r.Error(v, "shmSize: " + why);
          c.shm_size = size;
          c.shm_bytes = *bytes;
        } else if (k == "mps") {
          KMPS_RETURN_IF_ERROR(ParseMps(r, v, c.mps));
        } else if (k == "driverRoot") {
          KMPS_ASSIGN_OR_RETURN(c.driver_root, r.AbsolutePath(v, k));
        } else if (k == "devRoot") {
          KMPS_ASSIGN_OR_RETURN(c.dev_root, r.AbsolutePath(v, k));
        }
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return c;
}

StatusOr<ClusterConfig> LoadClusterConfig(const std::string& path) {
  auto text = ReadRegularFile(path, kMaxConfigFileBytes);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return NotFound(fmt::format("config file {} does not exist", path));
    return InvalidArgument(fmt::format("config file {}", text.status().message()));
  }
  return ParseClusterConfig(*text, path);
}


}  // namespace kmps::config
