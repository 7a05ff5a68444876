#include "cluster/shm.h"

#include <gtest/gtest.h>


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

}  // namespace
}  // namespace kmps::cluster
