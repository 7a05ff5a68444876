// The client against the real Docker engine (tools/setup-docker.sh).
#include "docker_api/docker_client.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/docker_test_env.h"
#include "support/subprocess.h"

namespace kmps::docker {
namespace {

using ::testing::HasSubstr;
using kmps::testing::DockerContainerTest;

class DockerClientTest : public DockerContainerTest {};

ExecOptions Cmd(std::vector<std::string> cmd) {
  ExecOptions o;
  o.cmd = std::move(cmd);
  o.timeout = std::chrono::seconds(120);
  return o;
}

TEST_F(DockerClientTest, ExitCodes) {
  auto ok = client().ExecCapture(container(), Cmd({"true"}));
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->exit_code, 0);
  auto fail = client().ExecCapture(container(), Cmd({"sh", "-c", "exit 42"}));
  ASSERT_TRUE(fail.ok()) << fail.status().message();
  EXPECT_EQ(fail->exit_code, 42);
}

TEST_F(DockerClientTest, SeparatesStdoutAndStderr) {
  auto r = client().ExecCapture(container(), Cmd({"sh", "-c", "echo out; echo err >&2; exit 3"}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->exit_code, 3);
}

TEST_F(DockerClientTest, EnvUserAndWorkdir) {
  ExecOptions o = Cmd({"sh", "-c", "echo $KMPS_A; pwd; id -u"});
  o.env = {"KMPS_A=hello world"};
  o.working_dir = "/tmp";
  o.user = "0";
  auto r = client().ExecCapture(container(), o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->out, "hello world\n/tmp\n0\n");
}

long MaxRssKiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

TEST_F(DockerClientTest, LargeOutputStreamsInBoundedMemory) {
  struct Counter : OutputSink {
    uint64_t out = 0, err = 0;
    void OnStdout(std::string_view d) override { out += d.size(); }
    void OnStderr(std::string_view d) override { err += d.size(); }
  } sink;
  constexpr uint64_t kBytes = 200ull << 20;
  long before = MaxRssKiB();
  auto code = client().Exec(container(), Cmd({"sh", "-c", "head -c 209715200 /dev/zero; echo done >&2"}), sink);
  long growth_kib = MaxRssKiB() - before;
  ASSERT_TRUE(code.ok()) << code.status().message();
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(sink.out, kBytes);
  EXPECT_EQ(sink.err, 5u);
  EXPECT_LT(growth_kib, 32 * 1024) << "peak RSS grew by " << growth_kib << " KiB while streaming 200 MiB";
}

TEST_F(DockerClientTest, MissingBinaryExits126WithTheRuntimeMessage) {
  auto r = client().ExecCapture(container(), Cmd({"kmps-no-such-binary"}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 126);
  EXPECT_THAT(r->out + r->err, HasSubstr("executable file not found"));
  EXPECT_THAT(r->out + r->err, HasSubstr("kmps-no-such-binary"));
}

TEST_F(DockerClientTest, UnknownContainerIsNotFound) {
  std::string name = kmps::testing::UniqueContainerName("absent");
  auto r = client().ExecCapture(name, Cmd({"true"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr(name));
  EXPECT_THAT(r.status().message(), HasSubstr("HTTP 404"));
  EXPECT_EQ(client().InspectContainer(name).status().code(), Code::kNotFound);
  EXPECT_EQ(client().Top(name, "").status().code(), Code::kNotFound);
}

TEST_F(DockerClientTest, StoppedContainerIsConflict) {
  std::string name = kmps::testing::UniqueContainerName("stopped");
  auto id = kmps::testing::StartSleeper(client(), name);
  ASSERT_TRUE(id.ok()) << id.status().message();
  ASSERT_TRUE(client().StopContainer(name, 0).ok());
  ASSERT_TRUE(client().StopContainer(name, 0).ok());  // 304: already stopped
  auto r = client().ExecCapture(name, Cmd({"true"}));
  EXPECT_TRUE(client().RemoveContainer(name, true).ok());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kConflict);
  EXPECT_THAT(r.status().message(), HasSubstr("HTTP 409"));
  EXPECT_THAT(r.status().message(), HasSubstr(name));
  EXPECT_EQ(client().RemoveContainer(name, true).code(), Code::kNotFound);
}

TEST_F(DockerClientTest, InspectListAndAnchoredNameFilter) {
  auto info = client().InspectContainer(container());
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->name, container());
  EXPECT_TRUE(info->running);
  EXPECT_GT(info->pid, 0);
  EXPECT_EQ(info->labels["kmps.test"], "1");

  auto exact = client().ListContainers({.all = true, .labels = {"kmps.test=1"}, .name = container()});
  ASSERT_TRUE(exact.ok()) << exact.status().message();
  ASSERT_EQ(exact->size(), 1u);
  EXPECT_EQ((*exact)[0].name, container());
  EXPECT_EQ((*exact)[0].id, info->id);
  EXPECT_EQ((*exact)[0].state, "running");
  // A prefix of the name must not match: the filter is anchored.
  auto prefix = client().ListContainers({.all = true, .labels = {}, .name = container().substr(0, container().size() - 1)});
  ASSERT_TRUE(prefix.ok());
  for (const auto& c : *prefix) EXPECT_NE(c.name, container());
}

TEST_F(DockerClientTest, TopListsTheSleeper) {
  auto t = client().Top(container(), "");
  ASSERT_TRUE(t.ok()) << t.status().message();
  int pid = t->Column("PID"), cmd = t->Column("COMMAND");
  ASSERT_GE(pid, 0);
  ASSERT_GE(cmd, 0);
  ASSERT_FALSE(t->processes.empty());
  EXPECT_THAT(t->processes[0][static_cast<size_t>(cmd)], HasSubstr("sleep 100000"));
  auto custom = client().Top(container(), "-o pid,ppid,args");
  ASSERT_TRUE(custom.ok()) << custom.status().message();
  EXPECT_EQ(custom->titles.size(), 3u);
  EXPECT_EQ(custom->Column("PPID"), 1);
}

TEST_F(DockerClientTest, PathExistsAsksTheArchiveNotAnExec) {
  auto yes = client().PathExists(container(), "/bin/sh");
  ASSERT_TRUE(yes.ok()) << yes.status().message();
  EXPECT_TRUE(*yes);
  auto no = client().PathExists(container(), "/etc/kubernetes/admin.conf");
  ASSERT_TRUE(no.ok()) << no.status().message();
  EXPECT_FALSE(*no);
  // The keep-alive connection is still in step after the bodiless replies.
  EXPECT_TRUE(client().InspectContainer(container()).ok());
  auto absent = client().PathExists(kmps::testing::UniqueContainerName("absent"), "/bin/sh");
  EXPECT_EQ(absent.status().code(), Code::kNotFound);
  // A stopped container is asked as well.
  std::string name = kmps::testing::UniqueContainerName("stat-stopped");
  ASSERT_TRUE(kmps::testing::StartSleeper(client(), name).ok());
  ASSERT_TRUE(client().StopContainer(name, 0).ok());
  auto stopped = client().PathExists(name, "/bin/sh");
  EXPECT_TRUE(client().RemoveContainer(name, true).ok());
  ASSERT_TRUE(stopped.ok()) << stopped.status().message();
  EXPECT_TRUE(*stopped);
}

TEST_F(DockerClientTest, WaitReturnsTheExitStatus) {
  std::string name = kmps::testing::UniqueContainerName("wait");
  auto spec = kmps::testing::SleeperSpec();
  spec["Cmd"] = {"sh", "-c", "exit 5"};
  auto id = client().CreateContainer(name, spec);
  ASSERT_TRUE(id.ok()) << id.status().message();
  ASSERT_TRUE(client().StartContainer(*id).ok());
  auto code = client().WaitContainer(*id, Deadline::In(std::chrono::seconds(60)));
  EXPECT_TRUE(client().RemoveContainer(*id, true).ok());
  ASSERT_TRUE(code.ok()) << code.status().message();
  EXPECT_EQ(*code, 5);
}

TEST_F(DockerClientTest, NegotiatesTheEngineVersion) {
  auto v = client().Version();
  ASSERT_TRUE(v.ok()) << v.status().message();
  std::string server = (*v)["ApiVersion"];
  auto used = client().ApiVersion();
  ASSERT_TRUE(used.ok());
  // This engine (20.10) speaks 1.41, below the client's maximum.
  EXPECT_EQ(*used, server);
}

TEST_F(DockerClientTest, PinnedVersionIsUsedAndATooNewOneIsRefusedByTheDaemon) {
  ClientOptions o;
  o.api_version = "1.40";
  auto pinned = DockerClient::Create(o);
  ASSERT_TRUE(pinned.ok());
  EXPECT_EQ(*(*pinned)->ApiVersion(), "1.40");
  EXPECT_TRUE((*pinned)->InspectContainer(container()).ok());

  setenv("DOCKER_API_VERSION", "1.99", 1);
  auto too_new = DockerClient::Create();
  unsetenv("DOCKER_API_VERSION");
  ASSERT_TRUE(too_new.ok());
  Status s = (*too_new)->InspectContainer(container()).status();
  EXPECT_EQ(s.code(), Code::kBadRequest);
  EXPECT_THAT(s.message(), HasSubstr("1.99"));
}

// Rows of the container's top whose command line is exactly `args`.
size_t ProcessesRunning(DockerClient& client, const std::string& container, const std::string& args) {
  auto top = client.Top(container, "-o pid,args");
  if (!top.ok()) return 0;
  return static_cast<size_t>(std::count_if(top->processes.begin(), top->processes.end(),
                                           [&](const auto& row) { return !row.empty() && row.back() == args; }));
}

TEST_F(DockerClientTest, StopTaggedExecStopsTheProcessesOfItsTagOnly) {
  auto run = [&](const std::string& tag, StatusOr<int>& code) {
    auto clone = client().Clone();
    if (!clone.ok()) {
      code = clone.status();
      return;
    }
    ExecOptions o = Cmd({"sleep", "1001"});
    o.stop_tag = tag;
    CaptureSink sink;
    code = (*clone)->Exec(container(), o, sink);
  };
  StatusOr<int> a = Status(Code::kFailed, "not run"), b = Status(Code::kFailed, "not run");
  std::thread ta([&] { run("kmps-tag-a", a); });
  std::thread tb([&] { run("kmps-tag-b", b); });
  EXPECT_TRUE(kmps::testing::WaitFor([&] { return ProcessesRunning(client(), container(), "sleep 1001") == 2; }));

  auto stopped = client().StopTaggedExec(container(), "kmps-tag-a", Deadline::In(std::chrono::seconds(30)));
  ASSERT_TRUE(stopped.ok()) << stopped.status().message();
  EXPECT_EQ(stopped->terminated, 1);
  EXPECT_EQ(stopped->killed, 0);
  ta.join();
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(*a, 143);  // 128 + SIGTERM, as the daemon reports it
  EXPECT_EQ(ProcessesRunning(client(), container(), "sleep 1001"), 1u);  // b's goes on

  auto again = client().StopTaggedExec(container(), "kmps-tag-a", Deadline::In(std::chrono::seconds(30)));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->terminated, 0);
  stopped = client().StopTaggedExec(container(), "kmps-tag-b", Deadline::In(std::chrono::seconds(30)));
  ASSERT_TRUE(stopped.ok()) << stopped.status().message();
  EXPECT_EQ(stopped->terminated, 1);
  tb.join();
  EXPECT_TRUE(b.ok() && *b == 143) << (b.ok() ? std::to_string(*b) : b.status().message());

  EXPECT_EQ(client().StopTaggedExec(container(), "a b", Deadline::In(std::chrono::seconds(5))).status().code(),
            Code::kInvalidArgument);
}

TEST_F(DockerClientTest, CloneWorksOnAnotherThread) {
  auto clone = client().Clone();
  ASSERT_TRUE(clone.ok());
  StatusOr<ExecResult> r = Status(Code::kFailed, "not run");
  std::thread t([&] { r = (*clone)->ExecCapture(container(), Cmd({"echo", "hi"})); });
  t.join();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->out, "hi\n");
}

// ---- attached execs: stdin through the hijacked connection, a TTY ----

TEST_F(DockerClientTest, ExecAttachedPassesStdinAndItsEnd) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ASSERT_EQ(::write(p[1], "abc\n", 4), 4);
  ::close(p[1]);
  ExecOptions o = Cmd({"sh", "-c", "cat; echo done >&2"});
  o.attach_stdin = true;
  ExecAttach attach;
  attach.stdin_fd = p[0];
  std::string started;
  attach.on_start = [&](const std::string& id) { started = id; };
  CaptureSink sink;
  ExecProgress progress;
  auto code = client().ExecAttached(container(), o, sink, attach, progress);
  ::close(p[0]);
  ASSERT_TRUE(code.ok()) << code.status().message();
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(sink.out, "abc\n");
  EXPECT_EQ(sink.err, "done\n");
  EXPECT_FALSE(started.empty());
  EXPECT_EQ(started, progress.exec_id);
}

TEST_F(DockerClientTest, ExecWithATtyIsRawAndTakesItsSize) {
  ExecOptions o = Cmd({"sh", "-c", "sleep 0.3; stty size; exit 5"});
  o.tty = true;
  ExecAttach attach;
  Status resized = Failed("not called");
  attach.on_start = [&](const std::string& id) {
    resized = client().ExecResize(id, 40, 90, Deadline::In(std::chrono::seconds(5)));
  };
  CaptureSink sink;
  ExecProgress progress;
  auto code = client().ExecAttached(container(), o, sink, attach, progress);
  ASSERT_TRUE(code.ok()) << code.status().message();
  EXPECT_TRUE(resized.ok()) << resized.message();
  EXPECT_EQ(*code, 5);
  EXPECT_EQ(sink.out, "40 90\r\n");
  // ExecTracked with a TTY takes the same way (without stdin).
  auto plain = client().ExecCapture(container(), [] {
    ExecOptions t = Cmd({"echo", "x"});
    t.tty = true;
    return t;
  }());
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(plain->out, "x\r\n");
  // With stdin attached and none to give, the command reads its end at once (not the deadline).
  auto reader = client().ExecCapture(container(), [] {
    ExecOptions t = Cmd({"sh", "-c", "cat; echo read-to-the-end"});
    t.attach_stdin = true;
    t.timeout = std::chrono::seconds(20);
    return t;
  }());
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  EXPECT_EQ(reader->out, "read-to-the-end\n");
}

TEST_F(DockerClientTest, ResizingAnUnknownExecIsNotFound) {
  Status s = client().ExecResize("kmps-no-such-exec", 10, 10, Deadline::In(std::chrono::seconds(5)));
  EXPECT_EQ(s.code(), Code::kNotFound) << s.message();
}

}  // namespace
}  // namespace kmps::docker
