#include "kind/root_fs.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include "support/fake_host.h"

namespace kmps::kind {
namespace {

TEST(RootFs, HostAndInsidePaths) {
  EXPECT_EQ(HostPath("/", "/usr/lib"), "/usr/lib");
  EXPECT_EQ(HostPath("/run/drv/", "/usr//lib/"), "/run/drv/usr/lib");
  EXPECT_EQ(HostPath("/run/drv", "/"), "/run/drv");
  EXPECT_EQ(InsidePath("/run/drv", "/run/drv/etc/cdi/x.yaml"), "/etc/cdi/x.yaml");
  EXPECT_EQ(InsidePath("/run/drv", "/run/driver/x"), "/run/driver/x");
  EXPECT_EQ(InsidePath("/", "/etc/x"), "/etc/x");
  EXPECT_EQ(NormalizePath("/a/./b/../c/"), "/a/c");
  EXPECT_EQ(NormalizePath("/../.."), "/");
  EXPECT_EQ(NormalizePath("//usr///lib/"), "/usr/lib");
  EXPECT_EQ(NormalizePath("usr/lib"), "/usr/lib");  // from the root
  EXPECT_EQ(NormalizePath(""), "/");
  EXPECT_EQ(NormalizePath("/a/b/.."), "/a");
}

TEST(RootFs, Components) {
  EXPECT_TRUE(HasComponent("/usr/local/cuda/lib64/stubs/libcuda.so", "stubs"));
  EXPECT_FALSE(HasComponent("/usr/local/stubsy/libcuda.so", "stubs"));
  EXPECT_TRUE(HasComponent("/usr/local/cuda-13.0/compat/libcuda.so.1", "compat"));
}

TEST(RootFs, AbsoluteLinksResolveUnderTheRoot) {
  testing::TempDir dir("kmps-rootfs");
  testing::FakeHost h(dir.path());
  ASSERT_TRUE(h.WriteFile("/opt/real/libx.so.1.2", "x").ok());
  ASSERT_TRUE(h.Symlink("/usr/lib/libx.so.1", "/opt/real/libx.so.1.2").ok());
  ASSERT_TRUE(h.Symlink("/lib", "usr/lib").ok());
  auto r = ResolveInRoot(dir.path(), "/lib/libx.so.1");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->inside, "/opt/real/libx.so.1.2");
  EXPECT_EQ(r->host, dir.path() + "/opt/real/libx.so.1.2");
}

TEST(RootFs, DotDotStaysInsideTheRoot) {
  testing::TempDir dir("kmps-rootfs");
  testing::FakeHost h(dir.path());
  ASSERT_TRUE(h.WriteFile("/etc/passwd", "inside").ok());
  ASSERT_TRUE(h.Symlink("/a/escape", "../../../../etc/passwd").ok());
  auto r = ResolveInRoot(dir.path(), "/a/escape");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->host, dir.path() + "/etc/passwd");
}

TEST(RootFs, DanglingLinkIsNamed) {
  testing::TempDir dir("kmps-rootfs");
  testing::FakeHost h(dir.path());
  ASSERT_TRUE(h.Symlink("/lib/libcuda.so.1", "libcuda.so.580.1").ok());
  auto r = ResolveInRoot(dir.path(), "/lib/libcuda.so.1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_NE(r.status().message().find(dir.path() + "/lib/libcuda.so.1 is a dangling symlink to libcuda.so.580.1"),
            std::string::npos) << r.status().message();
}

TEST(RootFs, MissingPathBehindAGoodLinkIsNotCalledDangling) {
  testing::TempDir dir("kmps-rootfs");
  testing::FakeHost h(dir.path());
  ASSERT_TRUE(h.MakeDirs("/real").ok());
  ASSERT_TRUE(h.Symlink("/lib", "/real").ok());
  auto r = ResolveInRoot(dir.path(), "/lib/nothing");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("dangling"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("does not exist"), std::string::npos);
}

TEST(RootFs, LoopsFail) {
  testing::TempDir dir("kmps-rootfs");
  testing::FakeHost h(dir.path());
  ASSERT_TRUE(h.Symlink("/a", "b").ok());
  ASSERT_TRUE(h.Symlink("/b", "a").ok());
  auto r = ResolveInRoot(dir.path(), "/a");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("too many levels"), std::string::npos);
}

}  // namespace
}  // namespace kmps::kind
