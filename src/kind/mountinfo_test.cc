#include "kind/mountinfo.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kmps::kind {
namespace {

using ::testing::ElementsAre;

// A VM's root (private), Docker's data root (shared), a systemd host's /home (shared and a
// slave), a slave-only mount, a path with a space, and /mnt/x mounted twice.
constexpr const char* kMountInfo =
    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
    "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n"
    "46 27 254:0 /var/lib/docker /var/lib/docker rw,relatime shared:2 - ext4 /dev/vda rw\n"
    "50 27 0:40 / /home rw,nosuid shared:7 master:3 - ext4 /dev/sdb1 rw\n"
    "51 27 0:41 / /srv/slave rw master:9 - tmpfs tmpfs rw\n"
    "52 27 0:42 / /srv/with\\040space rw shared:11 - tmpfs tmpfs rw\n"
    "53 27 0:43 / /mnt/x rw - tmpfs tmpfs rw\n"
    "54 53 0:44 / /mnt/x rw shared:12 - tmpfs tmpfs rw\n"
    "garbage line\n"
    "\n";

TEST(ParseMountInfo, MountPointsAndOptionalFields) {
  auto mounts = ParseMountInfo(kMountInfo);
  ASSERT_EQ(mounts.size(), 8u);
  EXPECT_EQ(mounts[1].mount_point, "/");
  EXPECT_TRUE(mounts[1].optional_fields.empty());
  EXPECT_FALSE(mounts[1].shared());
  EXPECT_FALSE(mounts[1].slave());
  EXPECT_THAT(mounts[3].optional_fields, ElementsAre("shared:7", "master:3"));
  EXPECT_TRUE(mounts[3].shared());
  EXPECT_TRUE(mounts[3].slave());
  EXPECT_FALSE(mounts[4].shared());
  EXPECT_TRUE(mounts[4].slave());
  EXPECT_EQ(mounts[5].mount_point, "/srv/with space");
}

TEST(MountHolding, TheLongestParentMountPoint) {
  auto mounts = ParseMountInfo(kMountInfo);
  EXPECT_EQ(MountHolding(mounts, "/tmp/kmps")->mount_point, "/");
  EXPECT_EQ(MountHolding(mounts, "/")->mount_point, "/");
  EXPECT_EQ(MountHolding(mounts, "/var/lib/docker")->mount_point, "/var/lib/docker");
  EXPECT_EQ(MountHolding(mounts, "/var/lib/docker/volumes/v")->mount_point, "/var/lib/docker");
  EXPECT_EQ(MountHolding(mounts, "/var/lib/dockerx")->mount_point, "/") << "a parent by components only";
  EXPECT_EQ(MountHolding(mounts, "/srv/with space/f")->mount_point, "/srv/with space");
  // Of two mounts on one point Docker takes the first listed.
  EXPECT_FALSE(MountHolding(mounts, "/mnt/x/y")->shared());
  EXPECT_EQ(MountHolding({}, "/a"), nullptr);
  EXPECT_EQ(MountHolding(ParseMountInfo("1 0 0:1 / /data rw - tmpfs t rw\n"), "/other"), nullptr);
}

}  // namespace
}  // namespace kmps::kind
