// A Docker Engine API client over HTTP/1.1 through libcurl (Unix socket or TCP).
//
// Threading: a DockerClient owns one CURL easy handle and is NOT thread-safe. It is cheap to
// create; code that runs calls on several nodes in parallel gives each thread its own client
// (DockerClient::Clone() shares the endpoint, options and negotiated API version, without a
// second /_ping). Connections are kept alive and reused between calls of one client.
//
// Every call has a deadline: ClientOptions::call_timeout by default, or an explicit one. It becomes
// CURLOPT_TIMEOUT_MS, and a progress callback checks it about once a second, so a daemon that
// stalls mid-stream still ends the call with kDeadlineExceeded. Exec output is demultiplexed as it
// arrives (FrameDemuxer, constant memory); the exit code comes from polling exec inspect until
// Running is false and ExitCode is set, never from a null ExitCode.
// Errors are values: Status codes kNotFound (404), kConflict (409), kBadRequest (400),
// kServerError (5xx), kUnavailable (no socket / no listener), kPermissionDenied (socket access),
// kDeadlineExceeded, kProtocol (malformed HTTP, truncated stream). Messages name the container,
// socket or endpoint and carry the daemon's own `message`.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/deadline.h"
#include "common/process_table.h"
#include "common/status.h"
#include "docker_api/endpoint.h"

namespace kmps::docker {

// The newest API version this client speaks, and the oldest it accepts from a daemon.
inline constexpr std::string_view kClientMaxApiVersion = "1.47";
inline constexpr std::string_view kClientMinApiVersion = "1.24";

struct ClientOptions {
  // Empty: DOCKER_HOST from the environment, else unix:///var/run/docker.sock.
  std::string docker_host;
  // Empty: DOCKER_API_VERSION from the environment, else negotiated from GET /_ping.
  std::string api_version;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds call_timeout{60000};
};

struct ExecOptions {
  std::vector<std::string> cmd;  // required, non-empty
  std::vector<std::string> env;  // "KEY=value"
  std::string user;              // empty: the container's default
  std::string working_dir;       // empty: the container's default
  // Deadline for the whole exec: create, stream, and waiting for the exit code.
  std::chrono::milliseconds timeout{60000};
  // When set, the command runs with kExecTagVariable=<stop_tag> added to its environment, which
  // its children inherit: StopTaggedExec finds them by it. Docker has no call that stops an exec,
  // and the exec's Pid (exec inspect) is the host's, not the node's: a tag is what a second exec
  // in the node can find. Use a fresh random tag per exec.
  std::string stop_tag;
  // AttachStdin: the command's stdin is ExecAttach::stdin_fd, through the hijacked connection
  // (docker exec -i). Only ExecAttached attaches it; ExecTracked sends none.
  bool attach_stdin = false;
  // Tty: the command gets a pseudo-terminal, and the stream is raw (stdout only), not
  // multiplexed (docker exec -t). Its size: ExecResize.
  bool tty = false;
};

// The local side of an attached exec (ExecAttached).
struct ExecAttach {
  int stdin_fd = -1;  // copied to the command when ExecOptions::attach_stdin; its end shuts our write side
  // A readable, non-blocking descriptor (SIGWINCH's self-pipe: WinchWatch) that calls on_wake.
  int wake_fd = -1;
  std::function<void()> on_wake;
  // Called once the daemon started the command and the stream flows, with the exec's id (for
  // ExecResize). Runs on the calling thread; the client may be used from it.
  std::function<void(const std::string& exec_id)> on_start;
};

inline constexpr std::string_view kExecTagVariable = "KINDMPS_EXEC_TAG";

// What an Exec got to before it returned (ExecTracked): a failed exec that was started may have
// left its command running, since the daemon does not stop a command whose client went away.
struct ExecProgress {
  std::string exec_id;   // set once the daemon created the exec
  bool started = false;  // the start was sent and not refused: the command may be running
};

// What StopTaggedExec did in the container.
struct StopResult {
  int terminated = 0;  // processes sent SIGTERM
  int killed = 0;      // of those, still there after the grace period and sent SIGKILL
};

// Receives exec output as frames arrive, already demultiplexed. Called on the calling thread.
class OutputSink {
 public:
  virtual ~OutputSink() = default;
  virtual void OnStdout(std::string_view data) = 0;
  virtual void OnStderr(std::string_view data) = 0;
  // Not ok once the sink takes no more (its reader went away): the stream is then aborted with
  // this status instead of read to its end.
  virtual Status Refusal() const { return Status::Ok(); }
};

// Collects output in memory, up to `limit` bytes per stream (the rest is counted, not kept).
class CaptureSink : public OutputSink {
 public:
  explicit CaptureSink(size_t limit = 16 << 20) : limit_(limit) {}
  void OnStdout(std::string_view d) override { Append(out, d); }
  void OnStderr(std::string_view d) override { Append(err, d); }
  std::string out, err;
  size_t dropped = 0;

 private:
  void Append(std::string& s, std::string_view d);
  size_t limit_;
};

struct ExecResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

struct ExecState {
  bool running = false;
  std::optional<int> exit_code;  // null while running, and briefly after the stream closes
  int pid = 0;
};

struct ContainerSummary {
  std::string id;
  std::string name;  // without the leading '/'
  std::string image;
  std::string state;  // "running", "exited", ...
  std::map<std::string, std::string> labels;
};

struct ContainerInfo {
  std::string id;
  std::string name;  // without the leading '/'
  bool running = false;
  bool paused = false;
  std::string status;  // State.Status
  int pid = 0;
  std::map<std::string, std::string> labels;
  long long shm_size = 0;  // HostConfig.ShmSize
  nlohmann::json raw;
};

struct ListOptions {
  bool all = true;
  std::vector<std::string> labels;  // "key=value" or "key"
  std::string name;                 // exact name; anchored as ^/?name$
};

using TopResult = ProcessTable;

class DockerClient {
 public:
  static StatusOr<std::unique_ptr<DockerClient>> Create(const ClientOptions& options = {});
  virtual ~DockerClient();

  // A new client for another thread: same endpoint and options, the negotiated version kept.
  virtual StatusOr<std::unique_ptr<DockerClient>> Clone() = 0;

  virtual const Endpoint& endpoint() const = 0;
  // The API version in use ("1.41"); negotiates on first use.
  virtual StatusOr<std::string> ApiVersion() = 0;

  virtual Status Ping() = 0;
  virtual StatusOr<nlohmann::json> Version() = 0;

  virtual StatusOr<std::vector<ContainerSummary>> ListContainers(const ListOptions& options) = 0;
  virtual StatusOr<ContainerInfo> InspectContainer(std::string_view id_or_name) = 0;
  // `spec` is the body of POST /containers/create. Returns the new container's id.
  virtual StatusOr<std::string> CreateContainer(std::string_view name, const nlohmann::json& spec) = 0;
  virtual Status StartContainer(std::string_view id_or_name) = 0;
  virtual Status StopContainer(std::string_view id_or_name, int timeout_seconds) = 0;
  virtual Status RemoveContainer(std::string_view id_or_name, bool force) = 0;
  // Waits for the container to exit; returns its status code.
  virtual StatusOr<int> WaitContainer(std::string_view id_or_name, Deadline deadline) = 0;

  virtual StatusOr<std::string> ExecCreate(std::string_view container, const ExecOptions& options) = 0;
  // Streams the exec's output into `sink` until the daemon closes the stream.
  virtual Status ExecStart(std::string_view exec_id, OutputSink& sink, Deadline deadline) = 0;
  virtual StatusOr<ExecState> ExecInspect(std::string_view exec_id) = 0;
  // The same within `deadline` (capped by the call timeout).
  virtual StatusOr<ExecState> ExecInspect(std::string_view exec_id, Deadline deadline) = 0;

  // create + start (streamed into sink) + polling inspect until the exit code is known.
  // A null exit code is never reported as 0: past the deadline it is kDeadlineExceeded.
  virtual StatusOr<int> Exec(std::string_view container, const ExecOptions& options, OutputSink& sink) = 0;
  // Exec that records in `progress` how far it got, for a caller that cleans up after a failure
  // (a deadline, a broken stream): ExecInspect(progress.exec_id), StopTaggedExec.
  virtual StatusOr<int> ExecTracked(std::string_view container, const ExecOptions& options, OutputSink& sink,
                                    ExecProgress& progress) = 0;
  // ExecTracked with stdin and a TTY as `options` ask (attach_stdin, tty): the start goes over a
  // hijacked connection (docker_api/hijack.h) whose two directions run on the calling thread
  // (docker_api/exec_stream.h). Without either it is ExecTracked.
  virtual StatusOr<int> ExecAttached(std::string_view container, const ExecOptions& options, OutputSink& sink,
                                     const ExecAttach& attach, ExecProgress& progress) = 0;
  // POST /exec/{id}/resize?h=&w=: the size of the exec's TTY, within `deadline`.
  virtual Status ExecResize(std::string_view exec_id, unsigned rows, unsigned cols, Deadline deadline) = 0;
  // Stops, by a second exec in `container` (as root, within `deadline`), every process whose
  // environment holds kExecTagVariable=`tag` (ExecOptions::stop_tag): SIGTERM, then SIGKILL for
  // those still there after about 2 s. Processes that dropped their environment are not found.
  // Needs sh, grep and kill in the container (kind nodes and busybox have them).
  virtual StatusOr<StopResult> StopTaggedExec(std::string_view container, std::string_view tag,
                                              Deadline deadline) = 0;
  // Exec with captured output.
  StatusOr<ExecResult> ExecCapture(std::string_view container, const ExecOptions& options);

  // HEAD /containers/{id}/archive?path=...: whether `path` exists in the container, running or
  // not, without an exec. kNotFound when the container itself does not exist.
  virtual StatusOr<bool> PathExists(std::string_view container, std::string_view path) = 0;

  // GET /containers/{id}/top?ps_args=...
  virtual StatusOr<TopResult> Top(std::string_view container, std::string_view ps_args) = 0;
};

}  // namespace kmps::docker
