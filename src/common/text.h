// Small text helpers for messages.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

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

// "a,b,,c" split at `sep` -> {"a", "b", "", "c"}; "" -> {""}. Views into `s`.
inline std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (size_t at = 0;;) {
    size_t next = s.find(sep, at);
    parts.push_back(s.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at));
    if (next == std::string_view::npos) return parts;
    at = next + 1;
  }
}

// `s` with ASCII A-Z lowered (GPU UUIDs, header names): no locale.
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
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

// The length of the valid UTF-8 sequence that starts at s[i] (1 to 4), or 0 when the byte there
// starts none: a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, or a
// sequence cut short.
inline size_t Utf8SequenceAt(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  auto cont = [&](size_t k) { return (byte(k) & 0xC0u) == 0x80u; };
  unsigned c = byte(0);
  if (i >= s.size()) return 0;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return byte(1) >= lo && byte(1) <= hi && cont(2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return byte(1) >= lo && byte(1) <= hi && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

// Whether all of `s` is valid UTF-8 (what JSON, and so the Docker API and the state file, carry).
inline bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceAt(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// The length of `s` less a UTF-8 sequence cut short at its end (a lead byte followed by fewer
// continuation bytes than it announces), so that a text cut at a byte count ends on a character.
inline size_t Utf8CompleteLength(std::string_view s) {
  for (size_t back = 1; back <= 4 && back <= s.size(); ++back) {
    unsigned c = static_cast<unsigned char>(s[s.size() - back]);
    if ((c & 0xC0u) == 0x80u) continue;  // a continuation byte: look further back for the lead
    size_t announced = (c & 0xE0u) == 0xC0u ? 2 : (c & 0xF0u) == 0xE0u ? 3 : (c & 0xF8u) == 0xF0u ? 4 : 1;
    return announced > back ? s.size() - back : s.size();
  }
  return s.size();
}

// `s` safe to show on a terminal and on one line: valid UTF-8 and tabs as they are; each control
// character (C0 but tab, so also CR and LF; DEL; C1) and each byte that is no part of valid UTF-8
// as "\xHH", one per byte. So ESC of an ANSI colour code or cursor move is "\x1b", and a
// program's binary output cannot drive the terminal. A backslash stays as it is.
inline std::string TerminalSafe(std::string_view s) {
  std::string out;
  size_t copied = 0;  // s[copied, i) is kept as it is, not yet in out
  size_t i = 0;
  while (i < s.size()) {
    unsigned c = static_cast<unsigned char>(s[i]);
    size_t len = c >= 0x20 && c < 0x7F ? 1 : Utf8SequenceAt(s, i);
    bool c1 = c == 0xC2 && len == 2 && static_cast<unsigned char>(s[i + 1]) < 0xA0;  // U+0080..U+009F
    bool control = c < 0x20 ? c != '\t' : c == 0x7F || c1;
    if (len != 0 && !control) {
      i += len;
      continue;
    }
    if (out.empty()) out.reserve(s.size() + 16);
    out.append(s.substr(copied, i - copied));
    for (size_t k = 0; k < std::max<size_t>(len, 1); ++k) {
      constexpr char kHex[] = "0123456789abcdef";
      unsigned b = static_cast<unsigned char>(s[i + k]);
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0xFu];
    }
    i += std::max<size_t>(len, 1);
    copied = i;
  }
  if (copied == 0) return std::string(s);
  out.append(s.substr(copied));
  return out;
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
