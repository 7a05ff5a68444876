#include "kind/gpu_inventory.h"

#include <chrono>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kind/host_inspect.h"
#include "support/fake_host.h"

namespace kmps::kind {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

// As nv_procfs_read_gpu_info prints it (tabs included), driver 580 on an H200.
std::string Information(const std::string& uuid, const std::string& bus, int minor) {
  return "Model: \t\t NVIDIA H200\n"
         "IRQ:   \t\t 455\n"
         "GPU UUID: \t " + uuid + "\n"
         "Video BIOS: \t 96.00.a5.00.01\n"
         "Bus Type: \t PCIe\n"
         "DMA Size: \t 52 bits\n"
         "DMA Mask: \t 0xfffffffffffff\n"
         "Bus Location: \t " + bus + "\n"
         "Device Minor: \t " + std::to_string(minor) + "\n"
         "GPU Firmware: \t 580.159.04\n"
         "GPU Excluded:\t No\n";
}

const std::string kUuid0 = "GPU-5d0f6ac4-8e3e-2a4c-1b7f-9c0d2e4f6a81";
const std::string kUuid1 = "GPU-a13b7c2d-44e5-f6a7-0b8c-9d1e2f3a4b5c";
const std::string kUuid2 = "GPU-0c9e8d7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f";

TEST(ParseGpuInformation, ReadsTheDriversLines) {
  auto gpu = ParseGpuInformation(Information(kUuid0, "0000:19:00.0", 3));
  ASSERT_TRUE(gpu.ok()) << gpu.status().message();
  EXPECT_EQ(gpu->minor, 3);
  EXPECT_EQ(gpu->uuid, kUuid0);
  EXPECT_EQ(gpu->model, "NVIDIA H200");
  EXPECT_EQ(gpu->bus_id, "0000:19:00.0");
  EXPECT_EQ(gpu->mig, MigMode::kUnknown);
  EXPECT_EQ(gpu->device_path, "");
}

TEST(ParseGpuInformation, UuidMayBeMissingButNotTheMinor) {
  // rm_get_gpu_uuid can fail: the driver then prints no UUID line.
  auto gpu = ParseGpuInformation("Model: \t\t NVIDIA H200\nBus Location: \t 0000:3B:00.0\nDevice Minor: \t 1\n");
  ASSERT_TRUE(gpu.ok());
  EXPECT_EQ(gpu->uuid, "");
  EXPECT_EQ(gpu->bus_id, "0000:3b:00.0");
  auto none = ParseGpuInformation("Model: \t\t NVIDIA H200\nGPU UUID: \t " + kUuid0 + "\n");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(none.status().message(), HasSubstr("Device Minor"));
  auto bad = ParseGpuInformation("Device Minor: \t x1\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("x1"));
  EXPECT_FALSE(ParseGpuInformation("Device Minor: \t -1\n").ok());
  EXPECT_FALSE(ParseGpuInformation("").ok());
}

TEST(NormalizeBusId, NvmlAndProcfsFormsMeet) {
  EXPECT_EQ(NormalizeBusId("00000000:19:00.0"), "0000:19:00.0");
  EXPECT_EQ(NormalizeBusId("00000000:3B:00.0"), "0000:3b:00.0");
  EXPECT_EQ(NormalizeBusId("0000:3b:00.0"), "0000:3b:00.0");
  EXPECT_EQ(NormalizeBusId(" 00010000:01:00.0 "), "00010000:01:00.0") << "a real 32-bit domain stays";
}

TEST(MigFromCapabilityEntries, OnlyAGpuInstanceProvesMig) {
  EXPECT_EQ(MigFromCapabilityEntries({}), MigMode::kUnknown);
  EXPECT_EQ(MigFromCapabilityEntries({"config", "monitor"}), MigMode::kUnknown);
  EXPECT_EQ(MigFromCapabilityEntries({"config", "gi1", "gi2", "monitor"}), MigMode::kEnabled);
  EXPECT_EQ(MigFromCapabilityEntries({"gi", "gix", "ginger"}), MigMode::kUnknown);
}

TEST(ParseNvidiaSmiGpus, ReadsTheQueryLinesAndSkipsOthers) {
  auto gpus = ParseNvidiaSmiGpus(
      "0, " + kUuid1 + ", Disabled, 00000000:19:00.0\n"
      "Failed to initialize NVML: some noise on stderr\n"
      "1, " + kUuid0 + ", Enabled, 00000000:3B:00.0\n"
      "2, " + kUuid2 + ", [N/A], 00000000:5D:00.0\n"
      "3, GPU-x, [Unknown Error], 00000000:5E:00.0\n");
  ASSERT_TRUE(gpus.ok()) << gpus.status().message();
  ASSERT_EQ(gpus->size(), 4u);
  EXPECT_EQ((*gpus)[0].index, 0);
  EXPECT_EQ((*gpus)[0].uuid, kUuid1);
  EXPECT_EQ((*gpus)[0].mig, MigMode::kDisabled);
  EXPECT_EQ((*gpus)[0].bus_id, "0000:19:00.0");
  EXPECT_EQ((*gpus)[1].mig, MigMode::kEnabled);
  EXPECT_EQ((*gpus)[1].bus_id, "0000:3b:00.0");
  EXPECT_EQ((*gpus)[2].mig, MigMode::kDisabled) << "[N/A]: no MIG support, a whole GPU";
  EXPECT_EQ((*gpus)[3].mig, MigMode::kUnknown);
  auto none = ParseNvidiaSmiGpus("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n");
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr("couldn't communicate"));
}

class GpuInventoryTest : public ::testing::Test {
 protected:
  void AddGpu(const std::string& bus, const std::string& uuid, int minor, bool node = true) {
    ASSERT_TRUE(host_.WriteFile("/proc/driver/nvidia/gpus/" + bus + "/information", Information(uuid, bus, minor)).ok());
    ASSERT_TRUE(host_.MakeDirs("/proc/driver/nvidia/capabilities/gpu" + std::to_string(minor) + "/mig").ok());
    if (node) AddNode("nvidia" + std::to_string(minor));
  }
  // A regular file stands for the node: the inventory asks only whether it is there (the device
  // check of InspectHost is what wants a character device).
  void AddNode(const std::string& name) { ASSERT_TRUE(host_.WriteFile("/dev/" + name, "").ok()); }
  void AddGpuInstance(int minor, int gi) {
    std::string dir = "/proc/driver/nvidia/capabilities/gpu" + std::to_string(minor) + "/mig/gi" + std::to_string(gi);
    ASSERT_TRUE(host_.WriteFile(dir + "/access", "DeviceFileMinor: 12\nDeviceFileMode: 292\nDeviceFileModify: 1\n").ok());
  }
  GpuInventoryOptions Options() const {
    GpuInventoryOptions o;
    o.proc_root = dir_.path();
    o.dev_root = dir_.path();
    return o;
  }

  testing::TempDir dir_{"kmps-gpus"};
  testing::FakeHost host_{dir_.path()};
};

TEST_F(GpuInventoryTest, ListsEveryGpuSortedByMinorWithMigAndMissingNodes) {
  // Bus order is not minor order here, as on hosts where nvidia-smi's index != the minor.
  AddGpu("0000:19:00.0", kUuid0, 2);
  AddGpu("0000:3b:00.0", kUuid1, 0);
  AddGpu("0000:5d:00.0", kUuid2, 1, /*node=*/false);
  AddGpuInstance(2, 1);
  AddNode("nvidiactl");
  AddNode("nvidia-uvm");
  GpuInventory inv = ReadGpuInventory(Options());
  // GPU 1 has no device node here: left out, with a note (not a missing item: exit 3 would stop
  // hosts whose nodes are made on first use, or a dev root with fewer GPUs than this procfs).
  ASSERT_EQ(inv.gpus.size(), 2u);
  const std::string dev = dir_.path() + "/dev/nvidia";
  EXPECT_EQ(inv.gpus[0].minor, 0);
  EXPECT_EQ(inv.gpus[0].uuid, kUuid1);
  EXPECT_EQ(inv.gpus[0].bus_id, "0000:3b:00.0");
  EXPECT_EQ(inv.gpus[0].device_path, dev + "0");
  EXPECT_EQ(inv.gpus[0].model, "NVIDIA H200");
  EXPECT_EQ(inv.gpus[0].mig, MigMode::kUnknown) << "no gi entry and no nvidia-smi: procfs cannot say";
  EXPECT_EQ(inv.gpus[1].minor, 2);
  EXPECT_EQ(inv.gpus[1].uuid, kUuid0);
  EXPECT_EQ(inv.gpus[1].mig, MigMode::kEnabled);
  EXPECT_THAT(inv.missing, IsEmpty());
  ASSERT_EQ(inv.warnings.size(), 1u);
  EXPECT_EQ(inv.warnings[0], "GPU 1 (" + kUuid2 + ", 0000:5d:00.0): the driver lists it, but " + dev +
                                 "1 does not exist; left out");
}

TEST_F(GpuInventoryTest, WithoutProcfsTheDeviceNodesAreTheGpusAndAWarningSaysUuidsAreUnknown) {
  AddNode("nvidia1");
  AddNode("nvidia0");
  AddNode("nvidia10");
  AddNode("nvidiactl");
  AddNode("nvidia-uvm-tools");
  GpuInventory inv = ReadGpuInventory(Options());
  ASSERT_EQ(inv.gpus.size(), 3u);
  EXPECT_EQ(inv.gpus[0].minor, 0);
  EXPECT_EQ(inv.gpus[1].minor, 1);
  EXPECT_EQ(inv.gpus[2].minor, 10);
  EXPECT_EQ(inv.gpus[2].device_path, dir_.path() + "/dev/nvidia10");
  for (const auto& g : inv.gpus) {
    EXPECT_EQ(g.uuid, "");
    EXPECT_EQ(g.mig, MigMode::kUnknown);
  }
  EXPECT_THAT(inv.missing, IsEmpty());
  ASSERT_EQ(inv.warnings.size(), 1u);
  EXPECT_THAT(inv.warnings[0], HasSubstr("GPU UUIDs unknown: " + dir_.path() + "/proc/driver/nvidia/gpus does not exist"));
}

TEST_F(GpuInventoryTest, NothingAtAllIsNoGpuAndNoNote) {
  GpuInventory inv = ReadGpuInventory(Options());
  EXPECT_THAT(inv.gpus, IsEmpty());
  EXPECT_THAT(inv.missing, IsEmpty());
  EXPECT_THAT(inv.warnings, IsEmpty()) << "InspectHost already says no GPU device node";
}

TEST_F(GpuInventoryTest, UnreadableInformationAndStrayNodesAreWarnings) {
  AddGpu("0000:19:00.0", kUuid0, 0);
  ASSERT_TRUE(host_.WriteFile("/proc/driver/nvidia/gpus/0000:3b:00.0/information", "Model: \t\t NVIDIA H200\n").ok());
  AddNode("nvidia7");
  GpuInventory inv = ReadGpuInventory(Options());
  ASSERT_EQ(inv.gpus.size(), 2u);
  EXPECT_EQ(inv.gpus[0].uuid, kUuid0);
  EXPECT_EQ(inv.gpus[1].minor, 7);
  EXPECT_EQ(inv.gpus[1].uuid, "");
  ASSERT_EQ(inv.warnings.size(), 2u);
  EXPECT_THAT(inv.warnings[0], HasSubstr("GPU 0000:3b:00.0: "));
  EXPECT_THAT(inv.warnings[0], HasSubstr("no \"Device Minor:\" line; GPU left out"));
  EXPECT_THAT(inv.warnings[1], HasSubstr("/dev/nvidia7: no GPU of "));
}

TEST_F(GpuInventoryTest, NvidiaSmiSettlesWhatProcfsCannot) {
  AddGpu("0000:19:00.0", kUuid0, 0);
  AddGpu("0000:3b:00.0", kUuid1, 1);
  AddGpu("0000:5d:00.0", kUuid2, 2);
  AddGpuInstance(2, 3);
  // nvidia-smi's index 0 is minor 1 here; it says GPU kUuid0 is MIG-enabled without an instance.
  ASSERT_TRUE(host_.WriteFile("/usr/bin/nvidia-smi",
                              "#!/bin/sh\n[ \"$1 $2\" = '--query-gpu=index,uuid,mig.mode.current,pci.bus_id "
                              "--format=csv,noheader' ] || exit 9\n"
                              "echo '0, " + kUuid1 + ", Disabled, 00000000:3B:00.0'\n"
                              "echo '1, " + kUuid0 + ", Enabled, 00000000:19:00.0'\n"
                              "echo '2, " + kUuid2 + ", Disabled, 00000000:5D:00.0'\n",
                              0755).ok());
  GpuInventoryOptions o = Options();
  o.nvidia_smi = dir_.path() + "/usr/bin/nvidia-smi";
  GpuInventory inv = ReadGpuInventory(o);
  ASSERT_EQ(inv.gpus.size(), 3u);
  EXPECT_EQ(inv.gpus[0].mig, MigMode::kEnabled);
  EXPECT_EQ(inv.gpus[1].mig, MigMode::kDisabled);
  EXPECT_EQ(inv.gpus[2].mig, MigMode::kEnabled) << "procfs's gi entry stands";
  EXPECT_THAT(inv.warnings, IsEmpty());
}

TEST_F(GpuInventoryTest, NvidiaSmiFailingOrHangingLeavesMigUnknownWithANote) {
  AddGpu("0000:19:00.0", kUuid0, 0);
  ASSERT_TRUE(host_.WriteFile("/bin/smi-fails",
                              "#!/bin/sh\necho 'NVIDIA-SMI has failed because it couldn'\"'\"'t communicate with the "
                              "NVIDIA driver.'\nexit 9\n",
                              0755).ok());
  ASSERT_TRUE(host_.WriteFile("/bin/smi-hangs", "#!/bin/sh\nexec sleep 30\n", 0755).ok());
  GpuInventoryOptions o = Options();
  o.nvidia_smi = dir_.path() + "/bin/smi-fails";
  GpuInventory inv = ReadGpuInventory(o);
  ASSERT_EQ(inv.gpus.size(), 1u);
  EXPECT_EQ(inv.gpus[0].mig, MigMode::kUnknown);
  ASSERT_EQ(inv.warnings.size(), 1u);
  EXPECT_THAT(inv.warnings[0], HasSubstr("exit status 9: NVIDIA-SMI has failed"));
  EXPECT_THAT(inv.warnings[0], HasSubstr("MIG state left unknown"));

  o.nvidia_smi = dir_.path() + "/bin/smi-hangs";
  o.nvidia_smi_timeout = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  inv = ReadGpuInventory(o);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15));
  EXPECT_EQ(inv.gpus[0].mig, MigMode::kUnknown);
  ASSERT_EQ(inv.warnings.size(), 1u);
  EXPECT_THAT(inv.warnings[0], HasSubstr("MIG state left unknown"));
}

TEST(RefuseMig, OneLineNamingTheGpuAndHowToTurnMigOff) {
  HostGpu whole{0, kUuid1, "NVIDIA H200", "0000:3b:00.0", "/dev/nvidia0", MigMode::kDisabled};
  HostGpu unknown{1, kUuid2, "NVIDIA H200", "0000:5d:00.0", "/dev/nvidia1", MigMode::kUnknown};
  HostGpu mig{2, kUuid0, "NVIDIA H200", "0000:19:00.0", "/dev/nvidia2", MigMode::kEnabled};
  EXPECT_TRUE(RefuseMig(std::vector<HostGpu>{whole, unknown}).ok());
  EXPECT_TRUE(RefuseMig(std::vector<HostGpu>{}).ok());
  Status s = RefuseMig(std::vector<HostGpu>{whole, mig, unknown});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "GPU 2 (" + kUuid0 + ", 0000:19:00.0) has MIG enabled: kindmps-api runs MPS on whole "
                         "GPUs only (nvidia-smi -i " + kUuid0 + " -mig 0 turns MIG off)");
  HostGpu mig2 = whole;
  mig2.mig = MigMode::kEnabled;
  HostInventory inv;
  inv.gpus = {mig2, mig};
  s = RefuseMig(inv);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().find('\n'), std::string::npos);
  EXPECT_EQ(s.message(), "GPUs 0 (" + kUuid1 + ", 0000:3b:00.0) and 2 (" + kUuid0 +
                             ", 0000:19:00.0) have MIG enabled: kindmps-api runs MPS on whole GPUs only "
                             "(nvidia-smi -i " + kUuid1 + " -mig 0; nvidia-smi -i " + kUuid0 +
                             " -mig 0 turn MIG off)");
}

TEST(MigModeName, JsonWords) {
  EXPECT_STREQ(MigModeName(MigMode::kUnknown), "unknown");
  EXPECT_STREQ(MigModeName(MigMode::kDisabled), "disabled");
  EXPECT_STREQ(MigModeName(MigMode::kEnabled), "enabled");
}

}  // namespace
}  // namespace kmps::kind
