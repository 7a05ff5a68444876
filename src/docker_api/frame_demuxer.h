// Demultiplexes Docker's attach/exec stream format (used when Tty=false) in constant memory.
//
// Each frame: 1 byte stream (0 stdin, 1 stdout, 2 stderr, 3 system error), 3 zero bytes, a 4-byte
// big-endian payload length, then the payload. Payload bytes are handed to the sink as they
// arrive, never accumulated: the only buffered bytes are an incomplete 8-byte header.
// Stream 0 and 1 go to stdout; 2 and 3 (the daemon's own errors) to stderr.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "docker_api/docker_client.h"

namespace kmps::docker {

class FrameDemuxer {
 public:
  static constexpr size_t kHeaderSize = 8;

  explicit FrameDemuxer(OutputSink& sink) : sink_(sink) {}

  // Feeds the next bytes of the stream. A malformed header is kProtocol (and sticks).
  Status Feed(std::string_view data);
  // Call when the stream ended: a stream that stops inside a frame is kProtocol.
  Status Finish() const;

  // The most bytes ever held back at once (header bytes only): constant, at most kHeaderSize.
  size_t max_buffered() const { return max_buffered_; }
  uint64_t payload_bytes() const { return payload_bytes_; }

 private:
  OutputSink& sink_;
  std::array<unsigned char, kHeaderSize> header_{};
  size_t header_len_ = 0;
  uint32_t remaining_ = 0;  // payload bytes left in the current frame
  unsigned char stream_ = 0;
  size_t max_buffered_ = 0;
  uint64_t payload_bytes_ = 0;
  Status error_;
};

}  // namespace kmps::docker
