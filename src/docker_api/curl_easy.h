// RAII owner of one libcurl easy handle and its request header list, with checked setopt.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <curl/curl.h>

#include "common/status.h"

namespace kmps::docker {

// curl_global_init, exactly once per process (std::call_once); safe from any thread.
Status EnsureCurlGlobalInit();

// Checked curl_easy_setopt: every option goes through it. `name` is used in the error message.
#define KMPS_CURL_SET(easy, option, value) (easy).Set(option, #option, value)

class CurlEasy {
 public:
  static StatusOr<CurlEasy> Create();
  CurlEasy(CurlEasy&& other) noexcept;
  CurlEasy& operator=(CurlEasy&& other) noexcept;
  CurlEasy(const CurlEasy&) = delete;
  CurlEasy& operator=(const CurlEasy&) = delete;
  ~CurlEasy();

  CURL* get() const { return handle_; }

  // Forgets every option (curl_easy_reset) but keeps live connections for reuse, and frees the
  // header list of the previous request.
  void Reset();

  template <typename T>
  Status Set(CURLoption option, std::string_view name, T value) {
    return Check(curl_easy_setopt(handle_, option, value), name);
  }
  // Replaces the request headers (the list is owned until the next Reset or SetHeaders).
  Status SetHeaders(const std::vector<std::string>& headers);

 private:
  explicit CurlEasy(CURL* handle) : handle_(handle) {}
  static Status Check(CURLcode rc, std::string_view name);
  void FreeHeaders();

  CURL* handle_ = nullptr;
  curl_slist* headers_ = nullptr;
};

}  // namespace kmps::docker
