// Turns HTTP error responses and libcurl failures into Status values (pure functions).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <curl/curl.h>

#include "common/status.h"

namespace kmps::docker {

// The daemon's own error text: the JSON body's "message", else the body itself (trimmed and
// shortened), else "HTTP <status>".
std::string DaemonMessage(long http_status, std::string_view body);

// 404 kNotFound, 409 kConflict, 400 kBadRequest, 5xx kServerError, 401/403 kPermissionDenied,
// other kFailed. Message: "<context>: <daemon message> (HTTP <status>)".
Status HttpError(long http_status, std::string_view body, std::string_view context);

struct TransportFailure {
  CURLcode code = CURLE_OK;
  long os_errno = 0;
  std::string detail;           // curl's error buffer
  bool unix_socket = true;
  std::string endpoint;         // socket path or tcp://host:port
  std::string request;          // "GET /v1.41/containers/json"
  std::chrono::milliseconds timeout{0};
  bool connected = true;        // false: the timeout ran out before a connection was made
  std::chrono::milliseconds connect_timeout{0};
};

// ENOENT / ECONNREFUSED, and a connect timeout -> kUnavailable naming the socket or host,
// EACCES -> kPermissionDenied, other timeouts -> kDeadlineExceeded, truncated or malformed
// replies -> kProtocol.
Status CurlError(const TransportFailure& failure);

}  // namespace kmps::docker
