// `kindmps-api inspect` and `config`, run as a user would run them.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "support/fake_host.h"
#include "support/subprocess.h"

namespace kmps {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using Result = testing::ProcResult;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs the CLI with `args` (already shell-quoted where needed); env KIND_CLUSTER_NAME unset.
Result Cli(const std::string& args) {
  return testing::RunProcess({"/bin/sh", "-c", std::string(KMPS_CLI_PATH) + " " + args}, "",
                             {{"KIND_CLUSTER_NAME", ""}}, std::chrono::minutes(2));
}

bool HostHasNvidiaDriver() {
  struct stat st {};
  return stat("/dev/nvidiactl", &st) == 0;
}

TEST(CliInspect, OnAMachineWithoutAGpuSaysWhatIsMissing) {
  if (HostHasNvidiaDriver()) GTEST_SKIP() << "this machine has an NVIDIA driver";
  Result r = Cli("inspect");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("kindmps-api: no usable NVIDIA driver under driver root / (dev root /)"));
  EXPECT_THAT(r.err, HasSubstr("missing: library libcuda.so.1: not found (looked in /etc/ld.so.cache"));
  EXPECT_THAT(r.err, HasSubstr("missing: binary nvidia-cuda-mps-server: not found (looked in "
                               "/usr/local/nvidia/bin, /usr/bin"));
  EXPECT_THAT(r.err, HasSubstr("missing: device /dev/nvidiactl: does not exist"));
  EXPECT_THAT(r.err, HasSubstr("hint: "));
  Result json = Cli("inspect --json");
  EXPECT_EQ(json.exit_code, 3);
  // The document all the same, saying it is incomplete and what is missing, as the C API does.
  auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["apiVersion"], "kindmps.dev/v1alpha1");
  EXPECT_EQ(doc["kind"], "HostInventory");
  EXPECT_EQ(doc["complete"], false);
  EXPECT_FALSE(doc["missing"].empty());
  EXPECT_THAT(json.err, HasSubstr("missing: library libcuda.so.1"));
  Result config = Cli("config");
  EXPECT_EQ(config.exit_code, 3);
  EXPECT_EQ(config.out, "");
}

TEST(CliInspect, FakeH100HostTableAndJson) {
  if (!testing::CanMakeDevices()) GTEST_SKIP() << testing::kNeedsMknodMessage;
  testing::TempDir dir("kmps-cli-h100");
  ASSERT_TRUE(testing::H100Layout(dir.path()).ok());
  std::string roots = " --driver-root " + dir.path() + " --dev-root " + dir.path();
  Result r = Cli("inspect" + roots);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("NVIDIA driver 580.159.04"));
  EXPECT_THAT(r.out, HasSubstr(dir.path() + "/usr/local/nvidia/lib64/libcuda.so.1 -> " + dir.path() +
                               "/usr/local/nvidia/lib64/libcuda.so.580.159.04  580.159.04"));
  EXPECT_THAT(r.out, HasSubstr(dir.path() + "/dev/nvidiactl"));
  EXPECT_THAT(r.out, HasSubstr("char 195:255"));
  Result j = Cli("inspect --json" + roots);
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["driverVersion"], "580.159.04");
  EXPECT_EQ(doc["complete"], true);
}

// Paths may hold any bytes, JSON only UTF-8: such a byte is printed as U+FFFD, never a crash.
TEST(CliInspect, APathThatIsNotUtf8IsPrintedNotThrownOn) {
  if (!testing::CanMakeDevices()) GTEST_SKIP() << testing::kNeedsMknodMessage;
  testing::TempDir dir("kmps-cli-utf8");
  std::string root = dir.path() + "/\xff";
  ASSERT_EQ(::mkdir(root.c_str(), 0755), 0);
  ASSERT_TRUE(testing::H100Layout(root).ok());
  Result j = Cli("inspect --json --driver-root '" + root + "' --dev-root '" + root + "'");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["driverRoot"], dir.path() + "/\xef\xbf\xbd");
}

TEST(CliConfig, RendersAndWritesTheKindConfig) {
  if (!testing::CanMakeDevices()) GTEST_SKIP() << testing::kNeedsMknodMessage;
  testing::TempDir dir("kmps-cli-cfg");
  ASSERT_TRUE(testing::H100Layout(dir.path()).ok());
  std::string roots = " --driver-root " + dir.path() + " --dev-root " + dir.path();
  Result r = Cli("config --name lab --workers 1 --image kindest/node:v1.33.1" + roots);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  YAML::Node doc = YAML::Load(r.out);
  EXPECT_EQ(doc["name"].as<std::string>(), "lab");
  EXPECT_EQ(doc["nodes"].size(), 2u);
  EXPECT_EQ(doc["nodes"][1]["image"].as<std::string>(), "kindest/node:v1.33.1");
  std::string out = dir.path() + "/kind.yaml";
  Result w = Cli("config --output " + out + roots);
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(w.out, "");
  EXPECT_THAT(Slurp(out), HasSubstr("containerPath: /usr/lib/x86_64-linux-gnu/libcuda.so.1"));
}

TEST(CliConfig, FlagsOverrideTheFileAndBadFilesExit2) {
  testing::TempDir dir("kmps-cli-cfg");
  std::string good = dir.path() + "/good.yaml";
  const char* type_meta = "apiVersion: kindmps.dev/v1alpha1\nkind: Config\n";  // after, lines stay put
  std::ofstream(good) << "name: from-file\nworkers: 3\ndriverRoot: " << dir.path() << "\n" << type_meta;
  std::string bad = dir.path() + "/bad.yaml";
  std::ofstream(bad) << "name: lab\nworkers: -2\n" << type_meta;
  Result r = Cli("config --config " + bad);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "kindmps-api: " + bad + ":2:10: workers: expected a non-negative integer, got -2\n");
  std::string untyped = dir.path() + "/untyped.yaml";  // as kindmps.yaml was before it had to say what it is
  std::ofstream(untyped) << "name: lab\nworkers: 1\n";
  Result u = Cli("config --config " + untyped);
  EXPECT_EQ(u.exit_code, 2);
  EXPECT_EQ(u.out, "");
  EXPECT_EQ(u.err, "kindmps-api: " + untyped +
                       ":1:1: apiVersion is missing; add \"apiVersion: kindmps.dev/v1alpha1\" as the first line\n");
  Result flag = Cli("config --workers -1");
  EXPECT_EQ(flag.exit_code, 2);
  if (!testing::CanMakeDevices()) GTEST_SKIP() << testing::kNeedsMknodMessage;
  ASSERT_TRUE(testing::DebianLayout(dir.path()).ok());
  Result o = Cli("config --config " + good + " --name from-flag --workers 0 --dev-root " + dir.path());
  ASSERT_EQ(o.exit_code, 0) << o.err;
  YAML::Node doc = YAML::Load(o.out);
  EXPECT_EQ(doc["name"].as<std::string>(), "from-flag");
  EXPECT_EQ(doc["nodes"].size(), 1u);
}

TEST(CliConfig, BrokenHostExits3BeforePrinting) {
  testing::TempDir dir("kmps-cli-broken");
  ASSERT_TRUE(testing::MissingServerLayout(dir.path()).ok());
  Result r = Cli("config --driver-root " + dir.path() + " --dev-root " + dir.path());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("missing: binary nvidia-cuda-mps-server: not found"));
  EXPECT_THAT(r.err, Not(HasSubstr("missing: library")));
}

}  // namespace
}  // namespace kmps
