// /dev/shm in a node: kind gives nodes Docker's 64 MiB default; MPS needs more.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "cluster/node.h"
#include "common/status.h"

namespace kmps::cluster {

// Pure: the size of the /dev/shm mount in /proc/mounts text (the `size=` option, in k/m/g or
// bytes). nullopt when /dev/shm is not mounted or has no size option.
std::optional<uint64_t> ParseShmBytes(std::string_view proc_mounts);

// Reads /proc/mounts in the node.
StatusOr<uint64_t> ReadShmBytes(Node& node);

// Remounts /dev/shm with `bytes` (needs CAP_SYS_ADMIN, which kind's nodes have) unless it is
// already at least that big, then verifies the size from /proc/mounts. Returns the size.
StatusOr<uint64_t> EnsureShmSize(Node& node, uint64_t bytes);

}  // namespace kmps::cluster
