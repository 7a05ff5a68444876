// A tiny HTTP/1.1 server on a Unix socket for the client's transport tests: it answers each
// request with whatever the handler returns (raw bytes: status line, headers, body), keeps the
// connection open unless the reply says "Connection: close" (or has no length), and counts
// connections. Test-only.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kmps::docker::testing {

struct FakeRequest {
  std::string method, path, body;
};

class FakeDaemon {
 public:
  // Returns the raw reply; `close_after` is set when the connection must close after it.
  using Handler = std::function<std::string(const FakeRequest&, bool& close_after)>;

  explicit FakeDaemon(Handler handler);
  ~FakeDaemon();

  const std::string& socket_path() const { return path_; }
  std::string docker_host() const { return "unix://" + path_; }
  int connections() const { return connections_.load(); }
  std::vector<FakeRequest> requests();

  // Helpers for replies.
  static std::string Reply(int status, std::string_view body, std::string_view extra_headers = "",
                           bool keep_alive = true);
  static std::string Chunked(int status, const std::vector<std::string>& chunks);

 private:
  void Serve();
  void ServeConnection(int fd);

  Handler handler_;
  std::string dir_, path_;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::vector<FakeRequest> requests_;
  std::vector<std::thread> workers_;  // one per connection
  std::thread thread_;
};

}  // namespace kmps::docker::testing
