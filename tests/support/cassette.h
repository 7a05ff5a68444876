// Cassettes: recorded Docker Engine API exchanges, replayed by ReplayServer in tests.
// The format is documented in docs/fixtures.md: one JSON document, "format": "kmps-cassette/1",
// interactions in the order they were sent, each response kept as the raw bytes that came off the
// socket (base64), with a readable preview that the loader ignores.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kmps::testing {

inline constexpr std::string_view kCassetteFormat = "kmps-cassette/1";

struct Interaction {
  std::string label;         // what the recording was doing ("exit3:start")
  std::string method;        // "POST"
  std::string path;          // request target as sent, query included ("/v1.41/exec/ID/start")
  std::string request_body;  // raw bytes (may be empty)
  std::optional<std::uint64_t> request_body_omitted_bytes;  // body left out of the cassette
  int status = 0;            // the status code of response_raw (checked on load)
  std::string response_raw;  // status line, headers and body exactly as received
  std::optional<double> elapsed_ms;  // request sent -> response complete, as recorded
};

struct Cassette {
  std::string description;
  std::vector<Interaction> interactions;

  // The first interaction with this label, or nullptr.
  const Interaction* Find(std::string_view label) const;
};

// Parses a cassette document; `origin` names it in error messages. Checks every response is
// one complete HTTP response whose status matches "status".
StatusOr<Cassette> ParseCassette(std::string_view json_text, std::string_view origin);
StatusOr<Cassette> LoadCassette(const std::filesystem::path& path);

// The cassette as a JSON document (2-space indent, stable key order, trailing newline).
std::string SerializeCassette(const Cassette& cassette);
// Writes atomically (temporary file, then rename).
Status SaveCassette(const Cassette& cassette, const std::filesystem::path& path);

// A readable rendering of raw HTTP bytes, one string per line: CRLF and LF end lines,
// other unprintable bytes show as \xNN; cut after `max_bytes` with a note.
std::vector<std::string> PreviewLines(std::string_view raw, std::size_t max_bytes = 4096);

std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace kmps::testing
