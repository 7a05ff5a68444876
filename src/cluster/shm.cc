#include "cluster/shm.h"

#include <string>

#include "common/size.h"
#include "common/text.h"

namespace kmps::cluster {

std::optional<uint64_t> ParseShmBytes(std::string_view mounts) {
  std::optional<uint64_t> found;
  ForEachLine(mounts, [&](std::string_view line) {
    // device mountpoint fstype options dump pass
    size_t a = line.find(' ');
    if (a == std::string_view::npos) return;
    size_t b = line.find(' ', a + 1);
    if (b == std::string_view::npos || line.substr(a + 1, b - a - 1) != "/dev/shm") return;
    size_t c = line.find(' ', b + 1);
    if (c == std::string_view::npos) return;
    size_t d = line.find(' ', c + 1);
    std::string_view options = line.substr(c + 1, d == std::string_view::npos ? std::string_view::npos : d - c - 1);
    found.reset();  // the last mount on /dev/shm is the visible one
    size_t o = 0;
    while (o <= options.size()) {
      size_t comma = options.find(',', o);
      if (comma == std::string_view::npos) comma = options.size();
      std::string_view opt = options.substr(o, comma - o);
      if (opt.substr(0, 5) == "size=") {
        auto bytes = ParseSize(std::string(opt.substr(5)));  // /proc/mounts says e.g. 65536k
        found = bytes.ok() ? std::optional<uint64_t>(*bytes) : std::nullopt;
      }
      o = comma + 1;
    }
  });
  return found;
}

}  // namespace kmps::cluster
