#include "docker_api/url_query.h"

#include <memory>
#include <new>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

namespace kmps::docker {

std::string PercentEncode(std::string_view s) {
  // curl_easy_escape keeps exactly RFC 3986's unreserved characters and writes %XX in upper case.
  // It takes an int length, reads strlen() for 0, and refuses inputs past its own bound
  // (CURL_MAX_INPUT_LENGTH): pieces of 64 KiB keep it inside all three.
  constexpr size_t kPiece = 64 * 1024;
  std::string out;
  out.reserve(s.size());
  for (size_t at = 0; at < s.size(); at += kPiece) {
    std::string_view piece = s.substr(at, kPiece);
    std::unique_ptr<char, decltype(&curl_free)> escaped(
        curl_easy_escape(nullptr, piece.data(), static_cast<int>(piece.size())), &curl_free);
    if (escaped == nullptr) throw std::bad_alloc();  // its only failure left: out of memory
    out += escaped.get();
  }
  return out;
}

std::string RegexEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string ContainerFilters(const std::vector<std::string>& labels, std::string_view exact_name) {
  nlohmann::json f = nlohmann::json::object();
  if (!labels.empty()) f["label"] = labels;
  if (!exact_name.empty()) f["name"] = {"^/?" + RegexEscape(exact_name) + "$"};
  if (f.empty()) return {};
  return f.dump();
}

}  // namespace kmps::docker
