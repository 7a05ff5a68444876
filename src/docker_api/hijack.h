// The Docker Engine API's "hijacked" connection (POST /exec/{id}/start with stdin attached or a
// TTY): the request is sent with `Connection: Upgrade` / `Upgrade: tcp`, the daemon answers
// `101 UPGRADED` (an engine that ignores the hint answers `200 OK`), and from the blank line on the
// connection carries the raw stream both ways. libcurl does not hand such a connection over for
// poll(2) and shutdown(2), so this is a plain socket (Unix or TCP) speaking HTTP/1.1 for one
// request. Error replies (404, 409, ...) are read whole and returned as HttpError.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/deadline.h"
#include "common/fd.h"
#include "common/status.h"
#include "docker_api/endpoint.h"

namespace kmps::docker {

// The request text: POST `path` (versioned, with its query) with a JSON `body`, asking for the
// upgrade. The Host header is the endpoint's (a Unix socket's: "localhost").
std::string HijackRequestText(const Endpoint& endpoint, std::string_view path, std::string_view body);

struct ResponseHead {
  long status = 0;
  size_t size = 0;                             // bytes of the head, its blank line included
  std::map<std::string, std::string> headers;  // names lower-cased
};

// The head at the start of `data`: nullopt while the blank line has not arrived yet (at most
// kMaxHeadBytes are looked at); kProtocol for a malformed status line or a head too long.
inline constexpr size_t kMaxHeadBytes = 64 << 10;
StatusOr<std::optional<ResponseHead>> ParseResponseHead(std::string_view data);

struct HijackedConnection {
  std::unique_ptr<UniqueFd> fd;  // the connection, non-blocking (O_NONBLOCK); owned
  std::string early;             // stream bytes that arrived with the head
  long status = 0;               // 101, or 200
};

// Connects to `endpoint` (within `connect_timeout`, capped by `deadline`), sends the request and
// reads the head by `deadline`. 101 or 200: the connection. Another status: `refused` is set and
// the reply is HttpError(status, body, context). Transport failures name the endpoint.
StatusOr<HijackedConnection> Hijack(const Endpoint& endpoint, std::string_view path, std::string_view body,
                                    Deadline deadline, std::chrono::milliseconds connect_timeout,
                                    std::string_view context, bool& refused);

}  // namespace kmps::docker
