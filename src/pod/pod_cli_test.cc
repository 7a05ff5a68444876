// `kindmps-api pod` run as a user runs it: exit codes, and nothing on stdout on any error.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "cluster/state.h"
#include "support/golden.h"
#include "support/subprocess.h"

namespace kmps::pod {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

namespace fs = std::filesystem;

class PodCli : public ::testing::Test {
 protected:
  using Result = testing::ProcResult;

  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kmps-pod-cli-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    ::setenv("KMPS_STATE_DIR", dir_.c_str(), 1);
    config::ClusterConfig c = config::DefaultClusterConfig();
    c.name = "lab";
    c.workers = 2;
    c.gpu_nodes = {"lab-worker"};
    c.mps.server_uid = 1000;
    ASSERT_TRUE(cluster::SaveState(c).ok());
  }
  void TearDown() override {
    ::unsetenv("KMPS_STATE_DIR");
    fs::remove_all(dir_);
  }

  // Runs the CLI with `args` (shell words), `input` on stdin; env KIND_CLUSTER_NAME unset.
  static Result Run(const std::string& args, const std::string& input = "") {
    return testing::RunProcess({"/bin/sh", "-c", std::string(KMPS_CLI_PATH) + " pod " + args}, input,
                               {{"KIND_CLUSTER_NAME", ""}}, std::chrono::minutes(2));
  }

  // An error: exit 2, one line on stderr, nothing on stdout.
  void ExpectUsageError(const std::string& args, const std::string& message, const std::string& input = "") {
    SCOPED_TRACE(args);
    Result r = Run(args, input);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_THAT(r.err, StartsWith("kindmps-api: "));
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }

  fs::path dir_;
};

TEST_F(PodCli, PrintsAManifestFromTheSavedState) {
  Result r = Run("demo --image cuda:12 --name lab --node lab-worker --threads 30 --pinned-mem 1g -- nvidia-smi -L");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  YAML::Node m = YAML::Load(r.out);
  EXPECT_EQ(m["kind"].as<std::string>(), "Pod");
  EXPECT_EQ(m["spec"]["nodeSelector"]["kubernetes.io/hostname"].as<std::string>(), "lab-worker");
  EXPECT_EQ(m["spec"]["securityContext"]["runAsUser"].as<int>(), 1000);
  YAML::Node c = m["spec"]["containers"][0];
  EXPECT_EQ(c["command"][1].as<std::string>(), "-L");
  EXPECT_EQ(c["env"][1]["value"].as<std::string>(), "30");
  EXPECT_EQ(c["env"][2]["value"].as<std::string>(), "0=1G");
  Result d = Run("demo --image cuda:12 --name lab --kind Deployment --replicas 2 --access cdi");
  ASSERT_EQ(d.exit_code, 0) << d.err;
  YAML::Node dc = YAML::Load(d.out)["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(dc["resources"]["limits"]["kindmps.dev/mps"].as<std::string>(), "1");
}

TEST_F(PodCli, PatchesAFileOrStdin) {
  Result f = Run("--name lab --patch " + testing::GoldenPath("patch/multi.in.yaml"));
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_THAT(f.out, HasSubstr("runAsUser: 1000"));
  std::string service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n";
  Result s = Run("--name lab --patch -", service);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(s.out, service);
  EXPECT_THAT(s.err, HasSubstr("note: <stdin> has no Pod template"));
}

TEST_F(PodCli, EveryErrorExits2WithNothingOnStdout) {
  ExpectUsageError("Demo --image x --name lab", "NAME \"Demo\" is not a valid Kubernetes name (DNS-1123 label)");
  ExpectUsageError("demo --name lab", "--image is required");
  ExpectUsageError("demo --image x --name lab --threads 0", "--threads \"0\": expected an integer from 1 to 100");
  ExpectUsageError("demo --image x --name lab --threads=-5", "--threads \"-5\"");
  ExpectUsageError("demo --image x --name lab --threads nan", "--threads \"nan\"");
  ExpectUsageError("demo --image x --name lab --pinned-mem 0=1G,,1=2G", "an empty part");
  ExpectUsageError("demo --image x --name lab --pinned-mem 0=99999999999999999999G", "is too large");
  ExpectUsageError("demo --image x --name lab --uid 0", "set mps.serverUid: 0 in kindmps.yaml and run kindmps-api up");
  ExpectUsageError("demo --image x --name lab --node lab-worker2", "--node lab-worker2: this node of cluster lab has no GPU");
  ExpectUsageError("demo --image x --name lab --node nope", "--node nope: cluster lab has no such node");
  ExpectUsageError("demo --image x --name lab --replicas 3", "a Pod is one replica");
  ExpectUsageError("demo --image x --name lab --kind CronJob", "--kind \"CronJob\": expected Pod, Deployment or Job");
  ExpectUsageError("demo --image x --name lab --access nfs", "--access \"nfs\"");
  ExpectUsageError("demo --image x --name Lab_1", "--name \"Lab_1\": expected lower-case letters, digits");
  ExpectUsageError("--name lab --patch - --image x", "--image describes a generated manifest");
  ExpectUsageError("--name lab --patch /nonexistent/m.yaml", "--patch /nonexistent/m.yaml: cannot read it");
  ExpectUsageError("--name lab --patch -", "<stdin>:3:16: this container is in flow style",
                   "kind: Pod\nspec:\n  containers: [{name: c}]\n");
  ExpectUsageError("--name lab --patch -", "<stdin>:2:", "a: [b\nc: d\n");
  ExpectUsageError("demo --image x --bogus", "--bogus");  // CLI11's own usage error
}

}  // namespace
}  // namespace kmps::pod
