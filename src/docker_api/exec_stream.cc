#include "docker_api/exec_stream.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/core.h>

#include "docker_api/frame_demuxer.h"

namespace kmps::docker {

namespace {

constexpr size_t kChunk = 32 << 10;

int PollMs(const Deadline& deadline) {
  return static_cast<int>(std::min<long long>(deadline.Remaining().count(), 60 * 60 * 1000));
}

}  // namespace

Status PumpExecStream(int sock, std::string_view early, OutputSink& sink, const PumpOptions& o, Deadline deadline,
                      PumpStats* stats) {
  PumpStats local;
  PumpStats& st = stats != nullptr ? *stats : local;
  FrameDemuxer demux(sink);
  auto feed = [&](std::string_view data) -> Status {
    st.stream_bytes += data.size();
    if (o.tty) {
      sink.OnStdout(data);
    } else {
      KMPS_RETURN_IF_ERROR(demux.Feed(data));
    }
    return sink.Refusal();
  };
  if (!early.empty()) KMPS_RETURN_IF_ERROR(feed(early));

  bool in_open = o.stdin_fd >= 0;  // stdin may still have something for us
  bool write_shut = false;
  std::string pending;  // read from stdin, not yet taken by the connection
  size_t sent = 0;      // of pending
  char buf[kChunk];

  auto drop_stdin = [&] {
    // The daemon takes no more (the command is gone): what is left of stdin has nowhere to go.
    st.stdin_dropped = in_open || sent < pending.size();
    in_open = false;
    pending.clear();
    sent = 0;
    write_shut = true;
  };
  // Sends what is pending; false when the connection takes no more.
  auto send_pending = [&] {
    while (sent < pending.size()) {
      ssize_t n = ::send(sock, pending.data() + sent, pending.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
        st.stdin_bytes += static_cast<uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      drop_stdin();
      return;
    }
    pending.clear();
    sent = 0;
  };

  while (true) {
    if (o.stdin_fd >= 0 && !in_open && pending.empty() && !write_shut) {
      ::shutdown(sock, SHUT_WR);  // the command reads its end of input
      write_shut = true;
    }
    pollfd fds[3];
    nfds_t n = 0;
    fds[n++] = pollfd{sock, static_cast<short>(POLLIN | (pending.empty() ? 0 : POLLOUT)), 0};
    int in_slot = -1, wake_slot = -1;
    if (in_open && pending.empty()) {
      in_slot = static_cast<int>(n);
      fds[n++] = pollfd{o.stdin_fd, POLLIN, 0};
    }
    if (o.wake_fd >= 0) {
      wake_slot = static_cast<int>(n);
      fds[n++] = pollfd{o.wake_fd, POLLIN, 0};
    }
    int ready = ::poll(fds, n, PollMs(deadline));
    if (ready < 0 && errno != EINTR) return Failed(fmt::format("poll: {}", std::strerror(errno)));
    if (deadline.Expired()) return DeadlineExceeded("the exec stream was still open when the deadline passed");
    if (ready <= 0) continue;

    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      ssize_t got = ::recv(sock, buf, sizeof buf, 0);
      if (got > 0) {
        KMPS_RETURN_IF_ERROR(feed(std::string_view(buf, static_cast<size_t>(got))));
      } else if (got == 0) {
        return o.tty ? Status::Ok() : demux.Finish();
      } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
        return ProtocolError(fmt::format("the exec stream broke: {}", std::strerror(errno)));
      }
    }
    if ((fds[0].revents & POLLOUT) != 0) send_pending();
    if (in_slot >= 0 && fds[in_slot].revents != 0) {
      if ((fds[in_slot].revents & POLLNVAL) != 0) {
        in_open = false;  // not an open descriptor: no input
        st.stdin_ended = true;
      } else {
        ssize_t got = ::read(o.stdin_fd, buf, sizeof buf);
        if (got > 0) {
          pending.assign(buf, static_cast<size_t>(got));
          sent = 0;
          send_pending();
        } else if (got == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
          in_open = false;  // its end (or a terminal hung up, EIO): the command gets its end too
          st.stdin_ended = true;
        }
      }
    }
    if (wake_slot >= 0 && (fds[wake_slot].revents & POLLIN) != 0) {
      while (::read(o.wake_fd, buf, sizeof buf) > 0) {
      }
      if (o.on_wake) o.on_wake();
    }
  }
}

}  // namespace kmps::docker
