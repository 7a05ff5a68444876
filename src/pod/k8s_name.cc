#include "pod/k8s_name.h"

#include <fmt/core.h>

namespace kmps::pod {
namespace {

constexpr size_t kMaxLabel = 63;

bool LowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

Status ValidateDns1123Label(std::string_view name, std::string_view what) {
  auto bad = [&](const std::string& rule) {
    return InvalidArgument(fmt::format("{} \"{}\" is not a valid Kubernetes name (DNS-1123 label): {}", what, name, rule));
  };
  if (name.empty()) return InvalidArgument(fmt::format("{} is empty; give a name such as demo", what));
  if (name.size() > kMaxLabel) {
    return bad(fmt::format("it has {} characters, at most {} are allowed", name.size(), kMaxLabel));
  }
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (!LowerAlnum(c) && c != '-') {
      std::string shown = (c >= 'A' && c <= 'Z')  ? fmt::format("uppercase '{}'", c)
                          : (c > ' ' && c < 127) ? fmt::format("'{}'", c)
                                                 : fmt::format("byte 0x{:02x}", static_cast<unsigned char>(c));
      return bad(fmt::format("{} at position {}; only lowercase letters, digits and '-' are allowed", shown, i + 1));
    }
  }
  if (!LowerAlnum(name.front())) return bad("it must start with a lowercase letter or digit");
  if (!LowerAlnum(name.back())) return bad("it must end with a lowercase letter or digit");
  return Status::Ok();
}

}  // namespace kmps::pod
