// HTTP/1.1 message framing for the fixture tools (recorder and replay server): where a request
// or a response ends in a byte buffer (Content-Length, chunked, or close-delimited), plus the
// parsed head. Pure functions over bytes; nothing here touches a socket.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kmps::testing {

struct HttpHead {
  std::string start_line;
  // Requests: method and target ("/v1.41/containers/json?all=1").
  std::string method;
  std::string target;
  // Responses: the status code.
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;

  // The first header of that name (case-insensitive), if any.
  std::optional<std::string_view> Get(std::string_view name) const;
  // True when a header `name` holds `token` in its comma-separated list (case-insensitive).
  bool HasToken(std::string_view name, std::string_view token) const;
};

enum class FrameState { kNeedMore, kComplete, kError };

struct Framing {
  FrameState state = FrameState::kNeedMore;
  std::string error;          // for kError
  HttpHead head;              // valid once head_len > 0
  std::size_t head_len = 0;   // bytes of the status/request line and headers, final CRLF included
  std::size_t total_len = 0;  // bytes of the whole message when kComplete
  bool chunked = false;
  bool close_delimited = false;  // response body ends only when the connection closes
};

// Frames the request at the start of `buf`: body by Content-Length or chunked, else none.
Framing FrameRequest(std::string_view buf);

// Frames the response at the start of `buf` to a request with `request_method`. A response
// without Content-Length or chunked coding (an exec start stream) is close-delimited: it is
// complete only when `eof` says the peer closed. 1xx, 204, 304 and HEAD responses have no body.
Framing FrameResponse(std::string_view buf, std::string_view request_method, bool eof);

// Whether a server that sent this complete response must close the connection afterwards.
bool ResponseClosesConnection(const Framing& response);

// The body of a complete message with any chunked coding removed.
std::optional<std::string> DecodedBody(std::string_view message, const Framing& framing);

// Case-insensitive ASCII equality.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace kmps::testing
