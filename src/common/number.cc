#include "common/number.h"

#include <charconv>
#include <cstdlib>
#include <string>

namespace kmps {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<uint64_t> ParseCount(std::string_view text, uint64_t max) {
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (!IsDigit(c)) return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (max - digit) / 10) return std::nullopt;  // value * 10 + digit > max
    value = value * 10 + digit;
  }
  return value;
}

std::optional<double> ParseDecimal(std::string_view text, double max) {
  if (text.empty() || text.size() > 30) return std::nullopt;
  size_t digits = 0, dots = 0;
  for (char c : text) {
    if (IsDigit(c)) {
      ++digits;
    } else if (c == '.') {
      ++dots;
    } else {
      return std::nullopt;
    }
  }
  if (digits == 0 || dots > 1) return std::nullopt;
  // strtod, not from_chars: GCC 12's libstdc++ has from_chars for double, but the C locale's
  // strtod is as exact and what every libc has; the grammar above leaves it nothing to guess.
  std::string copy(text);
  double value = std::strtod(copy.c_str(), nullptr);
  if (!(value <= max)) return std::nullopt;
  return value;
}

std::optional<double> ParseSeconds(std::string_view text, double max) {
  std::optional<double> s = ParseDecimal(text, max);
  if (!s || !(*s > 0)) return std::nullopt;
  return s;
}

}  // namespace kmps
