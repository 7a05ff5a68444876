#include "kind/kind_render.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "config/decode.h"
#include "support/fake_host.h"

namespace kmps::kind {
namespace {

using ::testing::HasSubstr;

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// Compares `text` (with the fake root replaced by @ROOT@) to fixtures/hosts/<name>;
// KMPS_UPDATE_GOLDEN=1 rewrites the file instead.
void ExpectGolden(const std::string& name, const std::string& text, const std::string& root) {
  std::string path = std::string(KMPS_SOURCE_DIR) + "/fixtures/hosts/" + name;
  std::string got = ReplaceAll(text, root, "@ROOT@");
  if (const char* update = std::getenv("KMPS_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << got;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "missing golden file " << path << " (KMPS_UPDATE_GOLDEN=1 writes it)";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(got, want.str()) << "golden " << path << " differs (KMPS_UPDATE_GOLDEN=1 rewrites it)";
}

config::ClusterConfig Defaults() {
  config::ClusterConfig c;
  c.name = config::kDefaultClusterName;
  return c;
}

// Structural checks that hold for every rendered config.
void ExpectWellFormed(const std::string& text, const HostInventory& inv) {
  YAML::Node doc = YAML::Load(text);
  EXPECT_EQ(doc["kind"].as<std::string>(), "Cluster");
  EXPECT_EQ(doc["apiVersion"].as<std::string>(), "kind.x-k8s.io/v1alpha4");
  for (const auto& node : doc["nodes"]) {
    std::set<std::string> container_paths;
    for (const auto& m : node["extraMounts"]) {
      std::string cp = m["containerPath"].as<std::string>();
      EXPECT_TRUE(container_paths.insert(cp).second) << "duplicate " << cp;
      EXPECT_TRUE(std::filesystem::exists(m["hostPath"].as<std::string>())) << m["hostPath"];
    }
  }
  (void)inv;
}

TEST(GpuMounts, OneReadOnlyMountPerFile) {
  HostInventory inv;
  inv.driver_root = "/drv";
  inv.libraries = {{"libcuda.so.1", "/drv/lib/libcuda.so.1", "/drv/lib/libcuda.so.580.1", "580.1", true}};
  inv.binaries = {{"nvidia-cuda-mps-control", "/drv/usr/bin/nvidia-cuda-mps-control",
                   "/drv/usr/bin/nvidia-cuda-mps-control", true}};
  inv.cdi_specs = {"/drv/etc/cdi/nvidia.yaml"};
  std::vector<config::ExtraMount> m = GpuMounts(inv);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].host_path, "/drv/lib/libcuda.so.580.1");
  EXPECT_EQ(m[0].container_path, "/usr/lib/x86_64-linux-gnu/libcuda.so.1");
  EXPECT_TRUE(m[0].read_only);
  EXPECT_EQ(m[1].container_path, "/usr/bin/nvidia-cuda-mps-control");
  EXPECT_EQ(m[2].container_path, "/etc/cdi/nvidia.yaml");  // its own path inside the root
}

TEST(RenderKindConfig, H100Default) {
  testing::TempDir dir("kmps-render");
  ASSERT_TRUE(testing::H100Layout(dir.path()).ok());
  HostInventory inv = InspectHost({dir.path(), dir.path()});
  auto text = RenderKindConfig(Defaults(), inv);
  ASSERT_TRUE(text.ok()) << text.status().message();
  ExpectGolden("h100-default.kind.yaml", *text, dir.path());
  ExpectWellFormed(*text, inv);
  EXPECT_EQ(*RenderKindConfig(Defaults(), inv), *text);  // deterministic
}

TEST(RenderKindConfig, H100WorkersGpuOnOneWorker) {
  testing::TempDir dir("kmps-render");
  ASSERT_TRUE(testing::H100Layout(dir.path()).ok());
  HostInventory inv = InspectHost({dir.path(), dir.path()});
  auto config = config::ParseClusterConfig(R"(name: lab
image: kindest/node:v1.33.1
workers: 2
gpuNodes: [lab-worker2]
extraMounts:
  - {hostPath: /tmp, containerPath: /mnt/tmp, propagation: HostToContainer}
containerdConfigPatches:
  - |
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
kubeadmConfigPatches:
  - |
    kind: InitConfiguration
    nodeRegistration:
      kubeletExtraArgs:
        node-labels: "gpu=true"
apiVersion: kindmps.dev/v1alpha1
kind: Config
)", "kindmps.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  auto text = RenderKindConfig(*config, inv);
  ASSERT_TRUE(text.ok()) << text.status().message();
  ExpectGolden("h100-workers.kind.yaml", *text, dir.path());
  ExpectWellFormed(*text, inv);
  YAML::Node doc = YAML::Load(*text);
  ASSERT_EQ(doc["nodes"].size(), 3u);
  EXPECT_EQ(doc["nodes"][0]["extraMounts"].size(), 1u);  // the user's mount only
  EXPECT_EQ(doc["nodes"][2]["extraMounts"].size(), inv.libraries.size() + inv.binaries.size() + inv.devices.size() + 1);
  EXPECT_EQ(doc["kubeadmConfigPatches"][0].as<std::string>(), (*config).kubeadm_config_patches[0]);
}

TEST(RenderKindConfig, DebianWithCdiEnablesCdi) {
  testing::TempDir dir("kmps-render");
  testing::FakeHostOptions o;
  o.cdi = true;
  ASSERT_TRUE(testing::DebianLayout(dir.path(), o).ok());
  HostInventory inv = InspectHost({dir.path(), dir.path()});
  auto text = RenderKindConfig(Defaults(), inv);
  ASSERT_TRUE(text.ok()) << text.status().message();
  ExpectGolden("debian-cdi.kind.yaml", *text, dir.path());
  ExpectWellFormed(*text, inv);
  YAML::Node doc = YAML::Load(*text);
  EXPECT_EQ(doc["containerdConfigPatches"][0].as<std::string>(), kEnableCdiPatch);
}

TEST(RenderKindConfig, DuplicateContainerPathIsRejected) {
  HostInventory inv;
  inv.libraries = {{"libcuda.so.1", "/l/libcuda.so.1", "/l/libcuda.so.5", "5", true}};
  config::ClusterConfig c = Defaults();
  c.extra_mounts = {{"/mine/libcuda.so", "/usr/lib/x86_64-linux-gnu/libcuda.so.1/", false, ""}};
  auto text = RenderKindConfig(c, inv);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(text.status().message(),
              HasSubstr("node kind-control-plane: container path "
                        "/usr/lib/x86_64-linux-gnu/libcuda.so.1/ is mounted twice"));
}

// The user's own kind config (--kind-config): its fields after ours, each node's to the node kind
// makes of it (workers in their order), strings quoted for kind's YAML 1.1 reader.
TEST(RenderKindConfig, MergesTheUsersKindConfig) {
  testing::TempDir dir("kmps-render");
  ASSERT_TRUE(testing::H100Layout(dir.path()).ok());
  HostInventory inv = InspectHost({dir.path(), dir.path()});
  config::ClusterConfig c = Defaults();
  c.name = "lab";
  c.workers = 2;
  c.gpu_nodes = {"worker"};
  c.kubeadm_config_patches = {"kind: ClusterConfiguration\n"};
  c.kind_config_file = "my-kind.yaml";
  c.kind_config_text = R"(kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: lab
featureGates: {InPlacePodVerticalScaling: true}
runtimeConfig: {api/alpha: "false"}
networking: {podSubnet: 10.9.0.0/16, kubeProxyMode: nftables}
nodes:
  - role: control-plane
    labels: {ingress-ready: "true"}
    extraPortMappings: [{containerPort: 80, hostPort: 8080}]
  - role: worker
    labels: {team: "on"}
    extraMounts: [{hostPath: /srv/data, containerPath: /data, readOnly: true}]
  - role: worker
kubeadmConfigPatches:
  - |
    kind: JoinConfiguration
containerdConfigPatchesJSON6902: ["[]"]
)";
  auto text = RenderKindConfig(c, inv);
  ASSERT_TRUE(text.ok()) << text.status().message();
  ExpectGolden("h100-user-kind-config.kind.yaml", *text, dir.path());
  YAML::Node doc = YAML::Load(*text);
  EXPECT_EQ(doc["networking"]["podSubnet"].as<std::string>(), "10.9.0.0/16");
  EXPECT_TRUE(doc["featureGates"]["InPlacePodVerticalScaling"].as<bool>());
  ASSERT_EQ(doc["nodes"].size(), 3u);
  EXPECT_EQ(doc["nodes"][0]["labels"]["ingress-ready"].as<std::string>(), "true");
  EXPECT_EQ(doc["nodes"][0]["extraPortMappings"][0]["hostPort"].as<int>(), 8080);
  EXPECT_FALSE(doc["nodes"][0]["labels"][kMpsNodeLabel]);
  EXPECT_EQ(doc["nodes"][1]["labels"][kMpsNodeLabel].as<std::string>(), "ready");
  EXPECT_EQ(doc["nodes"][1]["labels"]["team"].as<std::string>(), "on");
  const YAML::Node mounts = doc["nodes"][1]["extraMounts"];
  EXPECT_EQ(mounts.size(), inv.libraries.size() + inv.binaries.size() + inv.devices.size() + 1);  // ours, then the user's
  EXPECT_EQ(mounts[mounts.size() - 1]["containerPath"].as<std::string>(), "/data");
  EXPECT_FALSE(doc["nodes"][2]["extraPortMappings"]);
  ASSERT_EQ(doc["kubeadmConfigPatches"].size(), 2u);
  EXPECT_EQ(doc["kubeadmConfigPatches"][1].as<std::string>(), "kind: JoinConfiguration\n");
  EXPECT_EQ(doc["containerdConfigPatchesJSON6902"][0].as<std::string>(), "[]");
  EXPECT_EQ(*RenderKindConfig(c, inv), *text);  // deterministic
}

TEST(RenderKindConfig, TheUsersKindConfigMayNotTakeWhatIsOurs) {
  HostInventory inv;
  inv.libraries = {{"libcuda.so.1", "/l/libcuda.so.1", "/l/libcuda.so.5", "5", true}};
  config::ClusterConfig c = Defaults();
  c.kind_config_file = "k.yaml";
  const std::string head = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n";
  c.kind_config_text = head + "nodes:\n  - role: control-plane\n    extraMounts:\n"
                              "      - {hostPath: /x, containerPath: /usr/lib/x86_64-linux-gnu/libcuda.so.1}\n";
  EXPECT_EQ(RenderKindConfig(c, inv).status().message(),
            "k.yaml:6:39: node kind-control-plane: containerPath /usr/lib/x86_64-linux-gnu/libcuda.so.1 is mounted "
            "already, from /l/libcuda.so.5: choose another container path");
  c.kind_config_text = head + "nodes: [{role: control-plane, labels: {kindmps.dev/mps: ready}}]\n";
  EXPECT_THAT(RenderKindConfig(c, inv).status().message(),
              HasSubstr("k.yaml:3:40: node kind-control-plane: the label kindmps.dev/mps is kindmps-api's"));
  c.kind_config_text = head + "name: other\n";  // checked here too, for the C API's options
  EXPECT_THAT(RenderKindConfig(c, inv).status().message(), HasSubstr("conflicts with the cluster name \"kind\""));
}

}  // namespace
}  // namespace kmps::kind
