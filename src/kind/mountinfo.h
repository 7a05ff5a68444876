// /proc/self/mountinfo, as far as Docker reads it to allow a propagated bind mount: Docker
// refuses `:rshared` (kind's Bidirectional) unless the mount holding the source is shared, and
// `:rslave` (HostToContainer) unless it is shared or a slave. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kmps::kind {

struct MountInfo {
  std::string mount_point;                   // escapes (\040 for a space) decoded
  std::vector<std::string> optional_fields;  // "shared:1", "master:2", "propagate_from:3", "unbindable"
  bool shared() const;                       // a "shared:N" field
  bool slave() const;                        // a "master:N" field
};

// One entry per well-formed line ("ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [FIELD...] - ...");
// other lines are skipped.
std::vector<MountInfo> ParseMountInfo(std::string_view text);

// The mount `path` (absolute, symlinks resolved) lies on: the longest mount point that is `path`
// or a parent directory of it; of equal ones the first listed, as Docker picks. nullptr if none.
const MountInfo* MountHolding(const std::vector<MountInfo>& mounts, std::string_view path);

}  // namespace kmps::kind
