#include "support/cassette.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "support/http_framing.h"

namespace kmps::testing {
namespace {

using ojson = nlohmann::ordered_json;

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Printable ASCII plus tab/CR/LF: stored as text, anything else as base64.
bool IsPlainText(std::string_view s) {
  for (unsigned char c : s) {
    if (!(c == '\n' || c == '\r' || c == '\t' || (c >= 0x20 && c < 0x7f))) return false;
  }
  return true;
}

Status Bad(std::string_view origin, std::size_t index, std::string_view label, std::string_view what) {
  std::string where = std::string(origin);
  if (index != static_cast<std::size_t>(-1)) {
    where += ": interaction " + std::to_string(index);
    if (!label.empty()) where += " (" + std::string(label) + ")";
  }
  return InvalidArgument(where + ": " + std::string(what));
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                      (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += kB64[(n >> 6) & 63];
    out += kB64[n & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += rest == 2 ? kB64[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  std::array<int, 256> value{};
  value.fill(-1);
  for (int i = 0; i < 64; ++i) value[static_cast<unsigned char>(kB64[i])] = i;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t padding = 0;
  for (char ch : text) {
    if (ch == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return std::nullopt;  // data after padding
    int v = value[static_cast<unsigned char>(ch)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (padding > 2 || (text.size() % 4) != 0) return std::nullopt;
  return out;
}

std::vector<std::string> PreviewLines(std::string_view raw, std::size_t max_bytes) {
  std::vector<std::string> lines;
  std::string line;
  std::size_t shown = std::min(raw.size(), max_bytes);
  for (std::size_t i = 0; i < shown; ++i) {
    unsigned char c = static_cast<unsigned char>(raw[i]);
    if (c == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') continue;  // CRLF ends at the LF
    if (c == '\n') {
      lines.push_back(std::move(line));
      line.clear();
    } else if (c >= 0x20 && c < 0x7f) {
      line += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      line += buf;
    }
  }
  if (!line.empty()) lines.push_back(std::move(line));
  if (shown < raw.size()) lines.push_back("... (" + std::to_string(raw.size() - shown) + " more bytes)");
  return lines;
}

const Interaction* Cassette::Find(std::string_view label) const {
  for (const auto& i : interactions) {
    if (i.label == label) return &i;
  }
  return nullptr;
}

StatusOr<Cassette> ParseCassette(std::string_view json_text, std::string_view origin) {
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Bad(origin, kNone, "", "not valid JSON");
  if (!doc.is_object() || doc.value("format", "") != kCassetteFormat) {
    return Bad(origin, kNone, "", "not a cassette: \"format\" must be \"" + std::string(kCassetteFormat) + "\"");
  }
  if (!doc.contains("interactions") || !doc["interactions"].is_array()) {
    return Bad(origin, kNone, "", "\"interactions\" must be an array");
  }
  Cassette cassette;
  if (doc.contains("description") && doc["description"].is_string()) cassette.description = doc["description"];
  std::size_t index = 0;
  for (const auto& j : doc["interactions"]) {
    Interaction it;
    if (!j.is_object()) return Bad(origin, index, "", "not an object");
    auto str = [&](const char* key) -> std::optional<std::string> {
      if (j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
      return std::nullopt;
    };
    it.label = str("label").value_or("");
    auto method = str("method");
    auto path = str("path");
    if (!method || method->empty()) return Bad(origin, index, it.label, "\"method\" missing");
    if (!path || path->empty() || (*path)[0] != '/') return Bad(origin, index, it.label, "\"path\" missing or not absolute");
    it.method = *method;
    it.path = *path;
    if (auto body = str("request_body")) {
      it.request_body = *body;
    } else if (auto b64 = str("request_body_b64")) {
      auto decoded = Base64Decode(*b64);
      if (!decoded) return Bad(origin, index, it.label, "\"request_body_b64\" is not base64");
      it.request_body = std::move(*decoded);
    }
    if (j.contains("request_body_omitted_bytes")) {
      if (!j["request_body_omitted_bytes"].is_number_unsigned())
        return Bad(origin, index, it.label, "\"request_body_omitted_bytes\" must be a count");
      it.request_body_omitted_bytes = j["request_body_omitted_bytes"].get<std::uint64_t>();
    }
    auto raw_b64 = str("response_raw_b64");
    if (!raw_b64) return Bad(origin, index, it.label, "\"response_raw_b64\" missing");
    auto raw = Base64Decode(*raw_b64);
    if (!raw) return Bad(origin, index, it.label, "\"response_raw_b64\" is not base64");
    it.response_raw = std::move(*raw);
    Framing f = FrameResponse(it.response_raw, it.method, /*eof=*/true);
    if (f.state != FrameState::kComplete) return Bad(origin, index, it.label, "response is not a complete HTTP response: " + f.error);
    if (f.total_len != it.response_raw.size()) {
      return Bad(origin, index, it.label,
                 std::to_string(it.response_raw.size() - f.total_len) + " bytes after the end of the response");
    }
    it.status = f.head.status;
    if (j.contains("status") && (!j["status"].is_number_integer() || j["status"].get<int>() != it.status)) {
      return Bad(origin, index, it.label, "\"status\" disagrees with the raw response (" + std::to_string(it.status) + ")");
    }
    if (j.contains("elapsed_ms") && j["elapsed_ms"].is_number()) it.elapsed_ms = j["elapsed_ms"].get<double>();
    cassette.interactions.push_back(std::move(it));
    ++index;
  }
  return cassette;
}

StatusOr<Cassette> LoadCassette(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read cassette " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return ParseCassette(text.str(), path.string());
}

std::string SerializeCassette(const Cassette& cassette) {
  ojson doc;
  doc["format"] = kCassetteFormat;
  doc["description"] = cassette.description;
  ojson list = ojson::array();
  for (const auto& it : cassette.interactions) {
    ojson j;
    j["label"] = it.label;
    j["method"] = it.method;
    j["path"] = it.path;
    if (IsPlainText(it.request_body)) {
      j["request_body"] = it.request_body;
    } else {
      j["request_body_b64"] = Base64Encode(it.request_body);
    }
    if (it.request_body_omitted_bytes) j["request_body_omitted_bytes"] = *it.request_body_omitted_bytes;
    j["status"] = it.status;
    if (it.elapsed_ms) j["elapsed_ms"] = *it.elapsed_ms;
    j["response_preview"] = PreviewLines(it.response_raw);
    j["response_raw_b64"] = Base64Encode(it.response_raw);
    list.push_back(std::move(j));
  }
  doc["interactions"] = std::move(list);
  return doc.dump(2, ' ', false, ojson::error_handler_t::replace) + "\n";
}

Status SaveCassette(const Cassette& cassette, const std::filesystem::path& path) {
  return WriteFileAtomically(path.string(), SerializeCassette(cassette)).WithContext("cassette");
}

}  // namespace kmps::testing
