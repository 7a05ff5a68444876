#include "config/kind_config.h"

#include <charconv>
#include <limits>

#include <fmt/core.h>
#include <fmt/format.h>

#include "config/config.h"
#include "config/yaml_reader.h"

namespace kmps::config {
namespace {

// kind's v1alpha4 types (sigs.k8s.io/kind/pkg/apis/config/v1alpha4/types.go, kind v0.33), as a
// table that both the check and the emitter walk.
enum class Type { kString, kInt, kBool, kStrings, kStringMap, kBoolMap, kObject, kObjects };

struct Field {
  std::string key;
  Type type;
  const std::vector<Field>* fields = nullptr;  // kObject, kObjects
  std::vector<std::string> values = {};         // kString: the allowed values, when kind has a set
};

const std::vector<Field> kPatchJson6902 = {
    {"group", Type::kString}, {"version", Type::kString}, {"kind", Type::kString}, {"patch", Type::kString}};
const std::vector<Field> kMount = {{"containerPath", Type::kString},
                                   {"hostPath", Type::kString},
                                   {"readOnly", Type::kBool},
                                   {"selinuxRelabel", Type::kBool},
                                   {"propagation", Type::kString, nullptr, {"None", "HostToContainer", "Bidirectional"}}};
const std::vector<Field> kPortMapping = {{"containerPort", Type::kInt},
                                         {"hostPort", Type::kInt},
                                         {"listenAddress", Type::kString},
                                         {"protocol", Type::kString, nullptr, {"TCP", "UDP", "SCTP"}}};
const std::vector<Field> kNode = {{"role", Type::kString, nullptr, {"control-plane", "worker"}},
                                  {"image", Type::kString},
                                  {"labels", Type::kStringMap},
                                  {"extraMounts", Type::kObjects, &kMount},
                                  {"extraPortMappings", Type::kObjects, &kPortMapping},
                                  {"kubeadmConfigPatches", Type::kStrings},
                                  {"kubeadmConfigPatchesJSON6902", Type::kObjects, &kPatchJson6902}};
const std::vector<Field> kNetworking = {{"ipFamily", Type::kString, nullptr, {"ipv4", "ipv6", "dual"}},
                                        {"apiServerPort", Type::kInt},
                                        {"apiServerAddress", Type::kString},
                                        {"podSubnet", Type::kString},
                                        {"serviceSubnet", Type::kString},
                                        {"disableDefaultCNI", Type::kBool},
                                        {"kubeProxyMode", Type::kString, nullptr, {"iptables", "ipvs", "nftables", "none"}},
                                        {"dnsSearch", Type::kStrings}};
const std::vector<Field> kCluster = {{"kind", Type::kString},
                                     {"apiVersion", Type::kString},
                                     {"name", Type::kString},
                                     {"featureGates", Type::kBoolMap},
                                     {"runtimeConfig", Type::kStringMap},
                                     {"networking", Type::kObject, &kNetworking},
                                     {"nodes", Type::kObjects, &kNode},
                                     {"kubeadmConfigPatches", Type::kStrings},
                                     {"kubeadmConfigPatchesJSON6902", Type::kObjects, &kPatchJson6902},
                                     {"containerdConfigPatches", Type::kStrings},
                                     {"containerdConfigPatchesJSON6902", Type::kStrings}};

const std::vector<Field>& Scope(const std::string& scope) { return scope == "node" ? kNode : kCluster; }

const Field* Find(const std::vector<Field>& fields, const std::string& key) {
  for (const auto& f : fields) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

std::vector<std::string> Keys(const std::vector<Field>& fields) {
  std::vector<std::string> keys;
  for (const auto& f : fields) keys.push_back(f.key);
  return keys;
}

Status CheckObject(const YamlReader& r, const YAML::Node& n, const std::string& where, const std::vector<Field>& fields);

Status CheckValue(const YamlReader& r, const YAML::Node& v, const std::string& what, const Field& f) {
  switch (f.type) {
    case Type::kString: {
      KMPS_ASSIGN_OR_RETURN(std::string s, r.String(v, what));
      if (!f.values.empty() && std::find(f.values.begin(), f.values.end(), s) == f.values.end()) {
        return r.Error(v, fmt::format("{}: expected {}, got \"{}\"", what, fmt::join(f.values, ", "), s));
      }
      return Status::Ok();
    }
    case Type::kInt: {
      KMPS_ASSIGN_OR_RETURN(std::string s, r.PlainScalar(v, what, "an integer"));
      int32_t value = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
      if (ec != std::errc() || end != s.data() + s.size()) {
        return r.Error(v, fmt::format("{}: expected an integer of 32 bits, got {}", what, s));
      }
      return Status::Ok();
    }
    case Type::kBool: return r.Bool(v, what).status();
    case Type::kStrings: return r.Strings(v, what).status();
    case Type::kStringMap:
    case Type::kBoolMap: {
      if (!v.IsMap()) return r.Error(v, fmt::format("{}: expected a mapping, got {}", what, YamlNodeKind(v)));
      std::vector<std::string> seen;
      for (auto it = v.begin(); it != v.end(); ++it) {
        YAML::Node key = it->first, value = it->second;
        KMPS_ASSIGN_OR_RETURN(std::string k, r.String(key, what + " key"));
        if (std::find(seen.begin(), seen.end(), k) != seen.end()) {
          return r.Error(key, fmt::format("duplicate key \"{}\" in {}", k, what));
        }
        seen.push_back(k);
        std::string at = fmt::format("{}.{}", what, k);
        if (f.type == Type::kBoolMap) {
          KMPS_RETURN_IF_ERROR(r.Bool(value, at).status());
        } else {
          KMPS_RETURN_IF_ERROR(r.String(value, at).status());
        }
      }
      return Status::Ok();
    }
    case Type::kObject: return CheckObject(r, v, what, *f.fields);
    case Type::kObjects: {
      if (!v.IsSequence()) return r.Error(v, fmt::format("{}: expected a list, got {}", what, YamlNodeKind(v)));
      for (size_t i = 0; i < v.size(); ++i) {
        KMPS_RETURN_IF_ERROR(CheckObject(r, v[i], fmt::format("{}[{}]", what, i), *f.fields));
      }
      return Status::Ok();
    }
  }
  return Status::Ok();
}

Status CheckObject(const YamlReader& r, const YAML::Node& n, const std::string& where, const std::vector<Field>& fields) {
  return r.ForEach(n, where, Keys(fields), [&](const std::string& k, const YAML::Node& v) -> Status {
    return CheckValue(r, v, where == "the kind config" ? k : where + "." + k, *Find(fields, k));
  });
}

void EmitValue(YAML::Emitter& out, const YAML::Node& v, const Field& f);

void EmitObject(YAML::Emitter& out, const YAML::Node& n, const std::vector<Field>& fields) {
  out << YAML::BeginMap;
  for (const auto& f : fields) {
    YAML::Node v = n[f.key];
    if (!v || v.IsNull()) continue;
    out << YAML::Key << f.key << YAML::Value;
    EmitValue(out, v, f);
  }
  out << YAML::EndMap;
}

void EmitValue(YAML::Emitter& out, const YAML::Node& v, const Field& f) {
  switch (f.type) {
    case Type::kString: EmitKindText(out, v.Scalar()); break;
    case Type::kInt: out << v.Scalar(); break;
    case Type::kBool: out << v.as<bool>(); break;
    case Type::kStrings:
      out << YAML::BeginSeq;
      for (const auto& s : v) EmitKindText(out, s.Scalar());
      out << YAML::EndSeq;
      break;
    case Type::kStringMap:
    case Type::kBoolMap:
      out << YAML::BeginMap;
      for (auto it = v.begin(); it != v.end(); ++it) {
        out << YAML::Key << YAML::DoubleQuoted << it->first.Scalar() << YAML::Value;
        if (f.type == Type::kBoolMap) {
          out << it->second.as<bool>();
        } else {
          out << YAML::DoubleQuoted << it->second.Scalar();
        }
      }
      out << YAML::EndMap;
      break;
    case Type::kObject: EmitObject(out, v, *f.fields); break;
    case Type::kObjects:
      out << YAML::BeginSeq;
      for (const auto& item : v) EmitObject(out, item, *f.fields);
      out << YAML::EndSeq;
      break;
  }
}

std::string ImageName(const std::string& image) {
  return image.empty() ? "kind's default node image" : fmt::format("\"{}\"", image);
}

}  // namespace

StatusOr<UserKindConfig> ParseUserKindConfig(const std::string& text, const std::string& file) {
  YamlReader r(file);
  KMPS_ASSIGN_OR_RETURN(YAML::Node loaded, LoadYamlDocument(text, file, "a kind config holds one Cluster"));
  const YAML::Node& root = loaded;  // const: operator[] must not add the keys it looks up
  if (!root.IsMap()) return r.Error(root, fmt::format("expected a kind Cluster (a mapping), got {}", YamlNodeKind(root)));
  for (auto [key, want] : {std::pair{"apiVersion", kKindApiVersion}, std::pair{"kind", kKindClusterKind}}) {
    YAML::Node v = root[key];
    if (!v || v.IsNull()) {
      return r.ErrorAt(1, 1, fmt::format("{} is missing: a kind config says \"kind: Cluster\" and \"apiVersion: {}\"",
                                         key, kKindApiVersion));
    }
    KMPS_ASSIGN_OR_RETURN(std::string got, r.String(v, key));
    if (got != want) {
      return r.Error(v, fmt::format("{}: expected {} (a kind config{}), got \"{}\"", key, want,
                                    got == kConfigApiVersion || got == kConfigKind ? ", not a kindmps.yaml" : "", got));
    }
  }
  KMPS_RETURN_IF_ERROR(CheckObject(r, root, "the kind config", kCluster));
  UserKindConfig user{file, root, {}, {}};
  if (YAML::Node nodes = root["nodes"]; nodes && nodes.IsSequence()) {
    for (const auto& n : nodes) {
      YAML::Node role = n["role"];
      (role && role.IsScalar() && role.Scalar() == "worker" ? user.workers : user.control_planes).push_back(n);
    }
  }
  return user;
}

Status KindConfigError(const UserKindConfig& user, const YAML::Node& at, const std::string& message) {
  return YamlReader(user.file).Error(at, message);
}

Status CheckUserKindConfig(const UserKindConfig& user, const ClusterConfig& config) {
  const YAML::Node& root = user.root;
  if (YAML::Node name = root["name"]; name && name.IsScalar() && name.Scalar() != config.name) {
    return KindConfigError(
        user, name,
        fmt::format("name \"{}\" conflicts with the cluster name \"{}\" (from -n/--name, $KIND_CLUSTER_NAME, the name "
                    "in kindmps.yaml, or kind's default): make them agree, or leave name out of the kind config",
                    name.Scalar(), config.name));
  }
  YAML::Node nodes = root["nodes"];
  if (!nodes || nodes.IsNull()) return Status::Ok();
  if (user.control_planes.size() != 1 || user.workers.size() != static_cast<size_t>(config.workers)) {
    return KindConfigError(
        user, nodes,
        fmt::format("nodes: {} control-plane and {} worker node(s), but kindmps-api makes 1 control-plane and {} "
                    "worker node(s) (--workers, workers in kindmps.yaml){}: make them agree, or leave nodes out of "
                    "the kind config",
                    user.control_planes.size(), user.workers.size(), config.workers,
                    user.control_planes.size() > 1 ? "; several control planes are not supported" : ""));
  }
  for (const auto& n : nodes) {
    YAML::Node image = n["image"];
    if (image && image.IsScalar() && image.Scalar() != config.image) {
      return KindConfigError(user, image,
                             fmt::format("image \"{}\" conflicts with the node image kindmps-api uses ({}): set it "
                                         "with --image or image in kindmps.yaml, and leave it out of the kind config",
                                         image.Scalar(), ImageName(config.image)));
    }
  }
  return Status::Ok();
}

YAML::Node UserKindNode(const UserKindConfig& user, const std::string& role, size_t index) {
  const auto& list = role == "worker" ? user.workers : user.control_planes;
  return index < list.size() ? list[index] : YAML::Node();
}

void EmitUserKindField(YAML::Emitter& out, const YAML::Node& parent, const std::string& scope, const std::string& key) {
  if (!parent || !parent.IsMap()) return;
  const Field* f = Find(Scope(scope), key);
  YAML::Node v = parent[key];
  if (f == nullptr || !v || v.IsNull()) return;
  out << YAML::Key << key << YAML::Value;
  EmitValue(out, v, *f);
}

void EmitUserKindItems(YAML::Emitter& out, const YAML::Node& parent, const std::string& scope, const std::string& key) {
  if (!parent || !parent.IsMap()) return;
  const Field* f = Find(Scope(scope), key);
  YAML::Node v = parent[key];
  if (f == nullptr || f->type != Type::kObjects || !v || !v.IsSequence()) return;
  for (const auto& item : v) EmitObject(out, item, *f->fields);
}

namespace {

bool LiteralKeepsText(const std::string& s) {
  if (s.size() < 2 || s.back() != '\n' || s[s.size() - 2] == '\n') return false;  // `|` keeps one final newline
  if (s.find_first_not_of('\n') == std::string::npos || s[s.find_first_not_of('\n')] == ' ') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      if (i > 0 && s[i - 1] == ' ') return false;  // a blank line of spaces, or trailing blanks
      continue;
    }
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

void EmitKindText(YAML::Emitter& out, const std::string& s) {
  if (LiteralKeepsText(s)) {
    out << YAML::Literal << s;
  } else {
    out << YAML::DoubleQuoted << s;
  }
}

std::vector<std::string> UserKindStrings(const YAML::Node& parent, const std::string& key) {
  std::vector<std::string> out;
  if (!parent || !parent.IsMap()) return out;
  YAML::Node v = parent[key];
  if (v && v.IsSequence()) {
    for (const auto& s : v) out.push_back(s.Scalar());
  }
  return out;
}

}  // namespace kmps::config
