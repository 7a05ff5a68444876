#include "recorder/convert.h"

#include <nlohmann/json.hpp>

namespace kmps::testing {

StatusOr<Cassette> ConvertExchangeLog(std::string_view jsonl, std::string_view origin) {
  Cassette cassette;
  std::size_t line_no = 0;
  while (!jsonl.empty()) {
    std::size_t eol = jsonl.find('\n');
    std::string_view line = jsonl.substr(0, eol);
    jsonl = eol == std::string_view::npos ? std::string_view() : jsonl.substr(eol + 1);
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    std::string where = std::string(origin) + ":" + std::to_string(line_no);
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return InvalidArgument(where + ": not a JSON object");
    for (const char* key : {"method", "path", "response_raw_b64"}) {
      if (!j.contains(key) || !j[key].is_string()) return InvalidArgument(where + ": \"" + key + "\" missing");
    }
    Interaction it;
    it.label = j.value("label", "");
    it.method = j["method"];
    it.path = j["path"];
    auto body = Base64Decode(j.value("request_body_b64", ""));
    auto raw = Base64Decode(j["response_raw_b64"].get<std::string>());
    if (!body || !raw) return InvalidArgument(where + ": bad base64");
    it.request_body = std::move(*body);
    it.response_raw = std::move(*raw);
    it.status = j.value("status", 0);
    if (j.contains("elapsed_ms") && j["elapsed_ms"].is_number()) it.elapsed_ms = j["elapsed_ms"].get<double>();
    if (j.contains("request_body_omitted_bytes") && j["request_body_omitted_bytes"].is_number_unsigned()) {
      it.request_body_omitted_bytes = j["request_body_omitted_bytes"].get<std::uint64_t>();
    }
    cassette.interactions.push_back(std::move(it));
  }
  // Round-trip through the parser so that every response is checked as HTTP.
  return ParseCassette(SerializeCassette(cassette), origin);
}

}  // namespace kmps::testing
