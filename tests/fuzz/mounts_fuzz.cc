// The mount tables a node or the host reports, any text: /proc/self/mountinfo
// (kind/mountinfo.h, for a propagated bind mount's source) and /proc/mounts (cluster/shm.h, the
// size of a node's /dev/shm).
#include <string>

#include "cluster/shm.h"
#include "fuzz_support.h"
#include "kind/mountinfo.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = kmps::fuzz::Bytes(data, size);
  auto mounts = kmps::kind::ParseMountInfo(text);
  KMPS_FUZZ_CHECK(mounts.size() <= size / 12 + 1);  // a well-formed line is at least 12 bytes
  for (const auto& m : mounts) {
    KMPS_FUZZ_CHECK(m.mount_point.size() < size);
    (void)m.shared();
    (void)m.slave();
  }
  // The mount holding each mount point (the first's, a child of it) is one with a prefix of it.
  for (size_t i = 0; i < mounts.size() && i < 8; ++i) {
    const std::string& p = mounts[i].mount_point;
    for (const std::string& path : {p, p + "/x"}) {
      const kmps::kind::MountInfo* holder = kmps::kind::MountHolding(mounts, path);
      if (holder != nullptr) KMPS_FUZZ_CHECK(path.starts_with(holder->mount_point) || holder->mount_point == "/");
    }
  }
  (void)kmps::kind::MountHolding(mounts, "/");
  (void)kmps::cluster::ParseShmBytes(text);
  return 0;
}
