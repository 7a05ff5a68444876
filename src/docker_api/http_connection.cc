#include "docker_api/http_connection.h"

#include <algorithm>
#include <cctype>

#include <fmt/core.h>

#include "common/text.h"
#include "docker_api/http_errors.h"

namespace kmps::docker {

namespace {

// The status code of a status line, "HTTP/1.1 200 OK\r\n": three digits after the first space,
// then a space or the line's end. 0 for anything else ("HTTP/204", a code of four digits).
long StatusCodeOf(std::string_view line) {
  auto sp = line.find(' ');
  if (sp == std::string_view::npos || line.size() - sp - 1 < 3) return 0;
  std::string_view digits = line.substr(sp + 1, 3), rest = line.substr(sp + 4);
  long code = 0;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return 0;
    code = code * 10 + (c - '0');
  }
  if (!rest.empty() && rest.front() != ' ' && rest.front() != '\r' && rest.front() != '\n') return 0;
  return code;
}

// State shared with the libcurl callbacks during one transfer.
struct Transfer {
  HttpResponse response;
  const HttpConnection::DataFn* on_data = nullptr;
  Status callback_error;  // set when a callback aborted the transfer
  Deadline deadline = Deadline::In(std::chrono::milliseconds(0));
  bool deadline_hit = false;
  // The blank line that ends the head was seen. libcurl 7.88 reports a connection closed inside
  // the head (after the status line) as a complete response with CURLE_OK.
  bool head_complete = false;
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    // A new response (after a 100 Continue or a redirect): start over.
    t->head_complete = false;
    t->response.status = StatusCodeOf(line);
    return size * n;
  }
  // The header lines themselves are read from libcurl once the transfer is done (CollectHeaders).
  if (line == "\r\n" || line == "\n") t->head_complete = true;
  return size * n;
}

// The final response's headers as libcurl parsed them (curl_easy_nextheader, libcurl >= 7.84):
// names lower-cased, values without surrounding blanks, the last of a repeated name; neither the
// headers of a 1xx response before it nor a chunked body's trailers.
void CollectHeaders(CURL* easy, HttpResponse& response) {
  for (curl_header* h = nullptr; (h = curl_easy_nextheader(easy, CURLH_HEADER, -1, h)) != nullptr;) {
    response.headers[AsciiLower(h->name)] = h->value;
  }
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  std::string_view chunk(data, len);
  bool success = t->response.status >= 200 && t->response.status < 300;
  if (t->on_data != nullptr && success) {
    Status s = (*t->on_data)(chunk);
    if (!s.ok()) {
      t->callback_error = std::move(s);
      return CURL_WRITEFUNC_ERROR;
    }
    return len;
  }
  if (t->response.body.size() + len > HttpConnection::kMaxBodyBytes) {
    t->callback_error = ProtocolError(
        fmt::format("the Docker daemon's reply is larger than {} MiB", HttpConnection::kMaxBodyBytes >> 20));
    return CURL_WRITEFUNC_ERROR;
  }
  t->response.body.append(chunk);
  return len;
}

// Called by libcurl about once a second even when no data flows: a stalled daemon still meets
// the deadline.
int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->deadline.Expired()) {
    t->deadline_hit = true;
    return 1;
  }
  return 0;
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  auto it = headers.find(AsciiLower(name));
  return it == headers.end() ? std::string() : it->second;
}

StatusOr<HttpConnection> HttpConnection::Create(Endpoint endpoint, std::chrono::milliseconds connect_timeout) {
  KMPS_ASSIGN_OR_RETURN(CurlEasy easy, CurlEasy::Create());
  curl_header* unused = nullptr;
  if (curl_easy_header(easy.get(), "Api-Version", 0, CURLH_HEADER, -1, &unused) == CURLHE_NOT_BUILT_IN) {
    return EnvironmentMissing(fmt::format("libcurl {} was built without its headers API (curl_easy_header), which "
                                          "kindmps-api reads the Docker daemon's replies with; install a libcurl "
                                          "that has it (Debian 12's libcurl4 does)",
                                          curl_version_info(CURLVERSION_NOW)->version));
  }
  return HttpConnection(std::move(easy), std::move(endpoint), connect_timeout);
}

StatusOr<HttpResponse> HttpConnection::Do(const HttpRequest& request, Deadline deadline) {
  return Perform(request, deadline, nullptr);
}

StatusOr<HttpResponse> HttpConnection::Stream(const HttpRequest& request, Deadline deadline, const DataFn& on_data) {
  return Perform(request, deadline, &on_data);
}

StatusOr<HttpResponse> HttpConnection::Perform(const HttpRequest& request, Deadline deadline,
                                               const DataFn* on_data) {
  std::string what = fmt::format("{} {}", request.method, request.path);
  auto timeout = deadline.Remaining();
  if (timeout.count() <= 0) {
    return DeadlineExceeded(
        fmt::format("{} on the Docker daemon at {}: deadline already passed", what, endpoint_.Describe()));
  }
  Transfer t;
  t.on_data = on_data;
  t.deadline = deadline;
  char* errbuf = errbuf_.get();
  errbuf[0] = 0;

  easy_.Reset();
  CurlEasy& e = easy_;
  std::string url = endpoint_.BaseUrl() + request.path;
  if (endpoint_.kind == Endpoint::Kind::kUnix) {
    KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_UNIX_SOCKET_PATH, endpoint_.socket_path.c_str()));
  }
  KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_URL, url.c_str()));
  KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_PROTOCOLS_STR, "http"));
  KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_NOPROXY, "*"));
  KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_HTTP_VERSION, long{CURL_HTTP_VERSION_1_1}));
  KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_NOSIGNAL, 1L));
  KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_ERRORBUFFER, errbuf));
  long connect_ms = static_cast<long>(std::min(connect_timeout_, timeout).count());
  KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_CONNECTTIMEOUT_MS, std::max(connect_ms, 1L)));
  KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count())));
  KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_HEADERFUNCTION, &OnHeader));
  KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_HEADERDATA, static_cast<void*>(&t)));
  KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_WRITEFUNCTION, &OnBody));
  KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_WRITEDATA, static_cast<void*>(&t)));
  KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_NOPROGRESS, 0L));
  KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_XFERINFOFUNCTION, &OnProgress));
  KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_XFERINFODATA, static_cast<void*>(&t)));

  // "Expect:" stops libcurl from waiting for a 100 Continue before large bodies.
  std::vector<std::string> headers = {"Expect:", "Accept: application/json"};
  if (request.method == "GET") {
    KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_HTTPGET, 1L));
  } else if (request.method == "HEAD") {
    KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_NOBODY, 1L));  // the reply has a length but no body
  } else if (request.method == "POST") {
    KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_POST, 1L));
    KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size())));
    KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_POSTFIELDS, request.body.c_str()));
    if (request.has_body) headers.emplace_back("Content-Type: application/json");
  } else {
    KMPS_RETURN_IF_ERROR(KMPS_CURL_SET(e, CURLOPT_CUSTOMREQUEST, request.method.c_str()));
  }
  KMPS_RETURN_IF_ERROR(e.SetHeaders(headers));

  CURLcode rc = curl_easy_perform(e.get());
  if (rc != CURLE_OK) {
    if (!t.callback_error.ok()) return t.callback_error;
    TransportFailure f;
    f.code = t.deadline_hit ? CURLE_OPERATION_TIMEDOUT : rc;
    curl_easy_getinfo(e.get(), CURLINFO_OS_ERRNO, &f.os_errno);
    f.detail = errbuf;
    f.unix_socket = endpoint_.kind == Endpoint::Kind::kUnix;
    f.endpoint = endpoint_.Describe();
    f.request = what;
    f.timeout = timeout;
    // A TCP peer that never answers the SYN times out in connect; a Unix socket connects at once
    // or fails with ENOENT/ECONNREFUSED, so only TCP endpoints are judged by the connect time.
    curl_off_t connect_us = 0;
    if (!f.unix_socket && curl_easy_getinfo(e.get(), CURLINFO_CONNECT_TIME_T, &connect_us) == CURLE_OK) {
      f.connected = connect_us > 0;
    }
    f.connect_timeout = std::chrono::milliseconds(connect_ms);
    return CurlError(f);
  }
  if (!t.head_complete) {
    return ProtocolError(fmt::format("{} on the Docker daemon at {}: the connection closed inside the response head",
                                     what, endpoint_.Describe()));
  }
  // libcurl takes "HTTP/204 No Content" for HTTP/2 with code 4, and any three digits (999): the
  // status line must hold a code HTTP defines, 100 to 599, and the one libcurl read.
  long code = 0;
  curl_easy_getinfo(e.get(), CURLINFO_RESPONSE_CODE, &code);
  if (code != t.response.status || code < 100 || code > 599) {
    return ProtocolError(fmt::format("{} on the Docker daemon at {}: malformed status line (status {})", what,
                                     endpoint_.Describe(), code));
  }
  CollectHeaders(e.get(), t.response);
  return std::move(t.response);
}

}  // namespace kmps::docker
