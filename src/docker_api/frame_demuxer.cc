#include "docker_api/frame_demuxer.h"

#include <algorithm>

#include <fmt/core.h>

namespace kmps::docker {

Status FrameDemuxer::Feed(std::string_view data) {
  if (!error_.ok()) return error_;
  while (!data.empty()) {
    if (remaining_ > 0) {
      size_t n = std::min<size_t>(remaining_, data.size());
      std::string_view chunk = data.substr(0, n);
      if (stream_ >= 2) {
        sink_.OnStderr(chunk);
      } else {
        sink_.OnStdout(chunk);
      }
      remaining_ -= static_cast<uint32_t>(n);
      payload_bytes_ += n;
      data.remove_prefix(n);
      continue;
    }
    size_t n = std::min(kHeaderSize - header_len_, data.size());
    std::copy_n(data.begin(), n, header_.begin() + header_len_);
    header_len_ += n;
    data.remove_prefix(n);
    max_buffered_ = std::max(max_buffered_, header_len_);
    if (header_len_ < kHeaderSize) break;
    header_len_ = 0;
    if (header_[0] > 3 || header_[1] != 0 || header_[2] != 0 || header_[3] != 0) {
      error_ = ProtocolError(fmt::format(
          "malformed exec stream: bad frame header {:02x} {:02x} {:02x} {:02x} (expected stream 0-3 and 3 zero bytes)",
          header_[0], header_[1], header_[2], header_[3]));
      return error_;
    }
    stream_ = header_[0];
    remaining_ = (uint32_t{header_[4]} << 24) | (uint32_t{header_[5]} << 16) |
                 (uint32_t{header_[6]} << 8) | uint32_t{header_[7]};
  }
  return Status::Ok();
}

Status FrameDemuxer::Finish() const {
  if (!error_.ok()) return error_;
  if (header_len_ > 0) {
    return ProtocolError(fmt::format(
        "exec stream closed inside a frame header ({} of {} bytes received)", header_len_, kHeaderSize));
  }
  if (remaining_ > 0) {
    return ProtocolError(fmt::format("exec stream closed mid-frame ({} payload bytes missing)", remaining_));
  }
  return Status::Ok();
}

}  // namespace kmps::docker
