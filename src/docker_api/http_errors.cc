#include "docker_api/http_errors.h"

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "common/text.h"
#include <nlohmann/json.hpp>

namespace kmps::docker {

std::string DaemonMessage(long http_status, std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) {
    return OneLine(j["message"].get<std::string>());
  }
  std::string_view t = Trim(body);
  if (t.empty()) return fmt::format("HTTP {}", http_status);
  if (t.size() > 300) return OneLine(std::string(t.substr(0, 300))) + "...";
  return OneLine(std::string(t));
}

Status HttpError(long http_status, std::string_view body, std::string_view context) {
  std::string msg = fmt::format("{}: {} (HTTP {})", context, DaemonMessage(http_status, body), http_status);
  Code code = Code::kFailed;
  if (http_status == 404) {
    code = Code::kNotFound;
  } else if (http_status == 409) {
    code = Code::kConflict;
  } else if (http_status == 400) {
    code = Code::kBadRequest;
  } else if (http_status == 401 || http_status == 403) {
    code = Code::kPermissionDenied;
  } else if (http_status >= 500 && http_status <= 599) {
    code = Code::kServerError;
  }
  return Status(code, std::move(msg));
}

Status CurlError(const TransportFailure& f) {
  const std::string& where = f.endpoint;
  std::string detail = f.detail.empty() ? curl_easy_strerror(f.code) : f.detail;
  switch (f.code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST: {
      if (f.os_errno == EACCES || f.os_errno == EPERM) {
        return Status(Code::kPermissionDenied,
                      fmt::format("permission denied on the Docker socket {} (is your user in the docker group?)",
                                  where));
      }
      std::string why;
      if (f.os_errno == ENOENT) {
        why = "no such file";
      } else if (f.os_errno == ECONNREFUSED) {
        why = "connection refused";
      } else if (f.os_errno != 0) {
        why = std::strerror(static_cast<int>(f.os_errno));
      } else {
        why = detail;
      }
      return Unavailable(
          fmt::format("cannot connect to the Docker daemon at {}: {} (is dockerd running?)", where, why));
    }
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_ABORTED_BY_CALLBACK:
      if (!f.connected) {
        // Nothing accepted the connection: the daemon is unreachable, not slow.
        return Unavailable(fmt::format("cannot connect to the Docker daemon at {} within {} ms (is it reachable?)",
                                       where, f.connect_timeout.count()));
      }
      return DeadlineExceeded(fmt::format("{} on the Docker daemon at {}: no complete answer within {} ms",
                                          f.request, where, f.timeout.count()));
    case CURLE_GOT_NOTHING:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return ProtocolError(
          fmt::format("{} on the Docker daemon at {}: malformed or truncated reply: {}", f.request, where, detail));
    case CURLE_SEND_ERROR:
      return Unavailable(
          fmt::format("{} on the Docker daemon at {}: connection lost while sending: {}", f.request, where, detail));
    default:
      return Failed(fmt::format("{} on the Docker daemon at {}: {}", f.request, where, detail));
  }
}

}  // namespace kmps::docker
