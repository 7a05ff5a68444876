// /dev/shm in a node: kind gives nodes Docker's 64 MiB default; MPS needs more.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kmps::cluster {

// Pure: the size of the /dev/shm mount in /proc/mounts text (the `size=` option, in k/m/g or
// bytes). nullopt when /dev/shm is not mounted or has no size option.
std::optional<uint64_t> ParseShmBytes(std::string_view proc_mounts);

}  // namespace kmps::cluster
