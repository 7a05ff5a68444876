#include "cluster/shm.h"

#include <gtest/gtest.h>

#include "support/fake_node.h"

namespace kmps::cluster {
namespace {

constexpr const char* kMounts =
    "overlay / overlay rw,relatime,lowerdir=/x 0 0\n"
    "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
    "shm /dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k 0 0\n"
    "tmpfs /tmp tmpfs rw,nosuid,nodev 0 0\n";

TEST(ParseShmBytes, ReadsDockersDefault) { EXPECT_EQ(ParseShmBytes(kMounts), 64ull << 20); }

TEST(ParseShmBytes, TheLastMountWins) {
  std::string m = kMounts;
  m += "shm /dev/shm tmpfs rw,size=8388608k 0 0\n";
  EXPECT_EQ(ParseShmBytes(m), 8ull << 30);
}

TEST(ParseShmBytes, NoneWithoutShm) {
  EXPECT_FALSE(ParseShmBytes("proc /proc proc rw 0 0\n").has_value());
  EXPECT_FALSE(ParseShmBytes("shm /dev/shm tmpfs rw,nosuid 0 0\n").has_value());
}

TEST(EnsureShmSize, RemountsAndVerifies) {
  testing::FakeNode node;
  std::string mounts = kMounts;
  node.handler = [&](const docker::ExecOptions& e) -> StatusOr<docker::ExecResult> {
    if (e.cmd[0] == "mount") {
      EXPECT_EQ(e.cmd, (std::vector<std::string>{"mount", "-o", "remount,size=8589934592", "/dev/shm"}));
      mounts = "shm /dev/shm tmpfs rw,size=8388608k 0 0\n";
      return docker::ExecResult{0, "", ""};
    }
    return docker::ExecResult{0, mounts, ""};
  };
  auto r = EnsureShmSize(node, 8ull << 30);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, 8ull << 30);
}

TEST(EnsureShmSize, LeavesABigEnoughShmAlone) {
  testing::FakeNode node;
  node.handler = [&](const docker::ExecOptions& e) -> StatusOr<docker::ExecResult> {
    EXPECT_EQ(e.cmd[0], "cat");
    return docker::ExecResult{0, "shm /dev/shm tmpfs rw,size=16g 0 0\n", ""};
  };
  auto r = EnsureShmSize(node, 8ull << 30);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(node.commands.size(), 1u);
}

TEST(EnsureShmSize, APermissionFailureSaysWhatIsNeeded) {
  testing::FakeNode node("w-control-plane");
  node.handler = [&](const docker::ExecOptions& e) -> StatusOr<docker::ExecResult> {
    if (e.cmd[0] == "mount") return docker::ExecResult{1, "", "mount: permission denied (are you root?)\n"};
    return docker::ExecResult{0, kMounts, ""};
  };
  auto r = EnsureShmSize(node, 8ull << 30);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("w-control-plane"), std::string::npos);
  EXPECT_NE(r.status().message().find("CAP_SYS_ADMIN"), std::string::npos);
}

}  // namespace
}  // namespace kmps::cluster
