// Tests of the fake kind (tools/fake-kind/kind) and of the MPS emulator inside a busybox node.
// They need a Docker engine and the local image kmps-test:busybox (tools/setup-docker.sh):
// skipped without them, failed instead when KMPS_REQUIRE_DOCKER=1.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/subprocess.h"

namespace kmps::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kKind = KMPS_FAKE_KIND;
const std::string kEmuDir = KMPS_MPS_EMU_DIR;
const std::string kImage = "kmps-test:busybox";

bool DockerReady(std::string* why) {
  ProcResult v = RunProcess({"docker", "version", "--format", "{{.Server.APIVersion}}"}, "", {},
                            std::chrono::seconds(15));
  if (v.exit_code != 0) {
    *why = "Docker engine unreachable (docker version: " + v.err + ")";
    return false;
  }
  ProcResult i = RunProcess({"docker", "image", "inspect", kImage}, "", {},
                            std::chrono::seconds(15));
  if (i.exit_code != 0) {
    *why = "image " + kImage + " missing: run tools/setup-docker.sh";
    return false;
  }
  return true;
}

bool RequireDocker() {
  const char* v = std::getenv("KMPS_REQUIRE_DOCKER");
  return v != nullptr && std::string(v) == "1";
}

#define KMPS_NEED_DOCKER()                          \
  do {                                              \
    std::string why_;                               \
    if (!DockerReady(&why_)) {                      \
      if (RequireDocker()) FAIL() << why_;          \
      GTEST_SKIP() << why_;                         \
    }                                               \
  } while (0)

// The fake kind with KIND_CLUSTER_NAME unset, unless `env` sets it.
ProcResult Kind(const std::vector<std::string>& args, const std::string& in = "",
                std::map<std::string, std::string> env = {}) {
  std::vector<std::string> argv{kKind};
  argv.insert(argv.end(), args.begin(), args.end());
  env.emplace("KIND_CLUSTER_NAME", "");
  return RunProcess(argv, in, env, std::chrono::seconds(120));
}

ProcResult Docker(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"docker"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, "", {}, std::chrono::seconds(60));
}

// Whether the engine grants --privileged, which the fake kind then uses like kind (Docker >= 25).
bool EngineGrantsPrivileged() {
  ProcResult v = Docker({"version", "--format", "{{.Server.Version}}"});
  return v.exit_code == 0 && std::atoi(v.out.c_str()) >= 25;
}

class FakeKindTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    name_ = "kmps-emu-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    char tmpl[] = "/tmp/kmps-fake-kind-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    Kind({"delete", "cluster", "--name", name_});
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path WriteConfig(const std::string& text) {
    fs::path p = dir_ / "kind.yaml";
    std::ofstream(p) << text;
    return p;
  }
  std::string name_;
  fs::path dir_;
};

TEST_F(FakeKindTest, RejectsUnknownApiVersion) {
  ProcResult r = Kind({"create", "cluster", "--config", "-"},
                      "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha3\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("ERROR: failed to create cluster:"));
  EXPECT_THAT(r.err, HasSubstr("unknown apiVersion: kind.x-k8s.io/v1alpha3"));
}

TEST_F(FakeKindTest, RejectsUnknownNodeField) {
  ProcResult r = Kind({"create", "cluster", "--config", "-"},
                      "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n"
                      "- role: control-plane\n  extraMount: []\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown field \"extraMount\""));
}

TEST_F(FakeKindTest, RejectsAnInvalidClusterNameAsKindDoes) {
  ProcResult r = Kind({"create", "cluster", "--name", "Bad_Name"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ERROR: failed to create cluster: 'Bad_Name' is not a valid cluster name, cluster names must "
                   "match `^[a-z0-9.-]+$`\n");
  r = Kind({"create", "cluster"}, "", {{"KIND_CLUSTER_NAME", "under_score"}});
  EXPECT_THAT(r.err, HasSubstr("'under_score' is not a valid cluster name"));
}

TEST_F(FakeKindTest, CreatesNodesLikeKindAndDeletesThem) {
  KMPS_NEED_DOCKER();
  fs::path mounted = dir_ / "mounted.txt";
  std::ofstream(mounted) << "from-host\n";
  fs::path cfg = WriteConfig("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: " + name_ +
                             "\nnodes:\n- role: control-plane\n  extraMounts:\n  - hostPath: " +
                             mounted.string() +
                             "\n    containerPath: /etc/kmps-mounted\n    readOnly: true\n"
                             "- role: worker\n");
  ProcResult r = Kind({"create", "cluster", "--config", cfg.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("Creating cluster \"" + name_ + "\" ..."));

  r = Kind({"get", "nodes", "--name", name_});
  EXPECT_EQ(r.out, name_ + "-control-plane\n" + name_ + "-worker\n");
  r = Kind({"get", "clusters"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr(name_ + "\n"));

  const std::string cp = name_ + "-control-plane";
  r = Docker({"inspect", "-f",
              "{{index .Config.Labels \"io.x-k8s.kind.cluster\"}} "
              "{{index .Config.Labels \"io.x-k8s.kind.role\"}} {{.HostConfig.Privileged}}",
              cp, name_ + "-worker"});
  const std::string privileged = EngineGrantsPrivileged() ? "true" : "false";
  EXPECT_EQ(r.out, name_ + " control-plane " + privileged + "\n" + name_ + " worker " + privileged + "\n");
  if (privileged == "false") {
    r = Docker({"inspect", "-f", "{{.HostConfig.CapAdd}}", cp});
    EXPECT_THAT(r.out, HasSubstr("SYS_ADMIN")) << "without --privileged a node still resizes /dev/shm";
  }
  // kubeadm's marks: the kubelet config on every node, admin.conf on the control plane only.
  EXPECT_EQ(Docker({"exec", cp, "test", "-s", "/etc/kubernetes/admin.conf"}).exit_code, 0);
  EXPECT_NE(Docker({"exec", name_ + "-worker", "test", "-e", "/etc/kubernetes/admin.conf"}).exit_code, 0);
  for (const std::string& node : {cp, name_ + "-worker"}) {
    EXPECT_EQ(Docker({"exec", node, "test", "-s", "/var/lib/kubelet/config.yaml"}).exit_code, 0) << node;
  }

  r = Docker({"exec", cp, "cat", "/etc/kmps-mounted"});
  EXPECT_EQ(r.out, "from-host\n");
  r = Docker({"exec", cp, "sh", "-c", "echo x > /etc/kmps-mounted"});
  EXPECT_NE(r.exit_code, 0) << "the readOnly mount is writable";
  r = Docker({"exec", cp, "sh", "-c", "grep ' /etc/kmps-mounted ' /proc/mounts"});
  EXPECT_THAT(r.out, ::testing::ContainsRegex(" ro[, ]"));
  r = Docker({"exec", cp, "sh", "-c", "df -k /dev/shm | tail -n 1"});
  EXPECT_THAT(r.out, ::testing::ContainsRegex(" 65536 ")) << "kind leaves Docker's 64 MiB shm";
  r = Docker({"exec", cp, "hostname"});
  EXPECT_EQ(r.out, cp + "\n");

  r = Kind({"create", "cluster", "--config", cfg.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("ERROR: failed to create cluster: node(s) already exist for a "
                               "cluster with the name \"" + name_ + "\""));

  r = Kind({"delete", "cluster", "--name", name_});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("Deleting cluster \"" + name_ + "\" ..."));
  r = Docker({"ps", "-a", "-q", "--filter", "label=io.x-k8s.kind.cluster=" + name_});
  EXPECT_EQ(r.out, "");
  r = Kind({"delete", "cluster", "--name", name_});
  EXPECT_EQ(r.exit_code, 0) << "deleting a gone cluster succeeds, like kind";
  r = Kind({"get", "nodes", "--name", name_});
  EXPECT_EQ(r.out, "");
}

TEST_F(FakeKindTest, NameFlagThenEnvironmentThenConfig) {
  KMPS_NEED_DOCKER();
  fs::path cfg = WriteConfig("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: " + name_ + "-cfg\n");
  ProcResult r = Kind({"create", "cluster", "--config", cfg.string()}, "", {{"KIND_CLUSTER_NAME", name_}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("Creating cluster \"" + name_ + "\" ..."));
  EXPECT_EQ(Kind({"get", "nodes", "--name", name_}).out, name_ + "-control-plane\n");
  EXPECT_EQ(Kind({"get", "nodes", "--name", name_ + "-cfg"}).out, "");
  // --name beats the environment.
  r = Kind({"create", "cluster", "--name", name_ + "-flag"}, "", {{"KIND_CLUSTER_NAME", name_}});
  EXPECT_THAT(r.err, HasSubstr("Creating cluster \"" + name_ + "-flag\" ..."));
  EXPECT_EQ(Kind({"delete", "cluster", "--name", name_ + "-flag"}).exit_code, 0);
}

TEST_F(FakeKindTest, ANodeThatFailsToStartIsRemovedAndDockersErrorShown) {
  KMPS_NEED_DOCKER();
  // Docker creates the container, then fails to start it (the device is looked up at start).
  ProcResult r = Kind({"create", "cluster", "--name", name_}, "",
                      {{"KMPS_FAKE_KIND_DEVICES", "/dev/kmps-no-such-device"}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("ERROR: failed to create cluster: command \"docker run --name " + name_ +
                               "-control-plane --hostname " + name_ + "-control-plane "));
  EXPECT_THAT(r.err, ::testing::ContainsRegex("\" failed with error: exit status [0-9]+\n"));
  EXPECT_THAT(r.err, HasSubstr("Command Output: "));
  EXPECT_THAT(r.err, HasSubstr("docker: Error response from daemon: "));
  EXPECT_THAT(r.err, HasSubstr("/dev/kmps-no-such-device"));
  r = Docker({"ps", "-a", "-q", "--filter", "label=io.x-k8s.kind.cluster=" + name_});
  EXPECT_EQ(r.out, "") << "the node that was created but not started is left behind";
}

struct TopRow {
  int pid = 0, ppid = 0;
  std::string args;
};

std::vector<TopRow> Top(const std::string& container) {
  ProcResult r = Docker({"top", container, "-eo", "pid,ppid,args"});
  std::vector<TopRow> rows;
  std::istringstream in(r.out);
  std::string line;
  std::getline(in, line);  // titles
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    TopRow row;
    ls >> row.pid >> row.ppid;
    std::getline(ls >> std::ws, row.args);
    rows.push_back(row);
  }
  return rows;
}

const TopRow* FindRow(const std::vector<TopRow>& rows, const std::string& args) {
  for (const auto& r : rows)
    if (r.args == args) return &r;
  return nullptr;
}

TEST_F(FakeKindTest, MpsEmulatorRunsInsideBusyboxNode) {
  KMPS_NEED_DOCKER();
  std::string mounts;
  for (const char* bin : {"nvidia-cuda-mps-control", "nvidia-cuda-mps-server", "mps-emu-client"})
    mounts += std::string("  - hostPath: ") + kEmuDir + "/" + bin + "\n    containerPath: /usr/bin/" +
              bin + "\n    readOnly: true\n";
  fs::path cfg = WriteConfig("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n"
                             "- role: control-plane\n  extraMounts:\n" + mounts);
  ProcResult r = Kind({"create", "cluster", "--name", name_, "--config", cfg.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string node = name_ + "-control-plane";

  r = Docker({"exec", node, "nvidia-cuda-mps-control", "-d"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto rows = Top(node);
  const TopRow* daemon = FindRow(rows, "nvidia-cuda-mps-control -d");
  ASSERT_NE(daemon, nullptr) << "docker top lacks the daemon";
  int daemon_pid = daemon->pid;
  EXPECT_EQ(Docker({"exec", node, "ls", "/tmp/nvidia-mps/control", "/var/log/nvidia-mps/control.log"})
                .exit_code,
            0);

  r = Docker({"exec", node, "sh", "-c", "echo start_server -uid 0 | nvidia-cuda-mps-control"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  int server_ppid = 0;
  EXPECT_TRUE(WaitFor([&] {
    auto now = Top(node);
    const TopRow* s = FindRow(now, "nvidia-cuda-mps-server");
    server_ppid = s ? s->ppid : 0;
    return s != nullptr;
  }));
  EXPECT_EQ(server_ppid, daemon_pid) << "the server's parent must be the control daemon";
  r = Docker({"exec", node, "sh", "-c", "echo get_server_list | nvidia-cuda-mps-control"});
  EXPECT_THAT(r.out, ::testing::MatchesRegex("[0-9]+\n"));

  r = Docker({"exec", node, "sh", "-c", "echo quit | nvidia-cuda-mps-control"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(WaitFor([&] {
    auto now = Top(node);
    return !FindRow(now, "nvidia-cuda-mps-control -d") && !FindRow(now, "nvidia-cuda-mps-server");
  })) << "daemon or server outlived quit (or stayed a zombie)";
}

}  // namespace
}  // namespace kmps::testing
