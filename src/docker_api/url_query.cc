#include "docker_api/url_query.h"

#include <nlohmann/json.hpp>

namespace kmps::docker {

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
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
