// ReplayServer: the one HTTP/1.1 test server. It serves a recorded cassette over a Unix socket so
// that tests can run a real HTTP client (libcurl, DockerClient) against recorded Docker Engine API
// exchanges, with fault injection (truncation, stalls, close mid-stream), or, for transport tests,
// whatever a handler answers (FakeDaemon below). Requests are framed by support/http_framing.h.
// See docs/fixtures.md.
//
//   auto cassette = LoadCassette(KMPS_SOURCE_DIR "/fixtures/cassettes/busybox-node-exec.json");
//   ReplayServer server(std::move(*cassette));
//   ASSERT_TRUE(server.Start().ok());
//   ... point the client at server.socket_path() ...
//   EXPECT_THAT(server.misses(), IsEmpty());
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "support/cassette.h"

namespace kmps::testing {

// What goes wrong when one recorded response is served.
struct Fault {
  enum class Kind {
    kNone,
    kTruncate,             // send the first `bytes` bytes of the raw response, then close
    kCloseMidStream,       // send the head and the first `bytes` bytes of the body, then close
    kStallBeforeResponse,  // send nothing for `stall`, then the response
    kStallAfterHeaders,    // send the head, nothing for `stall`, then the rest
    kStallMidStream,       // send the head and the first `bytes` bytes of the body, nothing for
                           // `stall`, then the rest
  };
  Kind kind = Kind::kNone;
  std::size_t bytes = 0;
  // Stall length; zero means "until Stop()" (the client's deadline must fire).
  std::chrono::milliseconds stall{0};

  static Fault Truncate(std::size_t bytes) { return {Kind::kTruncate, bytes, {}}; }
  static Fault CloseMidStream(std::size_t body_bytes) { return {Kind::kCloseMidStream, body_bytes, {}}; }
  static Fault StallBeforeResponse(std::chrono::milliseconds t = {}) { return {Kind::kStallBeforeResponse, 0, t}; }
  static Fault StallAfterHeaders(std::chrono::milliseconds t = {}) { return {Kind::kStallAfterHeaders, 0, t}; }
  static Fault StallMidStream(std::size_t body_bytes, std::chrono::milliseconds t = {}) {
    return {Kind::kStallMidStream, body_bytes, t};
  }
};

struct ReplayOptions {
  // GET/HEAD /_ping with no unused recorded /_ping gets a synthetic 200 "OK" carrying
  // `Api-Version: ping_api_version`, so clients can negotiate.
  bool synthesize_ping = true;
  std::string ping_api_version = "1.41";
  // Status of the JSON error sent for a request the cassette lacks.
  int miss_status = 599;
  // Directory for the socket; empty: a fresh mkdtemp directory under /tmp (removed on Stop).
  std::filesystem::path socket_dir;
};

// One request the server received.
struct ReceivedRequest {
  std::string method;
  std::string target;  // as sent, version prefix and query included
  std::string body;    // de-chunked
  std::string label;   // label of the interaction served; "(synthetic ping)"; empty for a miss
  bool miss = false;
};

class ReplayServer {
 public:
  // The raw reply (status line, headers, body) to one request; setting `close_after` closes the
  // connection after it (so does a reply with "Connection: close" or without a length).
  using Handler = std::function<std::string(const ReceivedRequest& request, bool& close_after)>;

  explicit ReplayServer(Cassette cassette, ReplayOptions options = {});
  // Answers every request with `handler` instead of a cassette: no misses, no synthetic ping; the
  // requests are recorded with the label "(handler)". The handler runs on the connection's thread.
  explicit ReplayServer(Handler handler, ReplayOptions options = {});
  ~ReplayServer();  // Stop()
  ReplayServer(const ReplayServer&) = delete;
  ReplayServer& operator=(const ReplayServer&) = delete;

  // Binds the socket and starts serving in background threads. Errors if already started.
  Status Start();
  // Closes every connection, ends stalls, joins the threads, unlinks the socket. Idempotent.
  void Stop();

  // The Unix socket path ("" before Start()). For libcurl: CURLOPT_UNIX_SOCKET_PATH.
  std::string socket_path() const;

  // Applies `fault` to every interaction with this label (NotFound if none has it), or to the
  // interaction at `index`. Set before the request arrives; thread-safe.
  Status InjectFault(std::string_view label, Fault fault);
  Status InjectFaultAt(std::size_t index, Fault fault);

  // "GET /v1.41/containers/nope/json" for each request the cassette could not answer.
  std::vector<std::string> misses() const;
  // Labels (or "METHOD path" when unlabelled) of interactions never served, in cassette order.
  std::vector<std::string> unused() const;
  // Every request received, in arrival order.
  std::vector<ReceivedRequest> requests() const;
  // Connections accepted so far.
  std::size_t connections() const;

  // Path matching used to pick a recorded interaction: drops a leading "/vN.NN" version
  // segment and percent-decodes the query ("/v1.43/a?x=%20" -> "/a?x= ").
  static std::string NormalizeTarget(std::string_view target);

 private:
  struct Reply {
    std::string bytes;
    Fault fault;
    bool close = false;
    std::size_t head_len = 0;
  };
  Reply Answer(const std::string& method, const std::string& target, const std::string& body);
  Reply AnswerWithHandler(const std::string& method, const std::string& target, const std::string& body);
  void AcceptLoop();
  void ServeConnection(int fd);
  // Waits `t` (zero: until Stop()); returns false when stopping.
  bool Sleep(std::chrono::milliseconds t);

  const ReplayOptions options_;
  const Handler handler_;
  Cassette cassette_;
  std::vector<bool> used_;
  std::map<std::size_t, Fault> faults_;
  std::vector<ReceivedRequest> requests_;
  std::size_t connections_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  bool stopping_ = false;
  std::filesystem::path dir_;
  bool own_dir_ = false;
  std::string socket_path_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
  std::vector<int> open_fds_;
  std::mutex lifecycle_mu_;  // serialises Start()/Stop()
};

// A scripted Docker daemon for the client's transport tests: a ReplayServer that answers with a
// handler, started on construction (std::runtime_error when it cannot listen).
struct FakeRequest {
  std::string method, path, body;  // path: the request target as sent
};

class FakeDaemon {
 public:
  using Handler = std::function<std::string(const FakeRequest&, bool& close_after)>;

  explicit FakeDaemon(Handler handler);

  std::string socket_path() const { return server_.socket_path(); }
  std::string docker_host() const { return "unix://" + socket_path(); }
  int connections() const { return static_cast<int>(server_.connections()); }
  std::vector<FakeRequest> requests() const;

  // Helpers for replies.
  static std::string Reply(int status, std::string_view body, std::string_view extra_headers = "",
                           bool keep_alive = true);
  static std::string Chunked(int status, const std::vector<std::string>& chunks);

 private:
  ReplayServer server_;
};

}  // namespace kmps::testing
