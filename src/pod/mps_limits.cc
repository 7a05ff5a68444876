#include "pod/mps_limits.h"

#include <cstdint>
#include <set>
#include <vector>

#include <fmt/core.h>

#include "common/text.h"

namespace kmps::pod {
namespace {

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Digits -> value, false on overflow past `max`.
bool ToUnsigned(std::string_view digits, uint64_t max, uint64_t& out) {
  out = 0;
  for (char c : digits) {
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (out > (max - d) / 10) return false;
    out = out * 10 + d;
  }
  return true;
}

// "512m" -> "512M"; `part` names the part in messages.
StatusOr<std::string> ParseSize(std::string_view size, std::string_view flag, std::string_view part) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument(fmt::format("{} \"{}\": size \"{}\" {}; expected a positive integer with an optional K, "
                                       "M or G suffix, e.g. 512M or 2G",
                                       flag, part, size, why));
  };
  if (size.empty()) return bad("is empty");
  std::string_view digits = size;
  char suffix = 0;
  uint64_t unit = 1;
  switch (size.back()) {
    case 'k': case 'K': suffix = 'K'; unit = 1ull << 10; break;
    case 'm': case 'M': suffix = 'M'; unit = 1ull << 20; break;
    case 'g': case 'G': suffix = 'G'; unit = 1ull << 30; break;
    default: break;
  }
  if (suffix) digits.remove_suffix(1);
  if (!AllDigits(digits)) return bad("is not a number");
  uint64_t value = 0;
  if (!ToUnsigned(digits, UINT64_MAX / unit, value)) return bad("is too large (more than 2^64 bytes)");
  if (value == 0) return bad("is zero");
  std::string out = std::to_string(value);
  if (suffix) out += suffix;
  return out;
}

}  // namespace

StatusOr<std::string> ParseThreadPercentage(std::string_view text, std::string_view flag) {
  uint64_t value = 0;
  if (!AllDigits(text) || !ToUnsigned(text, 1000, value) || value < 1 || value > 100) {
    return InvalidArgument(fmt::format("{} \"{}\": expected an integer from 1 to 100 (the percentage of the GPU's "
                                       "threads a client may use)",
                                       flag, text));
  }
  return std::to_string(value);
}

StatusOr<std::string> ParsePinnedMemLimit(std::string_view text, std::string_view flag) {
  if (text.empty()) {
    return InvalidArgument(fmt::format("{} is empty; expected SIZE or DEV=SIZE[,DEV=SIZE...], e.g. 0=1G,1=512M", flag));
  }
  std::string out;
  std::set<uint64_t> devices;
  for (std::string_view part : Split(text, ',')) {
    if (part.empty()) {
      return InvalidArgument(fmt::format("{} \"{}\": an empty part (two commas, or one at an end); expected "
                                         "DEV=SIZE[,DEV=SIZE...], e.g. 0=1G,1=512M",
                                         flag, text));
    }
    size_t eq = part.find('=');
    std::string_view dev = eq == std::string_view::npos ? std::string_view("0") : part.substr(0, eq);
    std::string_view size = eq == std::string_view::npos ? part : part.substr(eq + 1);
    uint64_t index = 0;
    if (!AllDigits(dev) || !ToUnsigned(dev, INT32_MAX, index)) {
      return InvalidArgument(fmt::format("{} \"{}\": device \"{}\" is not a device index; expected a non-negative "
                                         "integer such as 0 or 1 (as nvidia-smi numbers the GPUs)",
                                         flag, part, dev));
    }
    if (!devices.insert(index).second) {
      return InvalidArgument(fmt::format("{} \"{}\": device {} is given twice; give each device one limit", flag,
                                         text, index));
    }
    KMPS_ASSIGN_OR_RETURN(std::string normal, ParseSize(size, flag, part));
    if (!out.empty()) out += ',';
    out += fmt::format("{}={}", index, normal);
  }
  return out;
}

}  // namespace kmps::pod
