// HTTP/1.1 requests to the Docker daemon through one libcurl easy handle (Unix socket or TCP).
// Connections are kept alive and reused between requests. Not thread-safe: one per thread.
#pragma once

#include <memory>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/deadline.h"
#include "common/status.h"
#include "docker_api/curl_easy.h"
#include "docker_api/endpoint.h"

namespace kmps::docker {

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, POST, DELETE
  std::string path;            // with the query, e.g. "/v1.41/containers/json?all=1"
  std::string body;            // sent as application/json when non-empty
  bool has_body = false;       // send `body` with Content-Type: application/json
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased; the final response's only
  std::string body;                            // empty for streamed 2xx bodies

  // The value of a header (case-insensitive name), or "".
  std::string Header(std::string_view name) const;
};

class HttpConnection {
 public:
  // Called with each piece of a 2xx body as it arrives; an error aborts the transfer.
  using DataFn = std::function<Status(std::string_view)>;

  static constexpr size_t kMaxBodyBytes = 64u << 20;

  static StatusOr<HttpConnection> Create(Endpoint endpoint, std::chrono::milliseconds connect_timeout);

  const Endpoint& endpoint() const { return endpoint_; }

  // Performs the request and reads the whole body (at most kMaxBodyBytes).
  StatusOr<HttpResponse> Do(const HttpRequest& request, Deadline deadline);
  // Performs the request and hands a 2xx body to `on_data` as it arrives, in constant memory;
  // error bodies (non-2xx) are collected into the response as with Do.
  StatusOr<HttpResponse> Stream(const HttpRequest& request, Deadline deadline, const DataFn& on_data);

 private:
  HttpConnection(CurlEasy easy, Endpoint endpoint, std::chrono::milliseconds connect_timeout)
      : easy_(std::move(easy)), endpoint_(std::move(endpoint)), connect_timeout_(connect_timeout) {}
  StatusOr<HttpResponse> Perform(const HttpRequest& request, Deadline deadline, const DataFn* on_data);

  CurlEasy easy_;
  Endpoint endpoint_;
  std::chrono::milliseconds connect_timeout_;
  // libcurl may write to the error buffer until the handle is reset or cleaned up: it lives as
  // long as the handle, not as long as one call.
  std::unique_ptr<char[]> errbuf_ = std::make_unique<char[]>(CURL_ERROR_SIZE);
};

}  // namespace kmps::docker
