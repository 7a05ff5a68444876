// Small text helpers for messages.
#pragma once

#include <string>
#include <string_view>
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

}  // namespace kmps
