// Paths under a root directory (the driver root or the dev root), resolved the way a process
// chrooted there would see them: an absolute symlink target restarts at the root, ".." never
// climbs above it.
#pragma once

#include <string>

#include "common/status.h"

namespace kmps::kind {

// "/" + "/usr/lib" -> "/usr/lib"; "/run/drv" + "/usr/lib" -> "/run/drv/usr/lib".
// `inside` must be absolute (a relative one is taken from the root).
std::string HostPath(const std::string& root, const std::string& inside);

// The part of `host_path` under `root` ("/run/drv/etc/x" -> "/etc/x"), or `host_path` itself
// when it is not under the root.
std::string InsidePath(const std::string& root, const std::string& host_path);

// Lexically normalises an absolute path: no "//", ".", ".."; no trailing '/'.
std::string NormalizePath(const std::string& path);

struct ResolvedPath {
  std::string inside;  // absolute path under the root, every symlink followed
  std::string host;    // HostPath(root, inside)
};

// Follows every symlink of `inside` within `root`. kNotFound "X is a dangling symlink to Y"
// when a link's target does not exist, "X does not exist" when the path itself is missing;
// kFailed for a symlink loop.
StatusOr<ResolvedPath> ResolveInRoot(const std::string& root, const std::string& inside);

// True when one of the path's components is `component` ("stubs", "compat").
bool HasComponent(const std::string& path, const std::string& component);

}  // namespace kmps::kind
