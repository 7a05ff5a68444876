// The two directions of an attached exec over its hijacked connection (docker_api/hijack.h), on
// the calling thread with poll(2): our stdin is copied to the connection as it comes (never more
// than one read ahead of what the connection takes), and on stdin's end the connection's write
// side is shut (shutdown(SHUT_WR)), so that the command reads its end of input, as docker exec -i
// does; what the daemon sends is demultiplexed into the sink (FrameDemuxer), or, with a TTY,
// copied as it is (the stream is then raw, stdout only), until the daemon closes it.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "common/deadline.h"
#include "common/status.h"
#include "docker_api/docker_client.h"

namespace kmps::docker {

struct PumpOptions {
  // Copied to the connection; -1: no stdin is attached (the write side is then never shut).
  // Never made non-blocking: it is read only when poll says it has something (or its end).
  int stdin_fd = -1;
  bool tty = false;  // the stream is raw (Tty true), not multiplexed
  // When readable, drained and on_wake called (a self-pipe, e.g. SIGWINCH's: TerminalWatch).
  int wake_fd = -1;
  std::function<void()> on_wake;
};

struct PumpStats {
  uint64_t stdin_bytes = 0;     // bytes of stdin the connection took
  bool stdin_ended = false;     // stdin's end was read (and the write side shut)
  bool stdin_dropped = false;   // the daemon stopped taking stdin before its end (the command left)
  uint64_t stream_bytes = 0;    // bytes the daemon sent, frame headers included
};

// Runs both directions on the non-blocking connection `sock` until the daemon closes it.
// `early`: stream bytes that came with the reply head. Errors: kDeadlineExceeded past `deadline`,
// the sink's Refusal (a closed stdout), kProtocol for a malformed or cut stream or a broken
// connection.
Status PumpExecStream(int sock, std::string_view early, OutputSink& sink, const PumpOptions& options,
                      Deadline deadline, PumpStats* stats = nullptr);

}  // namespace kmps::docker
