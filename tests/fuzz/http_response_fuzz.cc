// The Docker daemon's HTTP/1.1 response (docker_api/http_connection.h), any bytes: the status line
// and headers (the client's own header callback) and a body that is length-delimited, chunked or
// close-delimited (libcurl decodes it; the client bounds and collects it). A thread of this
// process serves the input on a Unix socket and closes the connection. The first byte picks the
// request: GET read whole, HEAD, POST, or a GET whose 2xx body streams into a FrameDemuxer as an
// exec start's does.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "docker_api/frame_demuxer.h"
#include "docker_api/http_connection.h"
#include "fuzz_support.h"

namespace {

using namespace kmps;
using namespace kmps::docker;

// Accepts one connection at a time; reads the request head, writes the current response, closes.
class Server {
 public:
  Server() : path_(fuzz::ScratchDir() + "/docker.sock") {
    listener_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    KMPS_FUZZ_CHECK(listener_ >= 0 && path_.size() < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    KMPS_FUZZ_CHECK(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    KMPS_FUZZ_CHECK(listen(listener_, 8) == 0);
    std::thread([this] { Loop(); }).detach();
  }
  const std::string& path() const { return path_; }
  void Set(std::string_view response) {
    std::lock_guard<std::mutex> lock(mu_);
    response_ = response;
  }

 private:
  void Loop() {
    for (;;) {
      int c = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      timeval tv{1, 0};
      setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      std::string response;
      {
        std::lock_guard<std::mutex> lock(mu_);
        response = response_;
      }
      for (size_t at = 0; at < response.size();) {
        ssize_t n = send(c, response.data() + at, response.size() - at, MSG_NOSIGNAL);
        if (n <= 0) break;  // the client gave up on the response
        at += static_cast<size_t>(n);
      }
      close(c);
    }
  }

  std::string path_;
  int listener_ = -1;
  std::mutex mu_;
  std::string response_;
};

class Sink : public OutputSink {
 public:
  void OnStdout(std::string_view d) override { bytes += d.size(); }
  void OnStderr(std::string_view d) override { bytes += d.size(); }
  uint64_t bytes = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Server* server = new Server();
  if (size == 0) return 0;
  int mode = data[0] % 4;
  std::string_view response = fuzz::Bytes(data + 1, size - 1);
  server->Set(response);

  Endpoint e;
  e.kind = Endpoint::Kind::kUnix;
  e.socket_path = server->path();
  auto conn = HttpConnection::Create(e, std::chrono::seconds(2));
  KMPS_FUZZ_CHECK(conn.ok());
  HttpRequest req;
  req.path = "/v1.41/containers/json";
  req.method = mode == 1 ? "HEAD" : mode == 2 ? "POST" : "GET";
  // Short of libFuzzer's -timeout (10 s), long enough for a loaded machine.
  Deadline deadline = Deadline::In(std::chrono::seconds(8));
  StatusOr<HttpResponse> r = Status(Code::kFailed, "unset");
  Sink sink;
  FrameDemuxer demux(sink);
  if (mode == 3) {
    r = conn->Stream(req, deadline, [&](std::string_view d) { return demux.Feed(d); });
  } else {
    r = conn->Do(req, deadline);
  }
  if (!r.ok()) {
    // Whatever the bytes, the failure is the daemon's (never a deadline: the server always closes).
    KMPS_FUZZ_CHECK(r.status().code() != Code::kOk && r.status().code() != Code::kDeadlineExceeded);
    return 0;
  }
  KMPS_FUZZ_CHECK(r->status >= 100 && r->status <= 599);
  KMPS_FUZZ_CHECK(r->body.size() <= response.size());
  KMPS_FUZZ_CHECK(sink.bytes <= response.size());
  for (const auto& [name, value] : r->headers) {
    KMPS_FUZZ_CHECK(r->Header(name) == value);
  }
  return 0;
}
