// Small text helpers for messages.
#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace kmps {

// `text` on one line: trailing newlines and spaces dropped, inner line breaks made spaces, so
// that a command's output fits the one-line error contract.
inline std::string OneLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

// `s` without leading and trailing blanks (spaces, tabs, CR, LF).
inline std::string_view Trim(std::string_view s) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

// `s` as a whole number of type T in `base`: nullopt unless all of `s` is the number (no blanks,
// no '+'; a '-' only for a signed T) and it fits T.
template <typename T>
std::optional<T> ParseInteger(std::string_view s, int base = 10) {
  T value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// Calls fn(line) for each line of `text`, without its '\n'; a last line without one counts too,
// an empty text has no lines.
template <typename Fn>
void ForEachLine(std::string_view text, Fn&& fn) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    fn(text.substr(pos, end - pos));
    pos = end + 1;
  }
}

// nlohmann's parse error at 1-based byte `byte` of `text`, whose what() is "[json.exception.
// parse_error.101] parse error at line 1, column 2: why", as "LINE:COLUMN: invalid JSON: why".
inline std::string JsonParseErrorAt(std::string_view text, size_t byte, std::string_view what) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  size_t colon = what.find(": ");
  std::string_view why = colon == std::string_view::npos ? what : what.substr(colon + 2);
  return std::to_string(line) + ":" + std::to_string(column) + ": invalid JSON: " + std::string(why);
}

}  // namespace kmps
