// The user's own kind config (config/kind_config.h, up --kind-config): any text. What parses and
// agrees with a cluster of its own shape renders (kind/kind_render.h) into a kind config that reads
// back with the same fields: the merge never writes what kind would read otherwise.
#include <algorithm>

#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/kind_config.h"
#include "fuzz_support.h"
#include "kind/kind_render.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(kmps::fuzz::Bytes(data, size));
  auto user = kmps::config::ParseUserKindConfig(text, "kind.yaml");
  if (!user.ok()) {
    KMPS_FUZZ_CHECK(user.status().code() == kmps::Code::kInvalidArgument);
    return 0;
  }
  kmps::config::ClusterConfig c = kmps::config::DefaultClusterConfig();
  c.name = "fuzz";
  c.workers = static_cast<int>(user->workers.size() > 100 ? 0 : user->workers.size());
  c.kind_config_file = "kind.yaml";
  c.kind_config_text = text;
  auto rendered = kmps::kind::RenderKindConfig(c, kmps::kind::HostInventory{});
  if (!rendered.ok()) {
    KMPS_FUZZ_CHECK(rendered.status().code() == kmps::Code::kInvalidArgument);
    return 0;
  }
  // Nothing go-yaml (kind's reader) refuses or reads otherwise than yaml-cpp: DEL, U+2028, U+2029.
  KMPS_FUZZ_CHECK(rendered->find('\x7f') == std::string::npos);
  KMPS_FUZZ_CHECK(rendered->find("\xe2\x80\xa8") == std::string::npos && rendered->find("\xe2\x80\xa9") == std::string::npos);
  // The rendered config is itself a user kind config kind would take, with the same fields.
  auto again = kmps::config::ParseUserKindConfig(*rendered, "rendered.yaml");
  if (!again.ok()) {
    std::fprintf(stderr, "rendered config does not parse: %s\n%s\n", again.status().ToString().c_str(),
                 rendered->c_str());
    KMPS_FUZZ_CHECK(again.ok());
  }
  for (const char* key : {"runtimeConfig", "featureGates"}) {
    YAML::Node a = user->root[key], b = again->root[key];
    if (!a || a.IsNull()) continue;
    KMPS_FUZZ_CHECK(b && b.size() == a.size());
    for (auto it = a.begin(); it != a.end(); ++it) {
      KMPS_FUZZ_CHECK(b[it->first.Scalar()].Scalar() == it->second.Scalar() ||
                      b[it->first.Scalar()].as<bool>() == it->second.as<bool>());
    }
  }
  // Every string comes back byte for byte: patches are appended to kindmps-api's own, nodes keep
  // their order (the control plane first, then the workers as listed).
  auto ends_with = [](const std::vector<std::string>& all, const std::vector<std::string>& tail) {
    return all.size() >= tail.size() && std::equal(tail.begin(), tail.end(), all.end() - tail.size());
  };
  for (const char* key : {"kubeadmConfigPatches", "containerdConfigPatches"}) {
    KMPS_FUZZ_CHECK(ends_with(kmps::config::UserKindStrings(again->root, key),
                              kmps::config::UserKindStrings(user->root, key)));
  }
  KMPS_FUZZ_CHECK(kmps::config::UserKindStrings(again->root["networking"], "dnsSearch") ==
                  kmps::config::UserKindStrings(user->root["networking"], "dnsSearch"));
  auto same_node = [&](const YAML::Node& a, const YAML::Node& b) {
    KMPS_FUZZ_CHECK(kmps::config::UserKindStrings(a, "kubeadmConfigPatches") ==
                    kmps::config::UserKindStrings(b, "kubeadmConfigPatches"));
  };
  if (!user->control_planes.empty()) same_node(user->control_planes[0], again->control_planes.at(0));
  for (size_t i = 0; i < user->workers.size(); ++i) same_node(user->workers[i], again->workers.at(i));
  return 0;
}
