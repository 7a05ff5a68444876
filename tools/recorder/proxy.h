// The recording proxy: accepts connections on a Unix socket, forwards each byte-for-byte to the
// upstream Docker socket, and frames the HTTP/1.1 traffic (keep-alive, Content-Length, chunked,
// close-delimited exec streams, 101 upgrades) into cassette interactions.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>

#include "common/status.h"
#include "recorder/scrubber.h"
#include "support/cassette.h"

namespace kmps::testing {

struct ProxyOptions {
  std::string listen_path;
  std::string upstream_path = "/var/run/docker.sock";
  std::filesystem::path out;   // cassette written after every interaction
  std::string description;
  bool scrub = true;           // stable IDs and dates
};

class RecordingProxy {
 public:
  RecordingProxy(ProxyOptions options, Scrubber scrubber);

  // Serves until `stop` becomes true, then finishes open connections' bookkeeping, writes the
  // cassette a last time and unlinks the listening socket.
  Status Run(const std::atomic<bool>& stop);

  std::size_t recorded() const;

 private:
  struct Pending;
  void ServeConnection(int client, const std::atomic<bool>& stop);
  void Record(Interaction it);

  ProxyOptions options_;
  mutable std::mutex mu_;
  Scrubber scrubber_;
  Cassette cassette_;
};

}  // namespace kmps::testing
