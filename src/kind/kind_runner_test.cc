#include "kind/kind_runner.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace kmps::kind {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// No process of the group is left. PID 1 here may reap orphans a second late: a zombie counts as
// gone (ProcessGroupAlive), anything else fails.
bool GroupAlive(pid_t pgid) {
  if (::kill(-pgid, 0) != 0) return errno != ESRCH;
  return ProcessGroupAlive(pgid);
}

// Collects the child's lines; the first one is the child's PID (= its group) when it prints $$.
// `ready` counts the lines "ready", which a child prints once its traps are set.
struct Output {
  std::vector<std::string> lines;
  std::atomic<int> ready{0};
  std::function<void(std::string_view)> Fn() {
    return [this](std::string_view l) {
      lines.emplace_back(l);
      if (l == "ready") ready.fetch_add(1);
    };
  }
  pid_t Pgid() const { return lines.empty() ? 0 : static_cast<pid_t>(std::stoi(lines.front())); }
  bool Has(const std::string& line) const {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  }
};

// Sends `signo` to this process from another thread once `ready` reached `want` (the children
// set their traps, and RunProcess its handler, before), then `after` later. A signal raised on a
// timer instead could meet the default disposition on a busy machine and end the test binary.
// Gives up, raising nothing, when the children are not ready within 20 s.
std::thread RaiseWhenReady(const std::atomic<int>& ready, int want, int signo,
                           std::chrono::milliseconds after = 0ms) {
  return std::thread([&ready, want, signo, after] {
    auto give_up = Clock::now() + 20s;
    while (ready.load() < want) {
      if (Clock::now() >= give_up) return;
      std::this_thread::sleep_for(5ms);
    }
    std::this_thread::sleep_for(after);
    std::raise(signo);
  });
}

// What a trapping child runs once it said "ready". A signal that reaches the shell between two
// commands (before it forked the next sleep) only runs the trap once the running command is done,
// so the commands are short: one `sleep 30` would hold the trap for 30 s.
const std::string kShortSleeps = "while :; do sleep 0.1; done";

volatile sig_atomic_t g_caught = 0;
void CountSignal(int) { g_caught = g_caught + 1; }

// The disposition of `signo` (SIGINT unless told) set to `handler` for a test's time (g_caught
// reset), then put back. A test that expects a signal forwarded sets SIG_DFL first: a shell
// starts a background job with SIGINT and SIGQUIT ignored, and an ignored signal stays ignored.
class SignalDisposition {
 public:
  explicit SignalDisposition(void (*handler)(int), int signo = SIGINT) : signo_(signo) {
    struct sigaction sa = {};
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    EXPECT_EQ(::sigaction(signo_, &sa, &before_), 0);
    g_caught = 0;
  }
  ~SignalDisposition() { ::sigaction(signo_, &before_, nullptr); }

 private:
  int signo_;
  struct sigaction before_ = {};
};

TEST(KindArgs, CreateAndDelete) {
  EXPECT_EQ(CreateClusterArgs("/usr/bin/kind", "demo", "/s/kind-config.yaml", ""),
            (std::vector<std::string>{"/usr/bin/kind", "create", "cluster", "--name", "demo", "--config",
                                      "/s/kind-config.yaml"}));
  EXPECT_EQ(CreateClusterArgs("kind", "demo", "c.yaml", "kindest/node:v1.31.0").back(), "kindest/node:v1.31.0");
  EXPECT_EQ(DeleteClusterArgs("kind", "demo"),
            (std::vector<std::string>{"kind", "delete", "cluster", "--name", "demo"}));
}

// kind's own flags pass through with kind's spelling; delete takes only --kubeconfig.
TEST(KindArgs, KindsOwnFlagsPassThrough) {
  KindFlags f{"90s", true, "/k/config"};
  EXPECT_EQ(CreateClusterArgs("kind", "demo", "c.yaml", "", f),
            (std::vector<std::string>{"kind", "create", "cluster", "--name", "demo", "--config", "c.yaml", "--wait",
                                      "90s", "--retain", "--kubeconfig", "/k/config"}));
  EXPECT_EQ(DeleteClusterArgs("kind", "demo", f),
            (std::vector<std::string>{"kind", "delete", "cluster", "--name", "demo", "--kubeconfig", "/k/config"}));
}

TEST(IsKindDuration, TakesGoDurationsOfWholeUnits) {
  for (const char* good : {"0", "0s", "90s", "5m", "1h30m", "500ms"}) EXPECT_TRUE(IsKindDuration(good)) << good;
  for (const char* bad : {"", "5", "-5s", "1.5m", "5 m", "5min", "s", "nan"}) EXPECT_FALSE(IsKindDuration(bad)) << bad;
}

TEST(FindExecutable, MissingKindIsAnEnvironmentError) {
  auto r = FindExecutable("kmps-no-such-kind-binary");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kEnvironment);
  EXPECT_NE(r.status().message().find("kmps-no-such-kind-binary not found on PATH"), std::string::npos);
  EXPECT_EQ(FindExecutable("/nonexistent/kind").status().code(), Code::kEnvironment);
  auto sh = FindExecutable("sh");
  ASSERT_TRUE(sh.ok());
  EXPECT_NE(sh->find("/sh"), std::string::npos);
}

TEST(RunProcess, StreamsMergedLinesAndKeepsTheTail) {
  std::vector<std::string> lines;
  auto r = RunProcess({"/bin/sh", "-c", "echo one; echo two >&2; printf three; exit 4"},
                      Deadline::In(std::chrono::seconds(20)), [&](std::string_view l) { lines.emplace_back(l); }, 2);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 4);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(r->tail, (std::deque<std::string>{"two", "three"}));
}

TEST(RunProcess, KillsAProcessPastItsDeadline) {
  auto r = RunProcess({"/bin/sh", "-c", "echo started; exec sleep 30"}, Deadline::In(std::chrono::milliseconds(300)),
                      nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded);
}

TEST(RunProcess, AMissingProgramIsAnEnvironmentError) {
  auto r = RunProcess({"/nonexistent/kind", "version"}, Deadline::In(std::chrono::seconds(5)), nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kEnvironment);
}

TEST(RunProcess, TheChildLeadsAProcessGroupOfItsOwn) {
  Output out;
  auto r = RunProcess({"/bin/sh", "-c", "echo $$; cut -d' ' -f5 /proc/$$/stat"}, Deadline::In(20s), out.Fn());
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(out.lines.size(), 2u);
  EXPECT_EQ(out.lines[1], out.lines[0]);  // pgrp == pid
  EXPECT_NE(out.Pgid(), ::getpgrp());
}

// Runs `script`, whose child exits 3 while a grandchild lives on for 2 s: RunProcess returns once
// the grandchild is gone, well before the deadline.
void ExpectTheGrandchildIsWaitedFor(const std::string& script, Output& out) {
  auto t0 = Clock::now();
  auto r = RunProcess({"/bin/sh", "-c", script}, Deadline::In(20s), out.Fn());
  double took = SecondsSince(t0);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_GE(took, 2.0);
  EXPECT_LT(took, 20.0);
  EXPECT_FALSE(GroupAlive(out.Pgid()));
  EXPECT_FALSE(r->stopped_leftovers);  // within the leftover grace
  std::printf("returned after %.2f s (grandchild: 2 s)\n", took);
}

// kind's case: a `docker run` it started outlives it, with output of its own (the pipe closes when
// the child exits).
TEST(RunProcess, WaitsForAGrandchildThatOutlivesTheChild) {
  Output out;
  ExpectTheGrandchildIsWaitedFor("echo $$; sleep 2 >/dev/null 2>&1 & exit 3", out);
}

TEST(RunProcess, AGrandchildHoldingTheOutputIsReadUntilItIsGone) {
  Output out;
  ExpectTheGrandchildIsWaitedFor("echo $$; (sleep 2; echo late) & echo early; exit 3", out);
  EXPECT_EQ(out.lines.size(), 3u);
  EXPECT_TRUE(out.Has("early") && out.Has("late"));
}

// RunProcess of `sh -c script` with `limits`, and how long it took.
struct Timed {
  StatusOr<ProcessResult> r = Failed("not run");
  double took = 0;
};
Timed RunTimed(const std::string& script, Output& out, const RunLimits& limits) {
  auto t0 = Clock::now();
  Timed t;
  t.r = RunProcess({"/bin/sh", "-c", script}, Deadline::In(20s), out.Fn(), 20, limits);
  t.took = SecondsSince(t0);
  return t;
}

// kind exits while a process of its own group lives on holding the output pipe (a shell's
// `sleep 1000 &`): RunProcess gives it leftover_grace (0.3 s here), then TERM, then KILL
// term_grace later, and returns kind's exit code.
TEST(RunProcess, ALeftoverOfTheChildsGroupIsStoppedAfterTheGrace) {
  struct Case {
    const char* script;
    std::chrono::milliseconds term_grace;
    double at_least, below;  // seconds
  };
  for (const Case& c : {Case{"echo $$; sleep 1000 & echo bye; exit 3", 2s, 0.3, 2.0},  // TERM ends it
                        Case{"echo $$; (trap '' TERM; exec sleep 1000) & echo bye; exit 3", 500ms, 0.8, 4.0}}) {
    Output out;
    RunLimits limits;
    limits.leftover_grace = 300ms;
    limits.term_grace = c.term_grace;
    auto [r, took] = RunTimed(c.script, out, limits);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->exit_code, 3) << c.script;
    EXPECT_TRUE(r->stopped_leftovers) << c.script;
    EXPECT_FALSE(r->leftovers_outlived_kill) << c.script;
    EXPECT_TRUE(out.Has("bye")) << c.script;
    EXPECT_GE(took, c.at_least) << c.script;
    EXPECT_LT(took, c.below) << c.script;
    EXPECT_FALSE(GroupAlive(out.Pgid())) << c.script;
    std::printf("%s: returned after %.2f s (leftover grace 0.3 s)\n", c.script, took);
  }
}

// kind's `docker run`s go on making their node after kind exits, and no TERM would stop the
// daemon's part: a member by an awaited name is waited for, past leftover_grace.
TEST(RunProcess, AnAwaitedLeftoverIsWaitedForPastTheGrace) {
  char dir[] = "/tmp/kmps-awaited-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string docker = std::string(dir) + "/docker";
  ASSERT_EQ(::symlink("/bin/sleep", docker.c_str()), 0);  // comm "docker"
  Output out;
  RunLimits limits;
  limits.leftover_grace = 200ms;
  limits.awaited_leftovers = {"docker"};
  auto [r, took] = RunTimed("echo $$; " + docker + " 1.2 & exit 0", out, limits);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_FALSE(r->stopped_leftovers);
  EXPECT_GE(took, 1.1);
  EXPECT_LT(took, 5.0);
  ::unlink(docker.c_str());
  ::rmdir(dir);
}

// A grandchild that left the group (a session of its own) and holds the pipe is no leftover: it
// is left, untouched, output_grace after the group is gone.
TEST(RunProcess, AGrandchildOutsideTheGroupHoldingThePipeIsLeftAfterTheOutputGrace) {
  Output out;
  RunLimits limits;
  limits.output_grace = 300ms;
  limits.leftover_grace = 20s;
  auto [r, took] = RunTimed("setsid sh -c 'echo $$; exec sleep 30' & sleep 0.2; exit 4", out, limits);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 4);
  EXPECT_FALSE(r->stopped_leftovers);
  EXPECT_LT(took, 3.0);
  ASSERT_GT(out.Pgid(), 0);
  EXPECT_EQ(::kill(out.Pgid(), 0), 0);  // still there: not ours to stop
  ::kill(out.Pgid(), SIGKILL);
}

// KiB of peak RSS of this process so far.
long PeakRssKib() {
  struct rusage ru = {};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// One line of $KMPS_LONG_LINE_MB MiB (64 unless set; 300 measures the case): it is cut
// at max_line_bytes, the rest read and dropped, in linear time and bounded memory.
TEST(RunProcess, AHugeLineIsCutAndNeverHeld) {
  const char* mb_env = std::getenv("KMPS_LONG_LINE_MB");
  const size_t mb = mb_env != nullptr ? std::strtoul(mb_env, nullptr, 10) : 64;
  const size_t bytes = mb << 20;
  std::vector<std::string> lines;
  long rss0 = PeakRssKib();
  auto t0 = Clock::now();
  std::string script = "head -c " + std::to_string(bytes) + " /dev/zero | tr '\\0' x; echo; echo after";
  auto r = RunProcess({"/bin/sh", "-c", script}, Deadline::In(60s), [&](std::string_view l) { lines.emplace_back(l); });
  double took = SecondsSince(t0);
  long grew_kib = PeakRssKib() - rss0;
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 0);
  RunLimits limits;
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], std::string(limits.max_line_bytes, 'x') + CutMark(bytes - limits.max_line_bytes));
  EXPECT_EQ(lines[1], "after");
  EXPECT_EQ(r->tail.front(), lines[0]);
  EXPECT_LT(grew_kib, 16 * 1024) << "peak RSS grew by " << grew_kib << " KiB";
  if (mb <= 64) {
    EXPECT_LT(took, 5.0);
  }
  std::printf("%zu MiB line in %.2f s, peak RSS grew by %ld KiB\n", mb, took, grew_kib);
}

TEST(RunProcess, ManyShortLinesAllArrive) {
  size_t count = 0;
  std::string first, last;
  auto t0 = Clock::now();
  auto r = RunProcess({"/bin/sh", "-c", "seq 1 300000"}, Deadline::In(60s), [&](std::string_view l) {
    if (count++ == 0) first = l;
    last = l;
  });
  double took = SecondsSince(t0);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(count, 300000u);
  EXPECT_EQ(first, "1");
  EXPECT_EQ(last, "300000");
  EXPECT_EQ(r->tail.size(), 20u);
  EXPECT_EQ(r->tail.back(), "300000");
  EXPECT_LT(took, 10.0);
  std::printf("300000 lines in %.2f s\n", took);
}

TEST(RunProcess, ALineIsCutOnACharacterAndALineAtTheLimitIsNot) {
  std::vector<std::string> lines;
  RunLimits limits;
  limits.max_line_bytes = 5;
  auto r = RunProcess({"/bin/sh", "-c", "printf 'abcd\\342\\234\\223xyz\\n12345\\n123456\\nend'"}, Deadline::In(20s),
                      [&](std::string_view l) { lines.emplace_back(l); }, 20, limits);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(lines, (std::vector<std::string>{"abcd" + CutMark(6), "12345", "12345" + CutMark(1), "end"}));
  EXPECT_EQ(CutMark(6), " \u2026 [6 bytes cut]");
}

TEST(RunProcess, ControlCharactersAndBinaryOutputAreEscaped) {
  std::vector<std::string> lines;
  std::string script = "printf '\\033[31mred\\033[0m\\n\\377\\376\\001 \\342\\234\\223\\tok\\ndos\\r\\n'";
  auto r = RunProcess({"/bin/sh", "-c", script}, Deadline::In(20s), [&](std::string_view l) { lines.emplace_back(l); });
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(lines, (std::vector<std::string>{"\\x1b[31mred\\x1b[0m", "\\xff\\xfe\\x01 \u2713\tok", "dos"}));
  EXPECT_EQ(std::vector<std::string>(r->tail.begin(), r->tail.end()), lines);
}

// The deadline holds while the child prints without end, in lines or in one line.
TEST(RunProcess, TheDeadlineStopsAChildThatNeverStopsPrinting) {
  for (const char* script : {"exec yes", "yes | tr -d '\\n'"}) {
    size_t count = 0, longest = 0;
    auto t0 = Clock::now();
    auto r = RunProcess({"/bin/sh", "-c", script}, Deadline::In(500ms), [&](std::string_view l) {
      ++count;
      longest = std::max(longest, l.size());
    });
    double took = SecondsSince(t0);
    ASSERT_FALSE(r.ok()) << script;
    EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded) << script;
    EXPECT_LT(took, 3.0) << script;
    EXPECT_GT(count, 0u) << script;
    EXPECT_LE(longest, RunLimits{}.max_line_bytes + CutMark(size_t{1} << 40).size()) << script;
    std::printf("%s: stopped after %.2f s (deadline 0.5 s), %zu lines\n", script, took, count);
  }
}

TEST(RunProcess, TheDeadlineKillsTheWholeGroup) {
  Output out;
  RunLimits limits;
  limits.term_grace = 500ms;
  auto t0 = Clock::now();
  // The grandchild ignores TERM and never exits: only KILL, to the group, ends it.
  auto r = RunProcess({"/bin/sh", "-c", "echo $$; (trap '' TERM; exec sleep 600) & exit 0"}, Deadline::In(1s),
                      out.Fn(), 20, limits);
  double took = SecondsSince(t0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded);
  EXPECT_NE(r.status().message().find("exited, but a process it started was still running at the deadline"),
            std::string::npos)
      << r.status().message();
  EXPECT_GE(took, 1.5);
  EXPECT_LT(took, 4.0);
  ASSERT_GT(out.Pgid(), 0);
  EXPECT_FALSE(GroupAlive(out.Pgid())) << "a process of group " << out.Pgid() << " survived";
  std::printf("returned after %.2f s (deadline 1 s, TERM grace 0.5 s)\n", took);
}

TEST(RunProcess, SigintGoesToTheChildsGroupAndInterrupts) {
  SignalDisposition counting(&CountSignal);
  Output out;
  std::thread raiser = RaiseWhenReady(out.ready, 1, SIGINT);
  auto t0 = Clock::now();
  auto r = RunProcess({"/bin/sh", "-c", "echo $$; trap 'echo got INT; exit 7' INT; echo ready; " + kShortSleeps},
                      Deadline::In(20s), out.Fn());
  double took = SecondsSince(t0);
  raiser.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCancelled);
  EXPECT_EQ(r.status().signal(), SIGINT);
  EXPECT_EQ(ProcessExitCodeFor(r.status()), 130);
  EXPECT_NE(r.status().message().find("was stopped by SIGINT"), std::string::npos) << r.status().message();
  EXPECT_TRUE(out.Has("got INT"));  // the child's group got it
  EXPECT_FALSE(GroupAlive(out.Pgid()));
  EXPECT_LT(took, 5.0);
  EXPECT_EQ(g_caught, 0);  // RunProcess took it, not the handler it found
  struct sigaction now = {};
  ASSERT_EQ(::sigaction(SIGINT, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, &CountSignal);  // restored
  std::raise(SIGINT);                       // and in charge again
  EXPECT_EQ(g_caught, 1);
  std::printf("interrupted after %.2f s (SIGINT once the child was ready)\n", took);
}

// SIGHUP and SIGQUIT are forwarded too (kind has a group of its own), and the handler has the
// flags a Go host process requires of a foreign one.
TEST(RunProcess, SighupAndSigquitAreForwardedByAnOnStackHandler) {
  for (int signo : {SIGHUP, SIGQUIT}) {
    SignalDisposition by_default(SIG_DFL, signo);
    Output out;
    int flags = 0;
    auto fn = out.Fn();
    auto on_line = [&](std::string_view l) {
      if (l == "ready") {
        struct sigaction now = {};
        if (::sigaction(signo, nullptr, &now) == 0) flags = now.sa_flags;
      }
      fn(l);
    };
    std::thread raiser = RaiseWhenReady(out.ready, 1, signo);
    auto r = RunProcess({"/bin/sh", "-c", "echo $$; trap 'echo got it; exit 7' HUP QUIT; echo ready; " + kShortSleeps},
                        Deadline::In(20s), on_line);
    raiser.join();
    ASSERT_FALSE(r.ok()) << SignalName(signo);
    EXPECT_EQ(r.status().signal(), signo);
    EXPECT_EQ(ProcessExitCodeFor(r.status()), 128 + signo);
    EXPECT_NE(r.status().message().find("was stopped by " + SignalName(signo)), std::string::npos)
        << r.status().message();
    EXPECT_TRUE(out.Has("got it")) << SignalName(signo);
    EXPECT_EQ(flags & (SA_ONSTACK | SA_RESTART), SA_ONSTACK | SA_RESTART) << SignalName(signo);
    EXPECT_FALSE(GroupAlive(out.Pgid()));
    struct sigaction now = {};
    ASSERT_EQ(::sigaction(signo, nullptr, &now), 0);
    EXPECT_EQ(now.sa_handler, SIG_DFL);  // restored
  }
}

TEST(RunProcess, AGroupThatIgnoresTheForwardedSignalIsKilledAfterTheGrace) {
  Output out;
  RunLimits limits;
  limits.interrupt_grace = 500ms;
  std::thread raiser = RaiseWhenReady(out.ready, 1, SIGTERM, 300ms);
  auto t0 = Clock::now();
  auto r = RunProcess({"/bin/sh", "-c", "echo $$; trap '' TERM; echo ready; sleep 30"}, Deadline::In(20s), out.Fn(),
                      20, limits);
  double took = SecondsSince(t0);
  raiser.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().signal(), SIGTERM);
  EXPECT_EQ(ProcessExitCodeFor(r.status()), 143);
  EXPECT_GE(took, 0.8);
  EXPECT_LT(took, 3.0);
  EXPECT_FALSE(GroupAlive(out.Pgid()));
  struct sigaction now = {};
  ASSERT_EQ(::sigaction(SIGTERM, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
}

TEST(RunProcess, AnIgnoredSigintStaysIgnored) {
  SignalDisposition ignored(SIG_IGN);
  Output out;
  std::thread raiser = RaiseWhenReady(out.ready, 1, SIGINT, 200ms);
  auto r = RunProcess({"/bin/sh", "-c", "echo ready; sleep 1; echo done"}, Deadline::In(20s), out.Fn());
  raiser.join();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(out.lines, (std::vector<std::string>{"ready", "done"}));
  struct sigaction now = {};
  ASSERT_EQ(::sigaction(SIGINT, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, SIG_IGN);
}

// A process outside the group (its own session) holds the pipe: RunProcess leaves it after
// output_grace. A SIGINT then has no group to go to and meets the disposition restored. The
// outside process says "ready" once the group's leader is reaped (kill -0 fails), so the group is
// gone when the signal comes.
TEST(RunProcess, APipeHeldFromOutsideIsLeftAndALateSignalIsDeliveredAfterwards) {
  SignalDisposition counting(&CountSignal);
  Output out;
  RunLimits limits;
  limits.output_grace = 1000ms;
  std::thread raiser = RaiseWhenReady(out.ready, 1, SIGINT);
  auto t0 = Clock::now();
  auto r = RunProcess({"/bin/sh", "-c",
                       "P=$$ setsid sh -c 'echo $$; while kill -0 $P 2>/dev/null; do sleep 0.05; done; echo ready; "
                       "exec sleep 5' & sleep 0.1; exit 0"},
                      Deadline::In(20s), out.Fn(), 20, limits);
  double took = SecondsSince(t0);
  raiser.join();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_GE(took, 1.0);
  EXPECT_LT(took, 4.0);
  EXPECT_EQ(g_caught, 1);
  if (out.Pgid() > 0) ::kill(out.Pgid(), SIGKILL);
}

TEST(RunProcess, OneSignalInterruptsEveryRunUnderWay) {
  SignalDisposition by_default(SIG_DFL);
  StatusOr<ProcessResult> a = Failed("not run"), b = Failed("not run");
  std::atomic<int> ready{0};
  auto run = [&ready](StatusOr<ProcessResult>* r) {
    *r = RunProcess({"/bin/sh", "-c", "echo ready; sleep 30"}, Deadline::In(20s), [&ready](std::string_view l) {
      if (l == "ready") ready.fetch_add(1);
    });
  };
  std::thread ta(run, &a), tb(run, &b);
  std::thread raiser = RaiseWhenReady(ready, 2, SIGINT);
  raiser.join();
  ta.join();
  tb.join();
  EXPECT_EQ(a.status().signal(), SIGINT) << a.status().message();
  EXPECT_EQ(b.status().signal(), SIGINT) << b.status().message();
  struct sigaction now = {};
  ASSERT_EQ(::sigaction(SIGINT, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
}

}  // namespace
}  // namespace kmps::kind
