#include "docker_api/curl_easy.h"

#include <mutex>
#include <utility>

#include <fmt/core.h>

namespace kmps::docker {

Status EnsureCurlGlobalInit() {
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (rc != CURLE_OK) return Failed(fmt::format("curl_global_init failed: {}", curl_easy_strerror(rc)));
  return Status::Ok();
}

StatusOr<CurlEasy> CurlEasy::Create() {
  KMPS_RETURN_IF_ERROR(EnsureCurlGlobalInit());
  CURL* h = curl_easy_init();
  if (h == nullptr) return Failed("curl_easy_init failed (out of memory?)");
  return CurlEasy(h);
}

CurlEasy::CurlEasy(CurlEasy&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)), headers_(std::exchange(other.headers_, nullptr)) {}

CurlEasy& CurlEasy::operator=(CurlEasy&& other) noexcept {
  if (this != &other) {
    FreeHeaders();
    if (handle_ != nullptr) curl_easy_cleanup(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
    headers_ = std::exchange(other.headers_, nullptr);
  }
  return *this;
}

CurlEasy::~CurlEasy() {
  // The handle goes first: it may still point at the header list.
  if (handle_ != nullptr) curl_easy_cleanup(handle_);
  FreeHeaders();
}

void CurlEasy::FreeHeaders() {
  if (headers_ != nullptr) curl_slist_free_all(headers_);
  headers_ = nullptr;
}

void CurlEasy::Reset() {
  curl_easy_reset(handle_);
  FreeHeaders();
}

Status CurlEasy::SetHeaders(const std::vector<std::string>& headers) {
  curl_slist* list = nullptr;
  for (const auto& h : headers) {
    curl_slist* next = curl_slist_append(list, h.c_str());
    if (next == nullptr) {
      curl_slist_free_all(list);
      return Failed("curl_slist_append failed (out of memory?)");
    }
    list = next;
  }
  Status s = Check(curl_easy_setopt(handle_, CURLOPT_HTTPHEADER, list), "CURLOPT_HTTPHEADER");
  if (!s.ok()) {
    curl_slist_free_all(list);
    return s;
  }
  FreeHeaders();
  headers_ = list;
  return Status::Ok();
}

Status CurlEasy::Check(CURLcode rc, std::string_view name) {
  if (rc == CURLE_OK) return Status::Ok();
  return Failed(fmt::format("curl_easy_setopt({}) failed: {}", name, curl_easy_strerror(rc)));
}

}  // namespace kmps::docker
