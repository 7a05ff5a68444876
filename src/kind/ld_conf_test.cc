#include "kind/ld_conf.h"

#include <gtest/gtest.h>

#include "support/fake_host.h"

namespace kmps::kind {
namespace {

TEST(LdConf, ParsesDirectoriesIncludesAndComments) {
  auto lines = ParseLdSoConf(
      "# comment\n"
      "include ld.so.conf.d/*.conf\n"
      "\n"
      "  /usr/local/nvidia/lib64   # trailing comment\n"
      "hwcap 0 nosegneg\n"
      "/opt/legacy=libc6\n"
      "relative/dir\n"
      "include\t/etc/a.conf /etc/b.conf\n"
      "includes/is/not/a/keyword\n",
      "/etc/ld.so.conf");
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_TRUE(lines[0].include);
  EXPECT_EQ(lines[0].value, "/etc/ld.so.conf.d/*.conf");
  EXPECT_FALSE(lines[1].include);
  EXPECT_EQ(lines[1].value, "/usr/local/nvidia/lib64");
  EXPECT_EQ(lines[2].value, "/opt/legacy");
  EXPECT_EQ(lines[3].value, "/etc/a.conf");
  EXPECT_EQ(lines[4].value, "/etc/b.conf");
}

TEST(LdConf, FollowsIncludeGlobsInsideTheRoot) {
  testing::TempDir dir("kmps-ldconf");
  testing::FakeHost h(dir.path());
  ASSERT_TRUE(h.WriteFile("/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n/usr/extra\n").ok());
  ASSERT_TRUE(h.WriteFile("/etc/ld.so.conf.d/b.conf", "/b\ninclude ../ld.so.conf\n").ok());
  ASSERT_TRUE(h.WriteFile("/etc/ld.so.conf.d/a.conf", "/a\n/b\n").ok());
  ASSERT_TRUE(h.WriteFile("/etc/ld.so.conf.d/ignored.txt", "/nope\n").ok());
  LdConfDirs dirs = ReadLdSoConfDirs(dir.path());
  EXPECT_EQ(dirs.dirs, (std::vector<std::string>{"/a", "/b", "/usr/extra"}));
}

TEST(LdConf, MissingConfIsEmpty) {
  testing::TempDir dir("kmps-ldconf");
  EXPECT_TRUE(ReadLdSoConfDirs(dir.path()).dirs.empty());
}

}  // namespace
}  // namespace kmps::kind
