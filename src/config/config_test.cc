#include "config/config.h"
#include "config/decode.h"
#include "config/overrides.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kmps::config {
namespace {

using ::testing::HasSubstr;

// What every kindmps.yaml says it is. The fixtures append it, so that their lines and columns stay
// those of the keys under test.
const std::string kTypeMeta = "apiVersion: kindmps.dev/v1alpha1\nkind: Config\n";

// Unsets KIND_CLUSTER_NAME for the test, restoring it after.
class ClusterConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* v = std::getenv("KIND_CLUSTER_NAME")) saved_ = v;
    unsetenv("KIND_CLUSTER_NAME");
  }
  void TearDown() override {
    if (saved_) setenv("KIND_CLUSTER_NAME", saved_->c_str(), 1);
    else unsetenv("KIND_CLUSTER_NAME");
  }
  std::optional<std::string> saved_;
};

std::string ErrorOf(const std::string& text) {
  auto r = ParseClusterConfig(text, "kindmps.yaml");
  EXPECT_FALSE(r.ok()) << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ExitCodeFor(r.status()), 2);
  return r.status().message();
}

TEST_F(ClusterConfigTest, Defaults) {
  ClusterConfig c = DefaultClusterConfig();
  EXPECT_EQ(c.name, "kind");  // kind's default
  EXPECT_EQ(c.workers, 0);
  EXPECT_EQ(c.shm_bytes, 8ull << 30);
  EXPECT_EQ(c.mps.pipe_directory, "/tmp/nvidia-mps");
  EXPECT_EQ(c.mps.log_directory, "/var/log/nvidia-mps");
  EXPECT_TRUE(c.mps.start_server);
  EXPECT_EQ(c.mps.server_uid, 1000);  // not root: a Pod cannot quit the daemon or change it
  EXPECT_EQ(c.driver_root, "/");
  auto empty = ParseClusterConfig(kTypeMeta, "kindmps.yaml");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->name, "kind");
}

// kind's order: --name, then $KIND_CLUSTER_NAME, then the file, then kind.
TEST_F(ClusterConfigTest, TheNameIsResolvedAsKindResolvesIt) {
  auto dir = std::filesystem::temp_directory_path() / ("kmps-name-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string file = (dir / "kindmps.yaml").string();
  std::ofstream(file) << kTypeMeta << "name: from-file\n";
  ::unsetenv("KIND_CLUSTER_NAME");
  EXPECT_EQ(*ResolveClusterName("", ""), "kind");
  EXPECT_EQ(*ResolveClusterName("", file), "from-file");
  ::setenv("KIND_CLUSTER_NAME", "from-env", 1);
  EXPECT_EQ(*ResolveClusterName("", file), "from-env");
  EXPECT_EQ(LoadConfigWithOverrides(file, {})->name, "from-env");
  EXPECT_EQ(*ResolveClusterName("from-flag", file), "from-flag");
  ConfigOverrides o;
  o.name = "from-flag";
  EXPECT_EQ(LoadConfigWithOverrides(file, o)->name, "from-flag");
  EXPECT_EQ(ResolveClusterName("Bad_Name", "").status().code(), Code::kInvalidArgument);
  ::unsetenv("KIND_CLUSTER_NAME");
  std::filesystem::remove_all(dir);
}

TEST_F(ClusterConfigTest, KindClusterNameOverridesTheDefaultOnly) {
  setenv("KIND_CLUSTER_NAME", "from-env", 1);
  EXPECT_EQ(DefaultClusterConfig().name, "from-env");
  EXPECT_EQ(ParseClusterConfig("workers: 1\n" + kTypeMeta, "f")->name, "from-env");
  EXPECT_EQ(ParseClusterConfig("name: from-file\n" + kTypeMeta, "f")->name, "from-file");
}

TEST_F(ClusterConfigTest, TheExampleInTheRepoParses) {
  auto c = LoadClusterConfig(std::string(KMPS_SOURCE_DIR) + "/kindmps.example.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->name, "workshop-dra");
  ASSERT_EQ(c->extra_mounts.size(), 1u);
  EXPECT_EQ(c->extra_mounts[0].container_path, "/mnt/host-tmp");
  EXPECT_TRUE(c->extra_mounts[0].read_only);
  EXPECT_EQ(c->extra_mounts[0].propagation, "None");
  ASSERT_TRUE(c->mps.default_active_thread_percentage.has_value());
  EXPECT_DOUBLE_EQ(*c->mps.default_active_thread_percentage, 50);
  ASSERT_EQ(c->mps.pinned_device_memory_limits.size(), 1u);
  EXPECT_EQ(c->mps.pinned_device_memory_limits[0].device, "0");
  EXPECT_EQ(c->mps.pinned_device_memory_limits[0].limit, "2G");
  EXPECT_TRUE(ValidateClusterConfig(*c).ok());
}

TEST_F(ClusterConfigTest, FullConfig) {
  auto c = ParseClusterConfig(R"(name: lab
image: kindest/node:v1.33.1
workers: 2
gpuNodes: [worker, lab-control-plane]
extraMounts:
  - {hostPath: /data, containerPath: /data}
containerdConfigPatches:
  - |
    [plugins."io.containerd.grpc.v1.cri".registry]
kubeadmConfigPatches: ["kind: ClusterConfiguration\n"]
shmSize: 512Mi
mps: {startServer: false, serverUid: 1000, defaultActiveThreadPercentage: 12.5}
driverRoot: /run/nvidia/driver
devRoot: /host
apiVersion: kindmps.dev/v1alpha1
kind: Config
)", "kindmps.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->image, "kindest/node:v1.33.1");
  EXPECT_EQ(c->workers, 2);
  EXPECT_EQ(c->gpu_nodes, (std::vector<std::string>{"worker", "lab-control-plane"}));
  EXPECT_FALSE(c->extra_mounts[0].read_only);  // kind's default
  EXPECT_EQ(c->containerd_config_patches[0], "[plugins.\"io.containerd.grpc.v1.cri\".registry]\n");
  EXPECT_EQ(c->shm_bytes, 512ull << 20);
  EXPECT_EQ(c->shm_size, "512Mi");
  EXPECT_FALSE(c->mps.start_server);
  EXPECT_EQ(c->mps.server_uid, 1000);
  EXPECT_EQ(c->driver_root, "/run/nvidia/driver");
  EXPECT_EQ(c->dev_root, "/host");
  Status valid = ValidateClusterConfig(*c);
  EXPECT_TRUE(valid.ok()) << valid.message();
}

TEST_F(ClusterConfigTest, ADaemonPerGpuWithSettingsPerGpu) {
  auto c = ParseClusterConfig("mps:\n  daemons: perGpu\n  perGpu:\n    - gpu: \"1\"\n      defaultActiveThreadPercentage: 50\n"
                              "      pinnedDeviceMemoryLimit: 2G\n" + kTypeMeta, "kindmps.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->mps.daemons, MpsSettings::Daemons::kPerGpu);
  ASSERT_EQ(c->mps.per_gpu.size(), 1u);
  EXPECT_EQ(c->mps.per_gpu[0].gpu, "1");
  EXPECT_EQ(c->mps.per_gpu[0].default_active_thread_percentage, 50.0);
  EXPECT_EQ(c->mps.per_gpu[0].pinned_device_memory_limit, "2G");
  EXPECT_EQ(ErrorOf("mps:\n  daemons: perGPU\n" + kTypeMeta),
            "kindmps.yaml:2:12: mps.daemons: \"perGPU\": expected perNode or perGpu (per-node, per-gpu)");
  EXPECT_EQ(ErrorOf("mps:\n  perGpu:\n    - gpu: \"1\"\n" + kTypeMeta),
            "kindmps.yaml:2:3: mps.perGpu: settings per GPU need a daemon per GPU (mps.daemons: perGpu)");
  EXPECT_EQ(ErrorOf("mps:\n  daemons: perGpu\n  pinnedDeviceMemoryLimits:\n    - {device: \"1\", limit: 1G}\n" + kTypeMeta),
            "kindmps.yaml:2:3: mps.pinnedDeviceMemoryLimits: device 1: a per-GPU daemon sees its GPU as device 0 "
            "(mps.daemons: perGpu); give other GPUs' limits in mps.perGpu");
  EXPECT_EQ(ErrorOf("mps:\n  daemons: perGpu\n  perGpu:\n    - gpu: \"1\"\n    - gpu: \"1\"\n" + kTypeMeta),
            "kindmps.yaml:5:12: mps.perGpu[1].gpu: GPU 1 is listed twice");
  EXPECT_EQ(ErrorOf("mps:\n  daemons: perGpu\n  perGpu:\n    - defaultActiveThreadPercentage: 5\n" + kTypeMeta),
            "kindmps.yaml:4:7: mps.perGpu[0]: gpu is required (a device minor or a UUID)");
}

TEST_F(ClusterConfigTest, ErrorsArePinnedToLineAndColumn) {
  EXPECT_EQ(ErrorOf("name: a\nwrokers: 2\n" + kTypeMeta),
            "kindmps.yaml:2:1: unknown key \"wrokers\" in the config (expected one of: apiVersion, "
            "kind, name, image, workers, gpuNodes, extraMounts, containerdConfigPatches, "
            "kubeadmConfigPatches, kindConfig, shmSize, mps, gpus, driverRoot, devRoot, procRoot)");
  EXPECT_EQ(ErrorOf("workers: -1\n" + kTypeMeta),
            "kindmps.yaml:1:10: workers: expected a non-negative integer, got -1");
  EXPECT_EQ(ErrorOf("workers: \"2\"\n" + kTypeMeta),
            "kindmps.yaml:1:10: workers: expected a non-negative integer, got the quoted string \"2\"");
  EXPECT_EQ(ErrorOf("workers: two\n" + kTypeMeta),
            "kindmps.yaml:1:10: workers: expected a non-negative integer, got two");
  EXPECT_EQ(ErrorOf("shmSize: 8x\n" + kTypeMeta),
            "kindmps.yaml:1:10: shmSize: expected a size like 8g, 512m, 64Mi or a byte count, got \"8x\"");
  EXPECT_EQ(ErrorOf("shmSize: 0\n" + kTypeMeta), "kindmps.yaml:1:10: shmSize: size \"0\" is zero");
  EXPECT_EQ(ErrorOf("mps:\n  pipeDirectory: /p\n  startServr: true\n" + kTypeMeta),
            "kindmps.yaml:3:3: unknown key \"startServr\" in mps (expected one of: pipeDirectory, "
            "logDirectory, startServer, serverUid, defaultActiveThreadPercentage, "
            "pinnedDeviceMemoryLimits, daemons, perGpu)");
  EXPECT_EQ(ErrorOf("mps:\n  startServer: yes\n" + kTypeMeta),
            "kindmps.yaml:2:16: mps.startServer: expected true or false, got yes");
  EXPECT_EQ(ErrorOf("mps:\n  defaultActiveThreadPercentage: 150\n" + kTypeMeta),
            "kindmps.yaml:2:34: mps.defaultActiveThreadPercentage: expected a number from 0 to 100, got 150");
  // One grammar for numbers: no NaN, infinity, sign or exponent anywhere.
  for (const char* bad : {".nan", ".inf", "-.inf", "+50", "-0", "5e1", "0x10"}) {
    EXPECT_THAT(ErrorOf(std::string("mps:\n  defaultActiveThreadPercentage: ") + bad + "\n" + kTypeMeta),
                HasSubstr("expected a number from 0 to 100, got " + std::string(bad)));
  }
  EXPECT_EQ(ErrorOf("mps:\n  defaultActiveThreadPercentage: 0\n" + kTypeMeta),
            "kindmps.yaml:2:34: mps.defaultActiveThreadPercentage: expected a percentage in (0, 100], got 0");
  EXPECT_EQ(ErrorOf("workers: +2\n" + kTypeMeta), "kindmps.yaml:1:10: workers: expected a non-negative integer, got +2");
  EXPECT_EQ(ErrorOf("mps:\n  serverUid: 99999999999999999999\n" + kTypeMeta),
            "kindmps.yaml:2:14: mps.serverUid: expected at most 2147483647, got 99999999999999999999");
  EXPECT_EQ(ErrorOf("shmSize: 9e\n" + kTypeMeta),
            "kindmps.yaml:1:10: shmSize: expected a size like 8g, 512m, 64Mi or a byte count, got \"9e\"");
  EXPECT_EQ(ErrorOf("shmSize: 8388608t\n" + kTypeMeta),
            "kindmps.yaml:1:10: shmSize: 9223372036854775808 bytes is more than the 4398046511104 bytes (4T) a "
            "/dev/shm may have here");
  EXPECT_EQ(ErrorOf("mps:\n  pinnedDeviceMemoryLimits:\n    - {device: 64, limit: 2G}\n" + kTypeMeta),
            "kindmps.yaml:3:16: mps.pinnedDeviceMemoryLimits[0].device: expected a GPU number from 0 to 63, got \"64\"");
  EXPECT_EQ(ErrorOf("mps:\n  pinnedDeviceMemoryLimits:\n    - {device: \"0; reboot\", limit: 2G}\n" + kTypeMeta),
            "kindmps.yaml:3:16: mps.pinnedDeviceMemoryLimits[0].device: expected a GPU number from 0 to 63, got "
            "\"0; reboot\"");
  EXPECT_EQ(ErrorOf("mps:\n  pinnedDeviceMemoryLimits:\n    - {device: 0, limit: 2GB}\n" + kTypeMeta),
            "kindmps.yaml:3:26: mps.pinnedDeviceMemoryLimits[0].limit: expected a size like 512M or 2G, more than 0 "
            "and at most 1024G, got \"2GB\"");
  // Digits too many for a 64-bit number: the same error (std::stoull used to throw here).
  EXPECT_EQ(ErrorOf("mps:\n  pinnedDeviceMemoryLimits:\n    - {device: 0, limit: 99999999999999999999999M}\n" + kTypeMeta),
            "kindmps.yaml:3:26: mps.pinnedDeviceMemoryLimits[0].limit: expected a size like 512M or 2G, more than 0 "
            "and at most 1024G, got \"99999999999999999999999M\"");
  EXPECT_THAT(ErrorOf("mps:\n  pinnedDeviceMemoryLimits:\n    - {device: 0, limit: 1025G}\n" + kTypeMeta),
              HasSubstr("at most 1024G, got \"1025G\""));
  EXPECT_EQ(ErrorOf("gpuNodes: worker\n" + kTypeMeta),
            "kindmps.yaml:1:11: gpuNodes: expected a list of strings, got \"worker\"");
  EXPECT_EQ(ErrorOf("extraMounts:\n  - hostPath: /a\n    containerPath: rel\n" + kTypeMeta),
            "kindmps.yaml:3:20: extraMounts[0].containerPath: expected an absolute path, got \"rel\"");
  EXPECT_EQ(ErrorOf("extraMounts:\n  - hostPath: /a\n" + kTypeMeta),
            "kindmps.yaml:2:5: extraMounts[0]: hostPath and containerPath are both required");
  EXPECT_EQ(ErrorOf("extraMounts:\n  - {hostPath: /a, containerPath: /b, propagation: Always}\n" + kTypeMeta),
            "kindmps.yaml:2:52: extraMounts[0].propagation: expected None, HostToContainer or "
            "Bidirectional, got \"Always\"");
  EXPECT_EQ(ErrorOf("name: Lab_1\n" + kTypeMeta),
            "kindmps.yaml:1:7: name \"Lab_1\": expected lower-case letters, digits, '.' and '-' (kind's ^[a-z0-9.-]+$)");
  EXPECT_EQ(ErrorOf("name: -x\n" + kTypeMeta), "kindmps.yaml:1:7: name \"-x\": must not begin with '-' or '.'");
  EXPECT_EQ(ErrorOf("name: ..\n" + kTypeMeta), "kindmps.yaml:1:7: name \"..\": must not begin with '-' or '.'");
  EXPECT_THAT(ErrorOf("name: " + std::string(50, 'a') + "\n" + kTypeMeta),
              HasSubstr("is 50 characters, more than 49: kind's first node, <name>-control-plane, must be a valid "
                        "hostname"));
  // yaml-cpp 0.7's LoadAll loops for ever on a stray comma (found by the fuzzer): one line instead.
  EXPECT_THAT(ErrorOf(","), HasSubstr("kindmps.yaml:"));
  EXPECT_TRUE(ParseClusterConfig("---\n" + kTypeMeta + "...\n", "kindmps.yaml").ok());  // one document, marked
  EXPECT_EQ(ErrorOf(kTypeMeta + "...\nname: b\n"),
            "kindmps.yaml:4:1: a second YAML document (after ---): a kindmps.yaml holds one config");
  // Only UTF-8 travels through the state file unchanged: another byte is refused where it is.
  EXPECT_EQ(ErrorOf(kTypeMeta + "mps:\n  pipeDirectory: /tmp/\xfe\n"),
            "kindmps.yaml:4:18: mps.pipeDirectory: holds bytes that are not UTF-8");
  // A second document would be lost: it is refused where it starts.
  EXPECT_EQ(ErrorOf(kTypeMeta + "name: a\n---\n" + kTypeMeta + "name: b\n"),
            "kindmps.yaml:4:1: a second YAML document (after ---): a kindmps.yaml holds one config");
  EXPECT_EQ(ErrorOf("name: a\nname: b\n" + kTypeMeta), "kindmps.yaml:2:1: duplicate key \"name\" in the config");
  EXPECT_EQ(ErrorOf("apiVersion: v1\nkind: Config\n"),
            "kindmps.yaml:1:13: apiVersion: expected kindmps.dev/v1alpha1, got \"v1\"");
  EXPECT_EQ(ErrorOf("- a\n"), "kindmps.yaml:1:1: the config: expected a mapping, got a list");
  EXPECT_EQ(ErrorOf("driverRoot: {a: 1}\n" + kTypeMeta),
            "kindmps.yaml:1:13: driverRoot: expected a string, got a mapping");
  EXPECT_THAT(ErrorOf("name: [unclosed\n"), HasSubstr("kindmps.yaml:2:1: invalid YAML: "));
}

TEST_F(ClusterConfigTest, ApiVersionAndKindAreRequired) {
  EXPECT_EQ(ErrorOf("name: a\n"),
            "kindmps.yaml:1:1: apiVersion is missing; add \"apiVersion: kindmps.dev/v1alpha1\" as the first line");
  EXPECT_EQ(ErrorOf(""),
            "kindmps.yaml:1:1: apiVersion is missing; add \"apiVersion: kindmps.dev/v1alpha1\" as the first line");
  EXPECT_EQ(ErrorOf("# only a comment\n"),
            "kindmps.yaml:1:1: apiVersion is missing; add \"apiVersion: kindmps.dev/v1alpha1\" as the first line");
  EXPECT_EQ(ErrorOf("apiVersion: kindmps.dev/v1alpha1\nname: a\n"),
            "kindmps.yaml:2:1: kind is missing; add \"kind: Config\" below apiVersion");
  // Checked before the other keys: kind's own config is named by its apiVersion, not by "nodes".
  EXPECT_EQ(ErrorOf("nodes: []\nkind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n"),
            "kindmps.yaml:3:13: apiVersion: expected kindmps.dev/v1alpha1, got \"kind.x-k8s.io/v1alpha4\"");
  EXPECT_EQ(ErrorOf("apiVersion: kindmps.dev/v1alpha1\nkind: Cluster\n"),
            "kindmps.yaml:2:7: kind: expected Config, got \"Cluster\"");
  EXPECT_EQ(ErrorOf("apiVersion:\nkind: Config\n"),
            "kindmps.yaml:1:1: apiVersion: expected kindmps.dev/v1alpha1, got no value");
  EXPECT_EQ(ErrorOf("apiVersion: [kindmps.dev/v1alpha1]\nkind: Config\n"),
            "kindmps.yaml:1:13: apiVersion: expected a string, got a list");
  EXPECT_EQ(ErrorOf(kTypeMeta + "kind: Config\n"), "kindmps.yaml:3:1: duplicate key \"kind\" in the config");
  // The C API's options need not say what they are, but what they say is checked.
  EXPECT_TRUE(ParseClusterConfig("{\"name\": \"a\"}", "<options>", TypeMeta::kOptional).ok());
  EXPECT_TRUE(ParseClusterConfig("", "<options>", TypeMeta::kOptional).ok());
  auto wrong = ParseClusterConfig("{\"kind\": \"Cluster\"}", "<options>", TypeMeta::kOptional);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(), "<options>:1:10: kind: expected Config, got \"Cluster\"");
}

TEST_F(ClusterConfigTest, AMissingFileIsNotFoundAndAGivenOneInvalidArgument) {
  auto r = LoadClusterConfig("/nonexistent/kindmps.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("/nonexistent/kindmps.yaml"));
  // --config names a file that must be there: exit 2.
  auto given = LoadConfigWithOverrides("/nonexistent/kindmps.yaml", {});
  ASSERT_FALSE(given.ok());
  EXPECT_EQ(given.status().code(), Code::kInvalidArgument);
}

// Whatever stands where kindmps.yaml is looked for counts: a directory is exit 2, not skipped.
TEST_F(ClusterConfigTest, AConfigPathThatIsNoFileIsAnError) {
  auto dir = std::filesystem::temp_directory_path() / ("kmps-cfgdir-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "kindmps.yaml");
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir);
  auto found = LoadConfigWithOverrides("", {});
  std::filesystem::current_path(cwd);
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(found.status().message(), "config file kindmps.yaml: is a directory, not a file");
  auto big = dir / "big.yaml";
  std::ofstream(big) << std::string(kMaxConfigFileBytes + 1, '#');
  auto r = LoadConfigWithOverrides(big.string(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("is 1048577 bytes, more than the 1048576"));
  std::filesystem::remove_all(dir);
}

TEST(NodeNames, FollowKind) {
  ClusterConfig c;
  c.name = "x";
  c.workers = 3;
  EXPECT_EQ(NodeNames(c), (std::vector<std::string>{"x-control-plane", "x-worker", "x-worker2", "x-worker3"}));
  EXPECT_EQ(NodeRole(c, "x-control-plane"), "control-plane");
  EXPECT_EQ(NodeRole(c, "x-worker2"), "worker");
  EXPECT_TRUE(IsGpuNode(c, "x-worker", "worker"));
  c.gpu_nodes = {"x-worker2", "control-plane"};
  EXPECT_TRUE(IsGpuNode(c, "x-worker2", "worker"));
  EXPECT_TRUE(IsGpuNode(c, "x-control-plane", "control-plane"));
  EXPECT_FALSE(IsGpuNode(c, "x-worker", "worker"));
}

TEST_F(ClusterConfigTest, OverridesWinAndAreValidated) {
  ClusterConfig c = *ParseClusterConfig("name: file\nworkers: 1\nimage: a\n" + kTypeMeta, "f");
  ConfigOverrides o;
  o.name = "flag";
  o.workers = 2;
  o.driver_root = "/run/nvidia/driver";
  o.shm_size = "1g";
  ASSERT_TRUE(ApplyOverrides(c, o).ok());
  EXPECT_EQ(c.name, "flag");
  EXPECT_EQ(c.workers, 2);
  EXPECT_EQ(c.image, "a");  // not overridden
  EXPECT_EQ(c.driver_root, "/run/nvidia/driver");
  EXPECT_EQ(c.shm_bytes, 1ull << 30);

  ConfigOverrides bad;
  bad.workers = -1;
  EXPECT_EQ(ApplyOverrides(c, bad).message(), "--workers -1: expected 0 to 100");
  bad = {};
  bad.name = "UPPER";
  EXPECT_EQ(ApplyOverrides(c, bad).code(), Code::kInvalidArgument);
  bad = {};
  bad.dev_root = "relative";
  EXPECT_EQ(ApplyOverrides(c, bad).message(), "--dev-root \"relative\": expected an absolute path");
}

TEST_F(ClusterConfigTest, GpuNodesMustNameANodeOrRole) {
  ClusterConfig c = *ParseClusterConfig("name: lab\ngpuNodes: [lab-worker]\n" + kTypeMeta, "f");
  Status s = ValidateClusterConfig(c);
  EXPECT_EQ(s.message(), "gpuNodes: \"lab-worker\" is no node or role of this cluster "
                         "(nodes: lab-control-plane; roles: control-plane, worker)");
  c.workers = 1;
  EXPECT_TRUE(ValidateClusterConfig(c).ok());
  ConfigOverrides o;
  o.workers = 0;
  EXPECT_FALSE(ApplyOverrides(c, o).ok());
}

TEST_F(ClusterConfigTest, LoadWithOverridesReadsTheFile) {
  ConfigOverrides o;
  o.workers = 1;
  auto c = LoadConfigWithOverrides(std::string(KMPS_SOURCE_DIR) + "/kindmps.example.yaml", o);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->workers, 1);
  EXPECT_EQ(c->extra_mounts.size(), 1u);
  auto missing = LoadConfigWithOverrides("/nonexistent.yaml", o);
  EXPECT_EQ(missing.status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace kmps::config
