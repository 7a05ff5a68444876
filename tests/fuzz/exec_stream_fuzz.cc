// Docker's multiplexed attach/exec stream (docker_api/frame_demuxer.h): what the daemon sends
// after an exec start, any bytes. The stream is fed whole and again in pieces; both must agree.
#include <algorithm>
#include <string>

#include "docker_api/frame_demuxer.h"
#include "fuzz_support.h"

namespace {

using kmps::docker::FrameDemuxer;

class Sink : public kmps::docker::OutputSink {
 public:
  void OnStdout(std::string_view d) override { out.append(d); }
  void OnStderr(std::string_view d) override { err.append(d); }
  std::string out, err;
};

struct Run {
  Sink sink;
  kmps::Status fed, finished;
  uint64_t payload_bytes = 0;
};

// Feeds `stream` in pieces of `piece` bytes (the whole at once when 0).
void Demux(std::string_view stream, size_t piece, Run& run) {
  FrameDemuxer d(run.sink);
  if (piece == 0) piece = stream.size() + 1;
  for (size_t at = 0; at < stream.size() && run.fed.ok(); at += piece) {
    run.fed = d.Feed(stream.substr(at, piece));
  }
  run.finished = d.Finish();
  run.payload_bytes = d.payload_bytes();
  KMPS_FUZZ_CHECK(d.max_buffered() <= FrameDemuxer::kHeaderSize);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view stream = kmps::fuzz::Bytes(data, size);
  Run whole, pieces;
  Demux(stream, 0, whole);
  Demux(stream, size == 0 ? 1 : 1 + data[size - 1] % 13, pieces);
  for (const Run* r : {&whole, &pieces}) {
    KMPS_FUZZ_CHECK(r->payload_bytes == r->sink.out.size() + r->sink.err.size());
    KMPS_FUZZ_CHECK(r->payload_bytes <= size);
    KMPS_FUZZ_CHECK(r->fed.ok() || r->fed.code() == kmps::Code::kProtocol);
    KMPS_FUZZ_CHECK(r->finished.ok() || r->finished.code() == kmps::Code::kProtocol);
    KMPS_FUZZ_CHECK(r->fed.ok() || !r->finished.ok());  // a bad header sticks
  }
  KMPS_FUZZ_CHECK(whole.sink.out == pieces.sink.out && whole.sink.err == pieces.sink.err);
  KMPS_FUZZ_CHECK(whole.fed.ok() == pieces.fed.ok() && whole.finished.ok() == pieces.finished.ok());
  return 0;
}
