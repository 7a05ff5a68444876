#include "kind/kind_render.h"

#include <algorithm>
#include <map>

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include "kind/root_fs.h"

namespace kmps::kind {
namespace {

constexpr const char* kLibDir = "/usr/lib/x86_64-linux-gnu/";
constexpr const char* kBinDir = "/usr/bin/";

void EmitString(YAML::Emitter& out, const std::string& s) {
  if (s.find('\n') != std::string::npos) {
    out << YAML::Literal << s;
  } else {
    out << s;
  }
}

void EmitStrings(YAML::Emitter& out, const char* key, const std::vector<std::string>& values) {
  if (values.empty()) return;
  out << YAML::Key << key << YAML::Value << YAML::BeginSeq;
  for (const auto& v : values) EmitString(out, v);
  out << YAML::EndSeq;
}

}  // namespace

std::string NodeLibraryPath(const HostLibrary& lib) { return kLibDir + lib.soname; }

std::vector<config::ExtraMount> GpuMounts(const HostInventory& inventory) {
  std::vector<config::ExtraMount> mounts;
  for (const auto& lib : inventory.libraries) {
    mounts.push_back({lib.real_path, NodeLibraryPath(lib), true, ""});
  }
  for (const auto& bin : inventory.binaries) {
    mounts.push_back({bin.real_path, kBinDir + bin.name, true, ""});
  }
  for (size_t i = 0; i < inventory.cdi_specs.size(); ++i) {
    std::string inside = i < inventory.cdi_spec_inside.size()
                             ? inventory.cdi_spec_inside[i]
                             : InsidePath(inventory.driver_root, inventory.cdi_specs[i]);
    mounts.push_back({inventory.cdi_specs[i], inside, true, ""});
  }
  return mounts;
}

StatusOr<std::string> RenderKindConfig(const config::ClusterConfig& config, const HostInventory& inventory) {
  const std::vector<config::ExtraMount> gpu = GpuMounts(inventory);
  std::vector<std::string> containerd = config.containerd_config_patches;
  if (!inventory.cdi_specs.empty() &&
      std::find(containerd.begin(), containerd.end(), kEnableCdiPatch) == containerd.end()) {
    containerd.push_back(kEnableCdiPatch);
  }

  YAML::Emitter out;
  out.SetIndent(2);
  out << YAML::BeginMap;
  out << YAML::Key << "kind" << YAML::Value << "Cluster";
  out << YAML::Key << "apiVersion" << YAML::Value << "kind.x-k8s.io/v1alpha4";
  out << YAML::Key << "name" << YAML::Value << config.name;
  out << YAML::Key << "nodes" << YAML::Value << YAML::BeginSeq;
  for (const auto& node : config::NodeNames(config)) {
    const std::string role = config::NodeRole(config, node);
    std::vector<config::ExtraMount> mounts;
    if (config::IsGpuNode(config, node, role)) mounts = gpu;
    mounts.insert(mounts.end(), config.extra_mounts.begin(), config.extra_mounts.end());
    std::map<std::string, std::string> by_container_path;
    for (const auto& m : mounts) {
      auto [it, fresh] = by_container_path.emplace(NormalizePath(m.container_path), m.host_path);
      if (!fresh) {
        return InvalidArgument(fmt::format(
            "node {}: container path {} is mounted twice (from {} and from {})", node,
            m.container_path, it->second, m.host_path));
      }
    }
    out << YAML::BeginMap;
    out << YAML::Key << "role" << YAML::Value << role;
    if (!config.image.empty()) out << YAML::Key << "image" << YAML::Value << config.image;
    if (config::IsGpuNode(config, node, role)) {
      // Pods select MPS nodes by this label (kindmps-api pod's nodeSelector).
      out << YAML::Key << "labels" << YAML::Value << YAML::BeginMap << YAML::Key << kMpsNodeLabel << YAML::Value
          << kMpsNodeLabelValue << YAML::EndMap;
    }
    if (!mounts.empty()) {
      out << YAML::Key << "extraMounts" << YAML::Value << YAML::BeginSeq;
      for (const auto& m : mounts) {
        out << YAML::BeginMap;
        out << YAML::Key << "hostPath" << YAML::Value << m.host_path;
        out << YAML::Key << "containerPath" << YAML::Value << m.container_path;
        if (m.read_only) out << YAML::Key << "readOnly" << YAML::Value << true;
        if (!m.propagation.empty()) {
          out << YAML::Key << "propagation" << YAML::Value << m.propagation;
        }
        out << YAML::EndMap;
      }
      out << YAML::EndSeq;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  EmitStrings(out, "containerdConfigPatches", containerd);
  EmitStrings(out, "kubeadmConfigPatches", config.kubeadm_config_patches);
  out << YAML::EndMap;
  if (!out.good()) return InvalidArgument(fmt::format("rendering the kind config: {}", out.GetLastError()));
  return std::string(out.c_str()) + "\n";
}

}  // namespace kmps::kind
