// Host-side tests of the MPS emulator (tools/mps-emu): no Docker needed. Each test gets its own
// pipe and log directories and kills every daemon it started.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/text.h"
#include "support/subprocess.h"

namespace kmps::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kEmuDir = KMPS_MPS_EMU_DIR;
const std::string kControl = kEmuDir + "/nvidia-cuda-mps-control";
const std::string kClient = kEmuDir + "/mps-emu-client";

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int PpidOf(int pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close_paren + 2));
  char state;
  int ppid = -1;
  rest >> state >> ppid;
  return ppid;
}

class MpsEmuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kmps-mps-emu-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    pipe_ = root_ / "pipe";  // not created: the daemon must mkdir -p it
    log_ = root_ / "log" / "nested";
    env_ = {{"CUDA_MPS_PIPE_DIRECTORY", pipe_.string()}, {"CUDA_MPS_LOG_DIRECTORY", log_.string()}};
  }

  void TearDown() override {
    for (int pid : daemons_) {
      if (ProcessAlive(pid)) kill(pid, SIGKILL);  // servers follow through PDEATHSIG
    }
    for (int pid : servers_) {
      if (ProcessAlive(pid)) kill(pid, SIGKILL);
    }
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  ProcResult Control(const std::string& input,
                     std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    return RunProcess({kControl}, input, env_, limit);
  }

  // Starts a daemon and remembers its pid for TearDown.
  int StartDaemon() {
    ProcResult r = RunProcess({kControl, "-d"}, "", env_);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out, "");
    int pid = DaemonPid();
    EXPECT_GT(pid, 0);
    if (pid > 0) daemons_.push_back(pid);
    return pid;
  }

  int DaemonPid() { return std::atoi(ReadFile(pipe_ / "nvidia-cuda-mps-control.pid").c_str()); }

  std::vector<int> ServerList() {
    ProcResult r = Control("get_server_list\n");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    std::vector<int> pids;
    std::istringstream in(r.out);
    for (int p; in >> p;) {
      pids.push_back(p);
      servers_.insert(p);
    }
    return pids;
  }

  std::string ControlLog() { return ReadFile(log_ / "control.log"); }

  fs::path root_, pipe_, log_;
  std::map<std::string, std::string> env_;
  std::vector<int> daemons_;
  std::set<int> servers_;
};

TEST_F(MpsEmuTest, DashDReturnsAndLeavesDaemonWithRecordedCommandLineAndFiles) {
  int pid = StartDaemon();
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(ProcessAlive(pid));
  EXPECT_EQ(ReadFile("/proc/" + std::to_string(pid) + "/cmdline"),
            std::string("nvidia-cuda-mps-control\0-d\0", 27));
  EXPECT_EQ(Trim(ReadFile("/proc/" + std::to_string(pid) + "/comm")), "nvidia-cuda-mps");
  EXPECT_NE(PpidOf(pid), getpid()) << "the daemon must be detached (double fork)";

  struct stat st {};
  ASSERT_EQ(lstat((pipe_ / "control").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0666u);
  ASSERT_EQ(lstat((pipe_ / "control_privileged").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  ASSERT_EQ(lstat((pipe_ / "control_lock").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  ASSERT_EQ(lstat((pipe_ / "log").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(DaemonPid(), pid);

  ASSERT_TRUE(fs::exists(log_ / "server.log"));
  EXPECT_EQ(fs::file_size(log_ / "server.log"), 0u);
  std::string p = std::to_string(pid);
  std::string prefix = R"(\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} Control +)" + p + R"(\] )";
  std::string expected = prefix + "Starting control daemon using socket " + pipe_.string() +
                         "/control\n" + prefix +
                         "To connect CUDA applications to this daemon, set env "
                         "CUDA_MPS_PIPE_DIRECTORY=" + pipe_.string() + "\n" + prefix +
                         "CUDA MPS Control binary version: 13000\n";
  EXPECT_TRUE(std::regex_match(ControlLog(), std::regex(expected))) << ControlLog();
}

TEST_F(MpsEmuTest, SecondDashDSaysAlreadyRunning) {
  int pid = StartDaemon();
  ProcResult r = RunProcess({kControl, "-d"}, "", env_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "An instance of this daemon is already running\n");
  EXPECT_EQ(DaemonPid(), pid);
}

TEST_F(MpsEmuTest, CommandsGiveRecordedReplies) {
  StartDaemon();
  auto check = [&](const std::string& cmd, const std::string& want) {
    ProcResult r = Control(cmd + "\n");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_EQ(r.out, want) << cmd;
  };
  check("get_server_list", "");
  check("get_default_active_thread_percentage", "100.0\n");
  check("set_default_active_thread_percentage 50", "50.0\n");
  check("get_default_active_thread_percentage", "50.0\n");
  check("set_default_device_pinned_mem_limit 0 2G", "");
  check("get_device_client_list", "");
  check("help", "Unknown command \"help\"\n");
  // Several commands on one stdin, as the device plugin sends them.
  check("set_default_active_thread_percentage 25\nget_default_active_thread_percentage",
        "25.0\n25.0\n");
  std::string log = ControlLog();
  EXPECT_THAT(log, HasSubstr("] NEW UI\n"));
  EXPECT_THAT(log, HasSubstr("] Cmd:get_server_list\n"));
  EXPECT_THAT(log, HasSubstr("] Cmd:set_default_active_thread_percentage 50\n"));
  EXPECT_THAT(log, HasSubstr("] 50.0\n"));
  EXPECT_THAT(log, HasSubstr("] UI closed\n"));
}

TEST_F(MpsEmuTest, WithoutDaemonCommandsFail) {
  ProcResult r = Control("get_server_list\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "Cannot find MPS control daemon process\n");
}

TEST_F(MpsEmuTest, StartServerSpawnsServerAsChildOfDaemon) {
  int daemon = StartDaemon();
  ProcResult r = Control("start_server -uid 0\n");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  std::vector<int> list = ServerList();
  ASSERT_EQ(list.size(), 1u);
  int server = list[0];
  EXPECT_TRUE(ProcessAlive(server));
  EXPECT_EQ(PpidOf(server), daemon);
  EXPECT_EQ(ReadFile("/proc/" + std::to_string(server) + "/cmdline"),
            std::string("nvidia-cuda-mps-server\0", 23));
  EXPECT_EQ(Trim(ReadFile("/proc/" + std::to_string(server) + "/comm")), "nvidia-cuda-mps");
  EXPECT_THAT(ControlLog(), HasSubstr("Starting new server " + std::to_string(server) +
                                      " for user 0\n"));
  EXPECT_THAT(ControlLog(), HasSubstr("NEW SERVER " + std::to_string(server) + ": Ready\n"));
  EXPECT_THAT(ReadFile(log_ / "server.log"), HasSubstr("] Server has started\n"));

  // Again for the same uid: nothing changes.
  r = Control("start_server -uid 0\n");
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(ServerList(), std::vector<int>{server});
  EXPECT_EQ(Control("get_server_status " + std::to_string(server) + "\n").out, "FAULT\n");

  // Another uid: the old server is told to go and a new one replaces it.
  r = Control("start_server -uid 1000\n");
  EXPECT_EQ(r.out, "Try shutting down server " + std::to_string(server) +
                       ", backoff is disabled\n");
  int replacement = 0;
  EXPECT_TRUE(WaitFor([&] {
    auto l = ServerList();
    replacement = l.size() == 1 && l[0] != server ? l[0] : 0;
    return replacement != 0;
  }));
  EXPECT_FALSE(ProcessAlive(server));
  EXPECT_THAT(ControlLog(), HasSubstr("Starting new server " + std::to_string(replacement) +
                                      " for user 1000\n"));

  // shutdown_server: the server exits and the daemon reaps it (no zombie left).
  r = Control("shutdown_server " + std::to_string(replacement) + " 0\n");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(WaitFor([&] { return !fs::exists("/proc/" + std::to_string(replacement)); }))
      << "server " << replacement << " not reaped";
  EXPECT_THAT(ControlLog(), HasSubstr("Server " + std::to_string(replacement) +
                                      " exited with status 0\n"));
  EXPECT_EQ(ServerList(), std::vector<int>{});
}

TEST_F(MpsEmuTest, ClientStartsServerLazily) {
  int daemon = StartDaemon();
  EXPECT_EQ(ServerList(), std::vector<int>{});
  ProcResult r = RunProcess({kClient, "-uid", "0"}, "", env_);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::vector<int> list = ServerList();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(r.out, "mps-emu-client: attached to server " + std::to_string(list[0]) + "\n");
  EXPECT_TRUE(ProcessAlive(list[0])) << "the server stays after the client exits";
  EXPECT_EQ(PpidOf(list[0]), daemon);
  std::string log = ControlLog();
  EXPECT_THAT(log, ::testing::ContainsRegex(
                       "NEW CLIENT [0-9]+ from user 0: Server is not ready, push client to "
                       "pending list\n"));
  EXPECT_THAT(log, HasSubstr("Starting new server " + std::to_string(list[0]) + " for user 0\n"));
  EXPECT_THAT(log, HasSubstr("NEW SERVER " + std::to_string(list[0]) + ": Ready\n"));
  // As on the H100: a server that has served a client reports ACTIVE once idle again.
  EXPECT_EQ(Control("get_server_status " + std::to_string(list[0]) + "\n").out, "ACTIVE\n");

  // A second client finds the server.
  r = RunProcess({kClient}, "", env_);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(ControlLog(), HasSubstr(": Server already exists\n"));
}

// As the real daemon on the H200 (docs/gpu-e2e-run/h200-mps-access-probe.log): another uid reaches
// only `control`, where queries work and quit and settings are refused (exit 0, logged); root
// with control_privileged masked by /dev/null likewise, except start_server.
TEST_F(MpsEmuTest, OnlyRootThroughThePrivilegedSocketMayQuitOrChangeSettings) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (setpriv to uid 1000)";
  if (RunProcess({"sh", "-c", "command -v setpriv && command -v unshare"}).exit_code != 0) GTEST_SKIP() << "no setpriv";
  StartDaemon();
  std::error_code ec;
  fs::permissions(root_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec, ec);
  EXPECT_EQ(fs::status(pipe_ / "control_privileged").permissions() & fs::perms::others_write, fs::perms::none);
  const std::vector<std::string> as_1000 = {"setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", kControl};
  ProcResult r = RunProcess(as_1000, "get_default_active_thread_percentage\n", env_);
  EXPECT_EQ(r.out, "100.0\n") << "queries work for everyone";
  r = RunProcess(as_1000, "set_default_active_thread_percentage 10\n", env_);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("Insufficient privileges for UID 1000. Control deamon settings can only be "
                               "modified by the user who started it or by the root user."));
  r = RunProcess(as_1000, "start_server -uid 4242\n", env_);
  EXPECT_THAT(r.out, HasSubstr("Insufficient privileges for UID 1000."));
  r = RunProcess(as_1000, "quit\n", env_);
  EXPECT_EQ(r.out, "Not enough privilege to execute quit command\n");
  // Root whose control_privileged is /dev/null (what a Pod sees): settings and quit refused.
  const std::vector<std::string> masked = {
      "unshare", "-m", "--propagation", "private", "sh", "-c",
      "mount --bind /dev/null \"$CUDA_MPS_PIPE_DIRECTORY/control_privileged\" && exec \"$0\"", kControl};
  r = RunProcess(masked, "set_default_active_thread_percentage 10\n", env_);
  EXPECT_THAT(r.out, HasSubstr("Insufficient privileges for UID 0."));
  r = RunProcess(masked, "quit\n", env_);
  EXPECT_EQ(r.out, "Not enough privilege to execute quit command\n");
  EXPECT_EQ(Control("get_default_active_thread_percentage\n").out, "100.0\n") << "nothing changed";
  EXPECT_THAT(ControlLog(), HasSubstr("Cmd:quit\n"));
  EXPECT_THAT(ControlLog(), HasSubstr("Not enough privilege to execute quit command\n"));
  // Root through the privileged socket may.
  EXPECT_EQ(Control("set_default_active_thread_percentage 10\n").out, "10.0\n");
  // shutdown_server: refused for another user's server; the server's own user may (as a uid-1000
  // Pod stopped the uid-1000 server on the H200).
  ASSERT_EQ(Control("start_server -uid 0\n").exit_code, 0);
  std::vector<int> servers = ServerList();
  ASSERT_EQ(servers.size(), 1u);
  r = RunProcess(as_1000, "shutdown_server " + std::to_string(servers[0]) + " 0\n", env_);
  EXPECT_EQ(r.out, "Not enough privilege to execute shutdown_server command\n");
  EXPECT_EQ(ServerList(), servers);
}

TEST_F(MpsEmuTest, PinnedLimitsReadBackAsSet) {
  StartDaemon();
  EXPECT_EQ(Control("get_default_device_pinned_mem_limit 0\n").out, "") << "nothing while unset";
  EXPECT_EQ(Control("set_default_device_pinned_mem_limit 0 2G\n").out, "");
  EXPECT_EQ(Control("get_default_device_pinned_mem_limit 0\n").out, "2G\n");
  EXPECT_EQ(Control("get_default_device_pinned_mem_limit 1\n").out, "");
}

TEST_F(MpsEmuTest, QuitLeavesStaleSocketsAndDaemonCanStartAgain) {
  int daemon = StartDaemon();
  ASSERT_EQ(Control("start_server -uid 0\n").exit_code, 0);
  std::vector<int> list = ServerList();
  ASSERT_EQ(list.size(), 1u);
  ProcResult r = Control("quit\n");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(daemon) && !ProcessAlive(list[0]); }));
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(pipe_)) names.insert(e.path().filename());
  EXPECT_EQ(names, (std::set<std::string>{"control", "control_lock", "control_privileged"}));
  EXPECT_THAT(ControlLog(), HasSubstr("Exit with status 0\n"));

  r = Control("get_server_list\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "Cannot find MPS control daemon process\n");

  int again = StartDaemon();
  EXPECT_NE(again, daemon);
  EXPECT_EQ(Control("get_default_active_thread_percentage\n").out, "100.0\n");
}

TEST_F(MpsEmuTest, HangFaultNeverAnswersStartServer) {
  StartDaemon();
  std::ofstream(pipe_ / "emu-faults") << "hang start_server\n";
  ProcResult r = Control("start_server -uid 0\n", std::chrono::seconds(2));
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.out, "");
  // The daemon still serves other commands.
  r = Control("get_default_active_thread_percentage\n");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "100.0\n");
}

TEST_F(MpsEmuTest, RefuseOnceFaultRefusesOneCommand) {
  StartDaemon();
  std::ofstream(pipe_ / "emu-faults") << "refuse-once get_server_list\nhang nothing_real\n";
  ProcResult r = Control("get_server_list\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "Cannot send command to MPS control daemon process\n");
  r = Control("get_server_list\n");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(ReadFile(pipe_ / "emu-faults"), "hang nothing_real\n");
}

TEST_F(MpsEmuTest, DieFaultLeavesStaleFilesAndANewDaemonCanStart) {
  int daemon = StartDaemon();
  ASSERT_EQ(Control("start_server -uid 0\n").exit_code, 0);
  std::vector<int> list = ServerList();
  ASSERT_EQ(list.size(), 1u);
  std::ofstream(pipe_ / "emu-faults") << "die\n";
  ProcResult r = Control("get_server_list\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(daemon); }));
  EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(list[0]); })) << "server outlived its daemon";
  EXPECT_TRUE(fs::exists(pipe_ / "control"));
  EXPECT_TRUE(fs::exists(pipe_ / "nvidia-cuda-mps-control.pid"));
  EXPECT_EQ(Control("get_server_list\n").out, "Cannot find MPS control daemon process\n");

  fs::remove(pipe_ / "emu-faults");
  int again = StartDaemon();
  EXPECT_NE(again, daemon);
  EXPECT_EQ(Control("get_server_list\n").exit_code, 0);
}

// Several GPUs (docs/emulators.md): the node's GPUs are the table's whose device node exists; the
// daemon's CUDA_VISIBLE_DEVICES picks the server's, as CUDA reads it.
class MpsEmuGpuTest : public MpsEmuTest {
 protected:
  const std::string kU0 = "GPU-0a37b445-b9ed-3735-da8c-c076ad0ec17a";
  const std::string kU1 = "GPU-bf78a8dc-e12e-412a-af99-bc96c170f1bf";
  const std::string kU2 = "GPU-158c7a95-fdc7-d280-b4e4-87b6d5a1d935";

  // A table of three GPUs, with device nodes (plain files stand in) for `nodes`.
  void Gpus(const std::vector<int>& nodes) {
    fs::create_directories(root_ / "node" / "dev");
    for (int n : nodes) std::ofstream(root_ / "node" / "dev" / ("nvidia" + std::to_string(n)));
    std::ofstream(root_ / "node" / "dev" / "nvidiactl");
    env_["KMPS_EMU_GPUS"] = "0=" + kU0 + ",1=" + kU1 + ",2=" + kU2;
    env_["KMPS_EMU_DEV_ROOT"] = (root_ / "node").string();
  }

  ProcResult Client() { return RunProcess({kClient}, "", env_); }
  std::string ServerLog() { return ReadFile(log_ / "server.log"); }
};

TEST_F(MpsEmuGpuTest, TheServerServesTheGpuItsDaemonsCudaVisibleDevicesNames) {
  Gpus({0, 1, 2});
  env_["CUDA_VISIBLE_DEVICES"] = kU1;
  StartDaemon();
  env_.erase("CUDA_VISIBLE_DEVICES");  // the client's own does not matter
  ProcResult r = Client();
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::vector<int> list = ServerList();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(r.out, "mps-emu-client: attached to server " + std::to_string(list[0]) +
                       "\nmps-emu-client: device 0: " + kU1 + "\n");
  EXPECT_THAT(ServerLog(), HasSubstr("] Creating server context on device 0 (MPS emulator, " + kU1 + ")\n"));
  EXPECT_THAT(ServerLog(), Not(HasSubstr(kU0)));
}

TEST_F(MpsEmuGpuTest, IndicesPrefixesAndCudasStopAtTheFirstBadEntry) {
  Gpus({0, 1, 2});
  // Index 2, then a unique UUID prefix, then one that names no GPU: CUDA drops it and the rest.
  env_["CUDA_VISIBLE_DEVICES"] = "2, " + kU0.substr(0, 12) + ",GPU-ffffffff," + kU1;
  StartDaemon();
  ProcResult r = Client();
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("\nmps-emu-client: device 0: " + kU2 + "\nmps-emu-client: device 1: " + kU0 + "\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("device 2:")));
}

TEST_F(MpsEmuGpuTest, WithoutCudaVisibleDevicesEveryGpuOfTheNodeFromTheFile) {
  Gpus({0, 2});
  env_.erase("KMPS_EMU_GPUS");
  std::ofstream(root_ / "gpus") << "0 " << kU0 << "\n1 " << kU1 << "\n2 " << kU2 << "\n";
  env_["KMPS_EMU_GPUS_FILE"] = (root_ / "gpus").string();
  StartDaemon();
  ProcResult r = Client();
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("\nmps-emu-client: device 0: " + kU0 + "\nmps-emu-client: device 1: " + kU2 + "\n"))
      << "GPU 1 has no device node here";
}

TEST_F(MpsEmuGpuTest, AUuidTheNodeLacksFailsTheServerAndTheListStaysEmpty) {
  Gpus({0});
  env_["CUDA_VISIBLE_DEVICES"] = kU1;  // in the table, but without /dev/nvidia1: not this node's
  StartDaemon();
  ProcResult r = Control("start_server -uid 0\n");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  ASSERT_TRUE(WaitFor([&] { return ControlLog().find("exited with status 1\n") != std::string::npos; })) << ControlLog();
  EXPECT_EQ(ServerList(), std::vector<int>{});
  EXPECT_THAT(ServerLog(), HasSubstr("] Failed to start : no CUDA-capable device is detected\n"));
  EXPECT_THAT(ServerLog(), Not(HasSubstr("Server has started")));
  EXPECT_THAT(ControlLog(), HasSubstr("] Server encountered a fatal exception. Shutting down\n"));

  // A client gets the error instead of a server, and the daemon does not loop starting servers.
  r = Client();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "mps-emu-client: no CUDA-capable device is detected\n");
  EXPECT_EQ(ServerList(), std::vector<int>{});
  std::string log = ControlLog();
  size_t starts = 0;
  for (size_t at = log.find("Starting new server"); at != std::string::npos; at = log.find("Starting new server", at + 1)) ++starts;
  EXPECT_EQ(starts, 2u) << log;
}

TEST_F(MpsEmuGpuTest, AnEmptyListIsNoGpuAsInCuda) {
  Gpus({0, 1});
  // RunProcess takes an empty value for "unset": env(1) sets it empty.
  ProcResult d = RunProcess({"env", "CUDA_VISIBLE_DEVICES=", kControl, "-d"}, "", env_);
  ASSERT_EQ(d.exit_code, 0) << d.out;
  daemons_.push_back(DaemonPid());
  ProcResult r = Client();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "mps-emu-client: no CUDA-capable device is detected\n");
}

TEST_F(MpsEmuGpuTest, WithoutATableCudaVisibleDevicesIsIgnoredAsBefore) {
  env_["KMPS_EMU_GPUS_FILE"] = (root_ / "absent").string();
  env_["CUDA_VISIBLE_DEVICES"] = "GPU-ffffffff";
  StartDaemon();
  ProcResult r = Client();
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::vector<int> list = ServerList();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(r.out, "mps-emu-client: attached to server " + std::to_string(list[0]) + "\n");
  EXPECT_THAT(ServerLog(), HasSubstr("Creating server context on device 0 (MPS emulator)\n"));
}

}  // namespace
}  // namespace kmps::testing
