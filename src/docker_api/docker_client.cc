#include "docker_api/docker_client.h"

#include <sys/socket.h>

#include "common/json_text.h"

#include "common/text.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>
#include <thread>
#include <utility>

#include <fmt/core.h>

#include "docker_api/api_version.h"
#include "docker_api/exec_stream.h"
#include "docker_api/frame_demuxer.h"
#include "docker_api/hijack.h"
#include "docker_api/http_connection.h"
#include "docker_api/http_errors.h"
#include "docker_api/url_query.h"

namespace kmps::docker {

using nlohmann::json;
using std::chrono::milliseconds;

void CaptureSink::Append(std::string& s, std::string_view d) {
  size_t room = s.size() < limit_ ? limit_ - s.size() : 0;
  size_t keep = std::min(room, d.size());
  s.append(d.substr(0, keep));
  dropped += d.size() - keep;
}

DockerClient::~DockerClient() = default;

StatusOr<ExecResult> DockerClient::ExecCapture(std::string_view container, const ExecOptions& options) {
  CaptureSink sink;
  KMPS_ASSIGN_OR_RETURN(int code, Exec(container, options, sink));
  ExecResult r;
  r.exit_code = code;
  r.out = std::move(sink.out);
  r.err = std::move(sink.err);
  return r;
}

namespace {

// How long the exit code of an attached exec is waited for once its stream ended.
constexpr std::chrono::seconds kAttachedExitGrace{3};

StatusOr<json> ParseJson(const HttpResponse& r, std::string_view context) {
  auto j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return ProtocolError(fmt::format("{}: the daemon's reply is not JSON: {}", context,
                                     OneLine(r.body.substr(0, std::min<size_t>(r.body.size(), 120)))));
  }
  return j;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

std::map<std::string, std::string> Labels(const json& j) {
  std::map<std::string, std::string> out;
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
    }
  }
  return out;
}

std::string StripSlash(std::string s) {
  if (!s.empty() && s.front() == '/') s.erase(0, 1);
  return s;
}

// StopTaggedExec's script: $1 is "VAR=tag". It signals every process whose environment holds it
// as one entry (grep -z: environ is NUL-separated; the stop exec's own processes have the tag in
// their arguments only; a zombie's environ reads empty), waits up to 2 s for them to go, SIGKILLs
// the rest, and prints "terminated killed".
constexpr const char* kStopScript = R"(printf 'a\0' | grep -qzxF a 2>/dev/null || { echo "grep -z does not work in the container" >&2; exit 127; }
t=$1
tagged() { for e in $(grep -lszxF -- "$t" /proc/[0-9]*/environ); do p=${e#/proc/}; echo "${p%/environ}"; done; }
n=0; for p in $(tagged); do kill -TERM "$p" 2>/dev/null && n=$((n+1)); done
i=0; left=$(tagged)
while [ -n "$left" ] && [ $i -lt 20 ]; do sleep 0.1 2>/dev/null || sleep 1; i=$((i+1)); left=$(tagged); done
k=0; for p in $left; do kill -KILL "$p" 2>/dev/null && k=$((k+1)); done
echo "$n $k")";

class DockerClientImpl final : public DockerClient {
 public:
  DockerClientImpl(HttpConnection http, ClientOptions options, std::string version)
      : http_(std::move(http)), options_(std::move(options)), version_(std::move(version)) {}

  StatusOr<std::unique_ptr<DockerClient>> Clone() override {
    KMPS_ASSIGN_OR_RETURN(HttpConnection http, HttpConnection::Create(http_.endpoint(), options_.connect_timeout));
    return std::unique_ptr<DockerClient>(new DockerClientImpl(std::move(http), options_, version_));
  }

  const Endpoint& endpoint() const override { return http_.endpoint(); }

  StatusOr<std::string> ApiVersion() override {
    if (!version_.empty()) return version_;
    HttpRequest req{"GET", "/_ping", "", false};
    KMPS_ASSIGN_OR_RETURN(HttpResponse r, http_.Do(req, CallDeadline()));
    if (r.status != 200) return HttpError(r.status, r.body, fmt::format("GET /_ping on {}", Where()));
    KMPS_ASSIGN_OR_RETURN(version_, NegotiateApiVersion(r.Header("Api-Version"), Where()));
    return version_;
  }

  Status Ping() override {
    KMPS_ASSIGN_OR_RETURN(HttpResponse r, Call("GET", "/_ping", nullptr, CallDeadline()));
    if (r.status != 200) return HttpError(r.status, r.body, fmt::format("ping the Docker daemon at {}", Where()));
    return Status::Ok();
  }

  StatusOr<json> Version() override {
    return JsonCall("GET", "/version", nullptr, 200, fmt::format("version of the Docker daemon at {}", Where()));
  }

  StatusOr<std::vector<ContainerSummary>> ListContainers(const ListOptions& o) override {
    std::string path = fmt::format("/containers/json?all={}", o.all ? 1 : 0);
    std::string filters = ContainerFilters(o.labels, o.name);
    if (!filters.empty()) path += "&filters=" + PercentEncode(filters);
    KMPS_ASSIGN_OR_RETURN(json j, JsonCall("GET", path, nullptr, 200, "list containers"));
    if (!j.is_array()) return ProtocolError("list containers: the daemon's reply is not a JSON array");
    std::vector<ContainerSummary> out;
    for (const auto& c : j) {
      ContainerSummary s;
      s.id = Str(c, "Id");
      if (auto n = c.find("Names"); n != c.end() && n->is_array() && !n->empty() && (*n)[0].is_string()) {
        s.name = StripSlash((*n)[0].get<std::string>());
      }
      s.image = Str(c, "Image");
      s.state = Str(c, "State");
      if (auto l = c.find("Labels"); l != c.end()) s.labels = Labels(*l);
      out.push_back(std::move(s));
    }
    return out;
  }

  StatusOr<ContainerInfo> InspectContainer(std::string_view id) override {
    KMPS_ASSIGN_OR_RETURN(json j, JsonCall("GET", fmt::format("/containers/{}/json", PercentEncode(id)), nullptr,
                                           200, fmt::format("inspect container {}", id)));
    ContainerInfo info;
    info.id = Str(j, "Id");
    info.name = StripSlash(Str(j, "Name"));
    if (auto s = j.find("State"); s != j.end() && s->is_object()) {
      info.running = s->value("Running", false);
      info.paused = s->value("Paused", false);
      info.status = Str(*s, "Status");
      if (auto p = s->find("Pid"); p != s->end() && p->is_number_integer()) info.pid = p->get<int>();
    }
    if (auto c = j.find("Config"); c != j.end() && c->is_object()) {
      if (auto l = c->find("Labels"); l != c->end()) info.labels = Labels(*l);
    }
    if (auto h = j.find("HostConfig"); h != j.end() && h->is_object()) {
      if (auto s = h->find("ShmSize"); s != h->end() && s->is_number_integer()) info.shm_size = s->get<long long>();
    }
    info.raw = std::move(j);
    return info;
  }

  StatusOr<std::string> CreateContainer(std::string_view name, const json& spec) override {
    std::string path = "/containers/create";
    if (!name.empty()) path += "?name=" + PercentEncode(name);
    KMPS_ASSIGN_OR_RETURN(json j, JsonCall("POST", path, &spec, 201, fmt::format("create container {}", name)));
    std::string id = Str(j, "Id");
    if (id.empty()) return ProtocolError(fmt::format("create container {}: the reply has no Id", name));
    return id;
  }

  Status StartContainer(std::string_view id) override {
    return NoContent("POST", fmt::format("/containers/{}/start", PercentEncode(id)), CallDeadline(),
                     fmt::format("start container {}", id));
  }

  Status StopContainer(std::string_view id, int timeout_seconds) override {
    // The daemon waits up to `t` seconds before it kills: give the call that much more time.
    Deadline d = Deadline::In(options_.call_timeout + std::chrono::seconds(std::max(timeout_seconds, 0)));
    return NoContent("POST", fmt::format("/containers/{}/stop?t={}", PercentEncode(id), timeout_seconds), d,
                     fmt::format("stop container {}", id));
  }

  Status RemoveContainer(std::string_view id, bool force) override {
    return NoContent("DELETE", fmt::format("/containers/{}{}", PercentEncode(id), force ? "?force=1" : ""),
                     CallDeadline(), fmt::format("remove container {}", id));
  }

  StatusOr<int> WaitContainer(std::string_view id, Deadline deadline) override {
    std::string ctx = fmt::format("wait for container {}", id);
    KMPS_ASSIGN_OR_RETURN(HttpResponse r,
                          Call("POST", fmt::format("/containers/{}/wait", PercentEncode(id)), nullptr, deadline));
    if (r.status != 200) return HttpError(r.status, r.body, ctx);
    KMPS_ASSIGN_OR_RETURN(json j, ParseJson(r, ctx));
    auto it = j.find("StatusCode");
    if (it == j.end() || !it->is_number_integer()) return ProtocolError(ctx + ": the reply has no StatusCode");
    return it->get<int>();
  }

  StatusOr<std::string> ExecCreate(std::string_view container, const ExecOptions& o) override {
    return ExecCreateBy(container, o, CallDeadline());
  }

  Status ExecStart(std::string_view exec_id, OutputSink& sink, Deadline deadline) override {
    bool refused = false;
    return ExecStartBy(exec_id, sink, deadline, refused);
  }

  StatusOr<ExecState> ExecInspect(std::string_view exec_id) override { return ExecInspectBy(exec_id, CallDeadline()); }

  StatusOr<ExecState> ExecInspect(std::string_view exec_id, Deadline deadline) override {
    return ExecInspectBy(exec_id, deadline);
  }

  StatusOr<int> Exec(std::string_view container, const ExecOptions& o, OutputSink& sink) override {
    ExecProgress progress;
    return ExecTracked(container, o, sink, progress);
  }

  StatusOr<int> ExecTracked(std::string_view container, const ExecOptions& o, OutputSink& sink,
                            ExecProgress& progress) override {
    if (o.attach_stdin || o.tty) return ExecAttached(container, o, sink, ExecAttach{}, progress);
    progress = ExecProgress{};
    Deadline deadline = Deadline::In(o.timeout);
    KMPS_ASSIGN_OR_RETURN(progress.exec_id, ExecCreateBy(container, o, deadline));
    bool refused = false;
    progress.started = true;
    Status streamed = ExecStartBy(progress.exec_id, sink, deadline, refused);
    progress.started = !refused;
    KMPS_RETURN_IF_ERROR(streamed.WithContext(fmt::format("exec in container {}", container)));
    return ExitCodeOf(container, progress.exec_id, o, deadline);
  }

  StatusOr<int> ExecAttached(std::string_view container, const ExecOptions& o, OutputSink& sink,
                             const ExecAttach& attach, ExecProgress& progress) override {
    if (!o.attach_stdin && !o.tty) return ExecTracked(container, o, sink, progress);
    progress = ExecProgress{};
    Deadline deadline = Deadline::In(o.timeout);
    std::string ctx = fmt::format("exec in container {}", container);
    KMPS_ASSIGN_OR_RETURN(progress.exec_id, ExecCreateBy(container, o, deadline));
    KMPS_ASSIGN_OR_RETURN(std::string v, ApiVersion());
    json body = {{"Detach", false}, {"Tty", o.tty}};
    bool refused = false;
    progress.started = true;
    auto conn = Hijack(http_.endpoint(), fmt::format("/v{}/exec/{}/start", v, PercentEncode(progress.exec_id)),
                       body.dump(), deadline, options_.connect_timeout,
                       fmt::format("start exec {}", progress.exec_id.substr(0, 12)), refused);
    if (!conn.ok()) {
      progress.started = !refused;
      return conn.status().WithContext(ctx);
    }
    if (attach.on_start) attach.on_start(progress.exec_id);
    PumpOptions pump;
    pump.stdin_fd = o.attach_stdin ? attach.stdin_fd : -1;
    // Stdin attached with nothing to give (ExecTracked): its end at once, so that a command that
    // reads it (cat) ends instead of waiting for the deadline.
    if (o.attach_stdin && attach.stdin_fd < 0) ::shutdown(conn->fd->get(), SHUT_WR);
    pump.tty = o.tty;
    pump.wake_fd = attach.wake_fd;
    pump.on_wake = attach.on_wake;
    Status streamed = PumpExecStream(conn->fd->get(), conn->early, sink, pump, deadline);
    conn->fd->reset();  // the daemon sees the end of a connection it may still write to
    KMPS_RETURN_IF_ERROR(streamed.WithContext(fmt::format("{}: start exec {}", ctx, progress.exec_id.substr(0, 12))));
    // The daemon also ends an attached stream that was detached (its detach keys, Ctrl-P Ctrl-Q):
    // the command then runs on, so its exit code is waited for briefly, not until the deadline
    // (with the terminal raw); past that it is a command the caller lost track of (and stops).
    auto code = ExitCodeOf(container, progress.exec_id, o, deadline.Cap(kAttachedExitGrace));
    if (!code.ok() && code.status().code() == Code::kDeadlineExceeded && !deadline.Expired()) {
      return Failed(fmt::format("{}: the stream ended while the command still runs (detached?)", ctx));
    }
    return code;
  }

  Status ExecResize(std::string_view exec_id, unsigned rows, unsigned cols, Deadline deadline) override {
    return NoContent("POST", fmt::format("/exec/{}/resize?h={}&w={}", PercentEncode(exec_id), rows, cols),
                     deadline.Cap(options_.call_timeout), fmt::format("resize exec {}", exec_id.substr(0, 12)));
  }

  StatusOr<StopResult> StopTaggedExec(std::string_view container, std::string_view tag, Deadline deadline) override {
    std::string ctx = fmt::format("stop the exec's processes in container {}", container);
    bool plain = !tag.empty() && std::all_of(tag.begin(), tag.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
    if (!plain) return InvalidArgument(ctx + ": the tag must be letters, digits, - or _");
    ExecOptions o;
    o.cmd = {"sh", "-c", kStopScript, "kindmps-api-stop", fmt::format("{}={}", kExecTagVariable, tag)};
    o.user = "0";  // root reads every process's environment and may signal it
    o.timeout = deadline.Remaining();
    CaptureSink sink(4096);
    KMPS_ASSIGN_OR_RETURN(int code, Exec(container, o, sink));
    if (code != 0) {
      return Failed(fmt::format("{}: the stop script exited with {}: {}", ctx, code,
                                sink.err.empty() ? std::string("no message") : OneLine(sink.err)));
    }
    StopResult r;
    std::istringstream counts(sink.out);
    if (!(counts >> r.terminated >> r.killed)) {
      return ProtocolError(fmt::format("{}: the stop script printed \"{}\", not two counts", ctx, OneLine(sink.out)));
    }
    return r;
  }

  StatusOr<bool> PathExists(std::string_view id, std::string_view path) override {
    KMPS_ASSIGN_OR_RETURN(HttpResponse r, Call("HEAD",
                                               fmt::format("/containers/{}/archive?path={}", PercentEncode(id),
                                                           PercentEncode(path)),
                                               nullptr, CallDeadline()));
    if (r.status == 200) return true;
    if (r.status != 404) return HttpError(r.status, r.body, fmt::format("stat {} in container {}", path, id));
    // A HEAD reply has no body to tell a missing path from a missing container.
    KMPS_RETURN_IF_ERROR(InspectContainer(id).status());
    return false;
  }

  StatusOr<TopResult> Top(std::string_view container, std::string_view ps_args) override {
    std::string path = fmt::format("/containers/{}/top", PercentEncode(container));
    if (!ps_args.empty()) path += "?ps_args=" + PercentEncode(ps_args);
    KMPS_ASSIGN_OR_RETURN(json j, JsonCall("GET", path, nullptr, 200, fmt::format("top of container {}", container)));
    TopResult t;
    auto titles = j.find("Titles");
    auto procs = j.find("Processes");
    if (titles == j.end() || !titles->is_array()) {
      return ProtocolError(fmt::format("top of container {}: the reply has no Titles", container));
    }
    for (const auto& s : *titles) t.titles.push_back(s.is_string() ? s.get<std::string>() : s.dump());
    if (procs != j.end() && procs->is_array()) {
      for (const auto& row : *procs) {
        std::vector<std::string> cells;
        if (row.is_array()) {
          for (const auto& c : row) cells.push_back(c.is_string() ? c.get<std::string>() : c.dump());
        }
        t.processes.push_back(std::move(cells));
      }
    }
    return t;
  }

 private:
  std::string Where() const { return http_.endpoint().Describe(); }
  Deadline CallDeadline() const { return Deadline::In(options_.call_timeout); }

  // A call on the versioned path /v<version><path>.
  StatusOr<HttpResponse> Call(const std::string& method, const std::string& path, const json* body,
                              Deadline deadline) {
    KMPS_ASSIGN_OR_RETURN(std::string v, ApiVersion());
    std::string text;
    // A command, an environment or a name of bytes that are not UTF-8 cannot travel as JSON.
    if (body != nullptr) {
      KMPS_ASSIGN_OR_RETURN(text, StrictJsonText(*body, "the request (a command or a name)"));
    }
    HttpRequest req{method, fmt::format("/v{}{}", v, path), std::move(text), body != nullptr};
    return http_.Do(req, deadline);
  }

  StatusOr<json> JsonCall(const std::string& method, const std::string& path, const json* body, long want,
                          const std::string& ctx, std::optional<Deadline> deadline = std::nullopt) {
    KMPS_ASSIGN_OR_RETURN(HttpResponse r, Call(method, path, body, deadline.value_or(CallDeadline())));
    if (r.status != want) return HttpError(r.status, r.body, ctx);
    return ParseJson(r, ctx);
  }

  Status NoContent(const std::string& method, const std::string& path, Deadline deadline, const std::string& ctx) {
    KMPS_ASSIGN_OR_RETURN(HttpResponse r, Call(method, path, nullptr, deadline));
    if (r.status == 204 || r.status == 304 || r.status == 200) return Status::Ok();
    return HttpError(r.status, r.body, ctx);
  }

  StatusOr<std::string> ExecCreateBy(std::string_view container, const ExecOptions& o, Deadline deadline) {
    std::string ctx = fmt::format("exec in container {}", container);
    if (o.cmd.empty()) return InvalidArgument(ctx + ": empty command");
    json body = {{"AttachStdin", o.attach_stdin}, {"AttachStdout", true}, {"AttachStderr", true},
                 {"Tty", o.tty},                 {"Cmd", o.cmd}};
    std::vector<std::string> env = o.env;
    if (!o.stop_tag.empty()) env.push_back(fmt::format("{}={}", kExecTagVariable, o.stop_tag));
    if (!env.empty()) body["Env"] = env;
    if (!o.user.empty()) body["User"] = o.user;
    if (!o.working_dir.empty()) body["WorkingDir"] = o.working_dir;
    KMPS_ASSIGN_OR_RETURN(json j, JsonCall("POST", fmt::format("/containers/{}/exec", PercentEncode(container)),
                                           &body, 201, ctx, deadline));
    std::string id = Str(j, "Id");
    if (id.empty()) return ProtocolError(ctx + ": the exec create reply has no Id");
    return id;
  }

  // The exit code once the stream closed: right after, the daemon may still say Running or
  // ExitCode null, so exec inspect is polled until `deadline`.
  StatusOr<int> ExitCodeOf(std::string_view container, const std::string& exec_id, const ExecOptions& o,
                           Deadline deadline) {
    milliseconds backoff(1);
    while (true) {
      KMPS_ASSIGN_OR_RETURN(ExecState st, ExecInspectBy(exec_id, deadline));
      if (!st.running && st.exit_code.has_value()) return *st.exit_code;
      if (deadline.Remaining() <= backoff) {
        return DeadlineExceeded(fmt::format(
            "exec in container {}: the exit code was still unknown when the {} ms deadline passed", container,
            o.timeout.count()));
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, milliseconds(50));
    }
  }

  // `refused`: the daemon answered the start with an error status, so the command never ran.
  Status ExecStartBy(std::string_view exec_id, OutputSink& sink, Deadline deadline, bool& refused) {
    std::string ctx = fmt::format("start exec {}", exec_id.substr(0, 12));
    // Tty=false, as in the create: the stream is framed whatever its Content-Type says.
    json body = {{"Detach", false}, {"Tty", false}};
    FrameDemuxer demux(sink);
    HttpConnection::DataFn feed = [&demux, &sink](std::string_view data) {
      KMPS_RETURN_IF_ERROR(demux.Feed(data));
      return sink.Refusal();
    };
    KMPS_ASSIGN_OR_RETURN(std::string v, ApiVersion());
    HttpRequest req{"POST", fmt::format("/v{}/exec/{}/start", v, PercentEncode(exec_id)), body.dump(), true};
    KMPS_ASSIGN_OR_RETURN(HttpResponse r, http_.Stream(req, deadline, feed));
    if (r.status != 200) {
      refused = true;
      return HttpError(r.status, r.body, ctx);
    }
    return demux.Finish().WithContext(ctx);
  }

  StatusOr<ExecState> ExecInspectBy(std::string_view exec_id, Deadline deadline) {
    std::string ctx = fmt::format("inspect exec {}", exec_id.substr(0, 12));
    KMPS_ASSIGN_OR_RETURN(json j,
                          JsonCall("GET", fmt::format("/exec/{}/json", PercentEncode(exec_id)), nullptr, 200, ctx,
                                   deadline.Cap(options_.call_timeout)));
    ExecState st;
    st.running = j.value("Running", false);
    if (auto it = j.find("ExitCode"); it != j.end() && it->is_number_integer()) st.exit_code = it->get<int>();
    if (auto it = j.find("Pid"); it != j.end() && it->is_number_integer()) st.pid = it->get<int>();
    return st;
  }

  HttpConnection http_;
  ClientOptions options_;
  std::string version_;  // empty until negotiated or pinned
};

}  // namespace

StatusOr<std::unique_ptr<DockerClient>> DockerClient::Create(const ClientOptions& options) {
  StatusOr<Endpoint> endpoint =
      options.docker_host.empty() ? EndpointFromEnvironment() : ParseDockerHost(options.docker_host);
  if (!endpoint.ok()) return endpoint.status();
  std::string pinned = options.api_version;
  if (pinned.empty()) {
    if (const char* env = std::getenv("DOCKER_API_VERSION"); env != nullptr) pinned = env;
  }
  std::string version;
  if (!pinned.empty()) {
    KMPS_ASSIGN_OR_RETURN(version, ValidatePinnedApiVersion(pinned));
  }
  KMPS_ASSIGN_OR_RETURN(HttpConnection http, HttpConnection::Create(*endpoint, options.connect_timeout));
  return std::unique_ptr<DockerClient>(new DockerClientImpl(std::move(http), options, std::move(version)));
}

}  // namespace kmps::docker
