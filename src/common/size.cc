#include "common/size.h"

#include <cctype>
#include <limits>
#include <regex>

#include <fmt/core.h>

#include "common/text.h"

namespace kmps {

StatusOr<uint64_t> ParseSize(const std::string& text) {
  // Docker's units (--shm-size): binary multiples, case-insensitive, optional "b"/"ib".
  static const std::regex re("^([0-9]+)(([kmgt])(i|b|ib)?|b)?$", std::regex::icase);
  std::smatch m;
  if (!std::regex_match(text, m, re)) {
    return InvalidArgument(fmt::format("expected a size like 8g, 512m, 64Mi or a byte count, got \"{}\"", text));
  }
  const std::string digits = m[1].str();
  std::optional<uint64_t> parsed = ParseInteger<uint64_t>(digits);
  if (digits.size() > 19 || !parsed) return InvalidArgument(fmt::format("size \"{}\" is too large", text));
  uint64_t value = *parsed;
  char unit = m[3].length() ? static_cast<char>(std::tolower(m[3].str()[0])) : 'b';
  int shift = unit == 'k' ? 10 : unit == 'm' ? 20 : unit == 'g' ? 30 : unit == 't' ? 40 : 0;
  if (value == 0) return InvalidArgument(fmt::format("size \"{}\" is zero", text));
  if (value > (std::numeric_limits<uint64_t>::max() >> shift)) {
    return InvalidArgument(fmt::format("size \"{}\" is too large", text));
  }
  return value << shift;
}


}  // namespace kmps
