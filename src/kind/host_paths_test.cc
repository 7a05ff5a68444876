#include "kind/host_paths.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "support/fake_host.h"

namespace kmps::kind {
namespace {

using ::testing::HasSubstr;

TEST(CheckHostPathsExist, NamesTheMissingPath) {
  EXPECT_TRUE(CheckHostPathsExist({{"/tmp", "/x", false, ""}}).ok());
  Status s = CheckHostPathsExist({{"/nonexistent/kmps", "/x", false, ""}});
  EXPECT_EQ(s.message(),
            "extraMounts: hostPath /nonexistent/kmps does not exist: create it, or fix extraMounts in kindmps.yaml");
}

TEST(CheckHostPathsExist, AnotherReasonIsNamedNotCalledMissing) {
  testing::TempDir dir("kmps-hostpaths");
  testing::FakeHost h(dir.path());
  ASSERT_TRUE(h.WriteFile("/file", "x").ok());
  Status s = CheckHostPathsExist({{h.Path("/file/below"), "/x", false, ""}});  // ENOTDIR, as EACCES would be
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "extraMounts: hostPath " + h.Path("/file/below") + " " + std::strerror(ENOTDIR) +
                             ": create it, or fix extraMounts in kindmps.yaml");
}

TEST(MountTableIsTheDaemons, OnlyForALocalSocket) {
  EXPECT_TRUE(MountTableIsTheDaemons(nullptr));
  EXPECT_TRUE(MountTableIsTheDaemons(""));
  EXPECT_TRUE(MountTableIsTheDaemons("unix:///var/run/docker.sock"));
  EXPECT_FALSE(MountTableIsTheDaemons("tcp://10.0.0.2:2375"));
  EXPECT_FALSE(MountTableIsTheDaemons("ssh://user@host"));
}

TEST(CheckDriverFiles, AMissingFileOrALeftoverDirectoryIsAnEnvironmentError) {
  testing::TempDir dir("kmps-driverfiles");
  testing::FakeHost h(dir.path());
  ASSERT_TRUE(h.WriteFile("/libcuda.so.580.1", "elf").ok());
  ASSERT_TRUE(h.Symlink("/libcuda.so.1", "libcuda.so.580.1").ok());
  ASSERT_TRUE(h.MakeDirs("/libnvidia-ml.so.580.1").ok());  // what Docker made of a missing source
  const std::string lib = "/usr/lib/x86_64-linux-gnu/libcuda.so.1";
  EXPECT_TRUE(CheckDriverFiles({{h.Path("/libcuda.so.580.1"), lib, true, ""}, {h.Path("/libcuda.so.1"), lib, true, ""}})
                  .ok());

  Status missing = CheckDriverFiles({{h.Path("/libcuda.so.999"), lib, true, ""}});
  EXPECT_EQ(missing.code(), Code::kEnvironment);
  EXPECT_EQ(missing.message(), "driver file " + h.Path("/libcuda.so.999") + " (for " + lib +
                                   " in the nodes) does not exist: reinstall the NVIDIA driver, or see kindmps-api "
                                   "inspect");

  Status directory =
      CheckDriverFiles({{h.Path("/libnvidia-ml.so.580.1"), "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1", true, ""}});
  EXPECT_EQ(directory.code(), Code::kEnvironment);
  EXPECT_EQ(directory.message(), "driver file " + h.Path("/libnvidia-ml.so.580.1") +
                                     " (for /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1 in the nodes) is a directory, "
                                     "not a file (as Docker leaves where a mount source was missing): remove the "
                                     "directory and reinstall the NVIDIA driver");
}

class CheckPropagationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(host_.MakeDirs("/private/d").ok());
    ASSERT_TRUE(host_.MakeDirs("/shared/d").ok());
    ASSERT_TRUE(host_.MakeDirs("/slave/d").ok());
    ASSERT_TRUE(host_.Symlink("/private/to-shared", "../shared/d").ok());
    // The temporary directory lies on a private root; two mounts below it.
    mountinfo_ = "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
                 "60 27 0:50 / " + host_.Path("/shared") + " rw shared:4 - tmpfs tmpfs rw\n"
                 "61 27 0:51 / " + host_.Path("/slave") + " rw master:5 - tmpfs tmpfs rw\n";
  }
  Status Check(const std::string& inside, const std::string& propagation) {
    return CheckPropagation({{host_.Path(inside), "/mnt", false, propagation}}, mountinfo_);
  }
  testing::TempDir dir_{"kmps-propagation"};
  testing::FakeHost host_{dir_.path()};
  std::string mountinfo_;
};

TEST_F(CheckPropagationTest, APrivateMountRefusesHostToContainer) {
  Status s = Check("/private/d", "HostToContainer");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "extraMounts: hostPath " + host_.Path("/private/d") +
                             " has propagation HostToContainer, but the mount holding it, /, is private, so Docker "
                             "would refuse it: run mount --make-rshared /, or set propagation: None");
  EXPECT_TRUE(Check("/private/d", "None").ok());
  EXPECT_TRUE(Check("/private/d", "").ok());
}

TEST_F(CheckPropagationTest, BidirectionalNeedsSharedHostToContainerASlaveWillDo) {
  EXPECT_TRUE(Check("/shared/d", "Bidirectional").ok());
  EXPECT_TRUE(Check("/shared/d", "HostToContainer").ok());
  EXPECT_TRUE(Check("/slave/d", "HostToContainer").ok());
  Status s = Check("/slave/d", "Bidirectional");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("the mount holding it, " + host_.Path("/slave") + ", is a slave mount, not "
                                     "shared, so Docker would refuse it: run mount --make-rshared " +
                                     host_.Path("/slave") + ", or set propagation: None"));
}

TEST_F(CheckPropagationTest, SymlinksAreResolvedAsDockerDoes) {
  EXPECT_TRUE(Check("/private/to-shared", "Bidirectional").ok());
}

TEST(CheckKindConfigHostPaths, DriverFilesFirstThenTheUsersMounts) {
  testing::TempDir dir("kmps-kindpaths");
  testing::FakeHost h(dir.path());
  ASSERT_TRUE(h.WriteFile("/mps-control", "#!/bin/sh\n", 0755).ok());
  HostInventory inv;
  inv.binaries = {{"nvidia-cuda-mps-control", h.Path("/mps-control"), h.Path("/mps-control"), true}};
  config::ClusterConfig config = config::DefaultClusterConfig();
  EXPECT_TRUE(CheckKindConfigHostPaths(config, inv).ok());
  config.extra_mounts = {{h.Path("/nope"), "/data", true, ""}};
  EXPECT_EQ(CheckKindConfigHostPaths(config, inv).code(), Code::kInvalidArgument);
  inv.binaries[0].real_path = h.Path("/gone");
  EXPECT_EQ(CheckKindConfigHostPaths(config, inv).code(), Code::kEnvironment);
}

}  // namespace
}  // namespace kmps::kind
