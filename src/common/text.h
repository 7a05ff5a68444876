// Small text helpers for messages.
#pragma once

#include <string>

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

}  // namespace kmps
