#include "cluster/shm.h"

#include <string>

#include <fmt/core.h>

#include "common/text.h"
#include "kind/cluster_config.h"

namespace kmps::cluster {
namespace {

}  // namespace

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
        auto bytes = kind::ParseSize(std::string(opt.substr(5)));  // /proc/mounts says e.g. 65536k
        found = bytes.ok() ? std::optional<uint64_t>(*bytes) : std::nullopt;
      }
      o = comma + 1;
    }
  });
  return found;
}

StatusOr<uint64_t> ReadShmBytes(Node& node) {
  docker::ExecOptions cat;
  cat.cmd = {"cat", "/proc/mounts"};
  cat.timeout = std::chrono::seconds(20);
  KMPS_ASSIGN_OR_RETURN(docker::ExecResult r, node.Command(cat));
  if (r.exit_code != 0) {
    return Failed(fmt::format("cannot read /proc/mounts in node {} (exit {}): {}", node.name(), r.exit_code,
                              OneLine(r.err)));
  }
  auto bytes = ParseShmBytes(r.out);
  if (!bytes) return Failed(fmt::format("node {} has no sized /dev/shm mount in /proc/mounts", node.name()));
  return *bytes;
}

StatusOr<uint64_t> EnsureShmSize(Node& node, uint64_t bytes) {
  KMPS_ASSIGN_OR_RETURN(uint64_t current, ReadShmBytes(node));
  if (current >= bytes) return current;
  docker::ExecOptions remount;
  remount.cmd = {"mount", "-o", fmt::format("remount,size={}", bytes), "/dev/shm"};
  remount.timeout = std::chrono::seconds(20);
  KMPS_ASSIGN_OR_RETURN(docker::ExecResult r, node.Command(remount));
  if (r.exit_code != 0) {
    return Failed(fmt::format("cannot resize /dev/shm in node {} to {} bytes (exit {}): {} (the node needs "
                              "CAP_SYS_ADMIN)",
                              node.name(), bytes, r.exit_code, OneLine(r.err.empty() ? r.out : r.err)));
  }
  KMPS_ASSIGN_OR_RETURN(uint64_t after, ReadShmBytes(node));
  if (after < bytes) {
    return Failed(fmt::format("/dev/shm in node {} is {} bytes after remount, wanted {}", node.name(), after, bytes));
  }
  return after;
}

}  // namespace kmps::cluster
