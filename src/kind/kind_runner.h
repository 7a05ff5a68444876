// Running the `kind` binary: pure argument builders, and a runner that spawns a process directly
// (no shell) in its own process group, streams its output line by line, waits for the whole group,
// enforces a deadline and forwards SIGINT/SIGTERM/SIGHUP/SIGQUIT to the group.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/deadline.h"
#include "common/status.h"

namespace kmps::kind {

// kind's own flags of `kind create cluster` and `kind delete cluster` that `up` and `down` pass on
// with kind's meaning: --wait (a Go duration such as 60s or 5m: wait for the control plane),
// --retain (keep the nodes of a failed create, to debug them), --kubeconfig (the file kind edits
// instead of $KUBECONFIG or ~/.kube/config).
struct KindFlags {
  std::string wait;        // "" : kind's default (0s)
  bool retain = false;
  std::string kubeconfig;  // "" : kind's resolution
};

std::vector<std::string> CreateClusterArgs(const std::string& kind, const std::string& name,
                                           const std::string& config_path, const std::string& image,
                                           const KindFlags& flags = {});
std::vector<std::string> DeleteClusterArgs(const std::string& kind, const std::string& name,
                                           const KindFlags& flags = {});

// Whether `text` is a duration kind's --wait takes (Go's time.ParseDuration of whole units:
// "0", "90s", "5m", "1h30m", "500ms"); the pure check `up` makes before anything changes.
bool IsKindDuration(const std::string& text);

// `name_or_path` as given when it holds a '/', else looked up on PATH. kEnvironment when missing.
StatusOr<std::string> FindExecutable(const std::string& name_or_path);

struct ProcessResult {
  int exit_code = -1;              // the child's; 128+N when killed by signal N
  std::deque<std::string> tail;    // the last lines of output, as on_line got them
  // The child had exited, but processes of its group were still there leftover_grace later:
  // they got TERM, then KILL (term_grace); exit_code is still the child's.
  bool stopped_leftovers = false;
  bool leftovers_outlived_kill = false;  // and one of them was still there after KILL
};

// How long RunProcess gives a process group to end after it was asked to, and how much of a
// line it keeps.
struct RunLimits {
  std::chrono::milliseconds interrupt_grace{10'000};  // after a forwarded signal, then KILL
  std::chrono::milliseconds term_grace{5'000};        // after TERM (deadline, leftovers), then KILL
  std::chrono::milliseconds output_grace{300};        // pipe held open once the group is gone
  std::chrono::milliseconds leftover_grace{10'000};   // the group, once the child has exited; then TERM
  // Members of the group by these command names (/proc/PID/comm) are waited for past
  // leftover_grace, up to the deadline: kind's `docker run`s, which go on making their node after
  // kind exited (on a vfs engine, tens of seconds) and which no TERM would stop in the daemon.
  std::vector<std::string> awaited_leftovers;
  size_t max_line_bytes = 64 * 1024;                  // of one line; the rest of it is cut
};

// The mark a line cut at RunLimits::max_line_bytes ends with: " … [N bytes cut]".
std::string CutMark(size_t bytes_cut);

// Runs argv[0] in a process group of its own, stdin /dev/null, stdout and stderr merged into
// `on_line`, one line at a time. It returns once the child has exited AND every process of its
// group is gone (kind's `docker run` children outlive a failed kind), reading output while it
// flows; a pipe still held open by a process outside the group is left after output_grace.
//   * What on_line gets is safe for a terminal (TerminalSafe: control characters, ANSI escapes
//     and bytes that are not UTF-8 as "\xHH"), without a CR ending the line, and at most
//     max_line_bytes of each line (cut on a character) before its CutMark; the rest of a longer
//     line is read and dropped, never held. Memory stays bounded whatever the child prints, and
//     the work is linear in it.
//   * Once the child has exited, the rest of its group gets leftover_grace to end (a `docker run`
//     of kind's finishing), then TERM, then KILL term_grace later: the child's exit code, with
//     stopped_leftovers (unless the deadline or a signal came first).
//   * Past the deadline the whole group gets TERM, then KILL: kDeadlineExceeded, also while the
//     child keeps printing.
//   * SIGINT, SIGTERM, SIGHUP or SIGQUIT delivered to this process meanwhile is forwarded to the
//     group (the group is not the terminal's foreground group, so Ctrl-C reaches only us; its
//     handler has SA_ONSTACK | SA_RESTART, as a Go host process requires); once the group is gone,
//     or interrupt_grace after the signal (the group then gets KILL), the result is
//     Status::Interrupted(signal) (kCancelled). The previous dispositions are restored on
//     return; a signal that was ignored stays ignored, and one that came once the group was gone
//     is raised again then, for them. Several calls may run at once (threads).
// `env`: NAME=VALUE entries that replace, or add to, the environment the child inherits.
StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv, Deadline deadline,
                                   const std::function<void(std::string_view)>& on_line, size_t tail_lines = 20,
                                   const RunLimits& limits = {}, const std::vector<std::string>& env = {});

// Whether a process of group `pgid` is still there: kill(-pgid, 0) reaches one (or is refused with
// EPERM, for a member of another user), and /proc shows one that is not a zombie (dead, waiting
// for a parent that reaps late). RunProcess waits for this to be false.
bool ProcessGroupAlive(pid_t pgid);
// The command names (/proc/PID/comm) of the members of group `pgid` that are not zombies.
std::vector<std::string> ProcessGroupCommands(pid_t pgid);

// "SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGKILL", else "signal N".
std::string SignalName(int signo);

}  // namespace kmps::kind
