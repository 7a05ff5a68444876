#include "kind/host_inspect.h"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_host.h"

namespace kmps::kind {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const HostLibrary* Lib(const HostInventory& inv, const std::string& soname) {
  for (const auto& l : inv.libraries) {
    if (l.soname == soname) return &l;
  }
  return nullptr;
}

const HostBinary* Bin(const HostInventory& inv, const std::string& name) {
  for (const auto& b : inv.binaries) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

std::string All(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

HostInventory Inspect(const std::string& root) { return InspectHost({root, root}); }

TEST(VersionFromFileName, Cases) {
  EXPECT_EQ(VersionFromFileName("libcuda.so.1", "libcuda.so.580.159.04"), "580.159.04");
  EXPECT_EQ(VersionFromFileName("libnvidia-nvvm.so.4", "libnvidia-nvvm.so.580.159.04"), "580.159.04");
  EXPECT_EQ(VersionFromFileName("libcuda.so.1", "libcuda.so.1"), "");
  EXPECT_EQ(VersionFromFileName("libcuda.so.1", "libcuda-real.so"), "");
  EXPECT_EQ(VersionFromFileName("libcuda.so.1", "libcuda.so.580.x"), "");
}

TEST(InspectHost, H100LayoutFindsTheDriverThroughLdSoConfAndCache) {
  testing::TempDir dir("kmps-h100");
  Status s = testing::H100Layout(dir.path());
  ASSERT_TRUE(s.ok()) << s.message();
  HostInventory inv = Inspect(dir.path());
  const std::string lib64 = dir.path() + "/usr/local/nvidia/lib64/";
  for (const char* name : {"libcuda", "libnvidia-ml", "libnvidia-ptxjitcompiler"}) {
    const HostLibrary* l = Lib(inv, std::string(name) + ".so.1");
    ASSERT_NE(l, nullptr) << name << "\n" << All(inv.missing);
    EXPECT_EQ(l->link_path, lib64 + name + ".so.1");
    EXPECT_EQ(l->real_path, lib64 + name + ".so.580.159.04");
    EXPECT_EQ(l->version, "580.159.04");
    EXPECT_TRUE(l->required);
  }
  const HostLibrary* nvvm = Lib(inv, "libnvidia-nvvm.so.4");
  ASSERT_NE(nvvm, nullptr);
  EXPECT_FALSE(nvvm->required);
  EXPECT_EQ(Lib(inv, "libnvidia-gpucomp.so.1"), nullptr);  // not on the H100 host: a note only
  EXPECT_THAT(All(inv.warnings), HasSubstr("optional library libnvidia-gpucomp.so.1: not found"));
  EXPECT_EQ(inv.driver_version, "580.159.04");
  ASSERT_NE(Bin(inv, "nvidia-cuda-mps-control"), nullptr);
  EXPECT_EQ(Bin(inv, "nvidia-cuda-mps-control")->path,
            dir.path() + "/usr/local/nvidia/bin/nvidia-cuda-mps-control");
  ASSERT_NE(Bin(inv, "nvidia-smi"), nullptr);
  EXPECT_FALSE(Bin(inv, "nvidia-smi")->required);
  EXPECT_TRUE(inv.cdi_specs.empty());
  // Required items are the libraries and binaries (all found) plus the devices.
  if (!testing::CanMakeDevices()) GTEST_SKIP() << testing::kNeedsMknodMessage;
  EXPECT_TRUE(inv.complete()) << All(inv.missing);
  ASSERT_EQ(inv.devices.size(), 4u);
  EXPECT_EQ(inv.devices[0].path, dir.path() + "/dev/nvidia0");
  EXPECT_EQ(inv.devices[0].major, 195);
  EXPECT_EQ(inv.devices[1].path, dir.path() + "/dev/nvidiactl");
  EXPECT_EQ(inv.devices[1].minor, 255);
  EXPECT_EQ(inv.devices[2].major, 238);
  EXPECT_TRUE(RequireComplete(inv).ok());
}

TEST(InspectHost, H100TrapsInTheLoaderPathAreSkippedAndNamed) {
  testing::TempDir dir("kmps-h100traps");
  testing::FakeHostOptions o;
  o.traps_in_ld_path = true;
  Status s = testing::H100Layout(dir.path(), o);
  ASSERT_TRUE(s.ok()) << s.message();
  HostInventory inv = Inspect(dir.path());
  const HostLibrary* cuda = Lib(inv, "libcuda.so.1");
  ASSERT_NE(cuda, nullptr) << All(inv.missing);
  EXPECT_EQ(cuda->real_path, dir.path() + "/usr/local/nvidia/lib64/libcuda.so.580.159.04");
  const HostLibrary* ml = Lib(inv, "libnvidia-ml.so.1");
  ASSERT_NE(ml, nullptr);
  EXPECT_EQ(ml->real_path, dir.path() + "/usr/local/nvidia/lib64/libnvidia-ml.so.580.159.04");
  std::string notes = All(inv.warnings);
  EXPECT_THAT(notes, HasSubstr("/usr/local/cuda-13.0/compat/libcuda.so.1: a CUDA forward-compatibility driver"));
  EXPECT_THAT(notes, HasSubstr("/stubs/libcuda.so.1: a CUDA toolkit link-time stub"));
  for (const auto& l : inv.libraries) {
    EXPECT_EQ(l.real_path.find("/stubs/"), std::string::npos) << l.real_path;
    EXPECT_EQ(l.real_path.find("/compat/"), std::string::npos) << l.real_path;
  }
}

TEST(InspectHost, DebianLayoutWithAndWithoutCache) {
  for (bool ldconfig : {true, false}) {
    SCOPED_TRACE(ldconfig ? "with ld.so.cache" : "standard directories only");
    testing::TempDir dir("kmps-debian");
    testing::FakeHostOptions o;
    o.ldconfig = ldconfig;
    o.driver_version = "550.54.15";
    Status s = testing::DebianLayout(dir.path(), o);
    ASSERT_TRUE(s.ok()) << s.message();
    HostInventory inv = Inspect(dir.path());
    ASSERT_EQ(inv.libraries.size(), 5u) << All(inv.missing);
    const HostLibrary* gpucomp = Lib(inv, "libnvidia-gpucomp.so.1");
    ASSERT_NE(gpucomp, nullptr);
    EXPECT_EQ(gpucomp->real_path, dir.path() + "/usr/lib/x86_64-linux-gnu/libnvidia-gpucomp.so.550.54.15");
    EXPECT_EQ(inv.driver_version, "550.54.15");
    ASSERT_NE(Bin(inv, "nvidia-cuda-mps-server"), nullptr);
    EXPECT_EQ(Bin(inv, "nvidia-cuda-mps-server")->path, dir.path() + "/usr/bin/nvidia-cuda-mps-server");
  }
}

TEST(InspectHost, AbsoluteSymlinksResolveInsideTheDriverRoot) {
  testing::TempDir dir("kmps-abslink");
  ASSERT_TRUE(testing::H100Layout(dir.path()).ok());
  testing::FakeHost h(dir.path());
  // /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1 -> /usr/local/nvidia/lib64/... (absolute), found
  // first through the standard directories once the conf no longer names lib64.
  ASSERT_TRUE(h.Remove("/etc/ld.so.conf.d/nvidia.conf").ok());
  ASSERT_TRUE(h.Remove("/etc/ld.so.cache").ok());
  for (const char* so : {"libcuda.so.1", "libnvidia-ml.so.1", "libnvidia-ptxjitcompiler.so.1"}) {
    ASSERT_TRUE(h.Symlink(std::string("/usr/lib/x86_64-linux-gnu/") + so,
                          std::string("/usr/local/nvidia/lib64/") + so).ok());
  }
  HostInventory inv = Inspect(dir.path());
  const HostLibrary* ml = Lib(inv, "libnvidia-ml.so.1");
  ASSERT_NE(ml, nullptr) << All(inv.missing);
  EXPECT_EQ(ml->link_path, dir.path() + "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1");
  EXPECT_EQ(ml->real_path, dir.path() + "/usr/local/nvidia/lib64/libnvidia-ml.so.580.159.04");
}

TEST(InspectHost, DanglingLinkIsReportedAsSuch) {
  testing::TempDir dir("kmps-dangling");
  ASSERT_TRUE(testing::DanglingLinkLayout(dir.path()).ok());
  HostInventory inv = Inspect(dir.path());
  EXPECT_FALSE(inv.complete());
  EXPECT_EQ(Lib(inv, "libcuda.so.1"), nullptr);
  std::string missing = All(inv.missing);
  EXPECT_THAT(missing, HasSubstr("library libcuda.so.1: not found (looked in " + dir.path() +
                                 "/etc/ld.so.cache, "));
  EXPECT_THAT(missing, HasSubstr(dir.path() + "/usr/lib/x86_64-linux-gnu/libcuda.so.1 is a dangling "
                                              "symlink to libcuda.so.580.159.04"));
  Status s = RequireComplete(inv);
  EXPECT_EQ(s.code(), Code::kEnvironment);
  EXPECT_EQ(ExitCodeFor(s), 3);
}

TEST(InspectHost, MissingServerBinaryNamesWhereItLooked) {
  testing::TempDir dir("kmps-noserver");
  ASSERT_TRUE(testing::MissingServerLayout(dir.path()).ok());
  HostInventory inv = Inspect(dir.path());
  EXPECT_NE(Bin(inv, "nvidia-cuda-mps-control"), nullptr);
  EXPECT_THAT(All(inv.missing),
              HasSubstr("binary nvidia-cuda-mps-server: not found (looked in " + dir.path() +
                        "/usr/local/nvidia/bin, " + dir.path() + "/usr/bin,"));
}

TEST(InspectHost, NonElfLibraryIsReportedAsSuch) {
  testing::TempDir dir("kmps-nonelf");
  ASSERT_TRUE(testing::NonElfLibraryLayout(dir.path()).ok());
  HostInventory inv = Inspect(dir.path());
  EXPECT_EQ(Lib(inv, "libnvidia-ml.so.1"), nullptr);
  EXPECT_THAT(All(inv.missing),
              HasSubstr(dir.path() + "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.580.159.04 is not an "
                                     "ELF shared object (no ELF magic)"));
}

TEST(InspectHost, ALeftoverDirectoryIsNamedAsSuch) {
  testing::TempDir dir("kmps-leftover");
  ASSERT_TRUE(testing::LeftoverDirectoryLayout(dir.path()).ok());
  HostInventory inv = Inspect(dir.path());
  EXPECT_EQ(Lib(inv, "libcuda.so.1"), nullptr);
  EXPECT_THAT(All(inv.missing), HasSubstr(dir.path() + "/usr/lib/x86_64-linux-gnu/libcuda.so.580.159.04 is a "
                                                        "directory, not a file (as Docker leaves where a mount source "
                                                        "was missing)"));
  EXPECT_THAT(All(inv.missing), HasSubstr(dir.path() + "/usr/bin/nvidia-cuda-mps-server is a directory, not a file"));
  EXPECT_EQ(RequireComplete(inv).code(), Code::kEnvironment);
}

TEST(InspectHost, DeviceThatIsNotACharacterDevice) {
  testing::TempDir dir("kmps-baddev");
  testing::FakeHostOptions o;
  o.devices = false;
  ASSERT_TRUE(testing::DebianLayout(dir.path(), o).ok());
  testing::FakeHost h(dir.path());
  ASSERT_TRUE(h.WriteFile("/dev/nvidiactl", "").ok());
  HostInventory inv = Inspect(dir.path());
  std::string missing = All(inv.missing);
  EXPECT_THAT(missing, HasSubstr("device " + dir.path() + "/dev/nvidiactl: is not a character device"));
  EXPECT_THAT(missing, HasSubstr("device " + dir.path() + "/dev/nvidia[0-9]*: no GPU device node"));
  EXPECT_THAT(missing, HasSubstr("device " + dir.path() + "/dev/nvidia-uvm: does not exist"));
}

TEST(InspectHost, EmptyRootListsEverything) {
  testing::TempDir dir("kmps-empty");
  HostInventory inv = Inspect(dir.path());
  EXPECT_TRUE(inv.libraries.empty());
  std::string missing = All(inv.missing);
  for (const char* item : {"libcuda.so.1", "libnvidia-ml.so.1", "libnvidia-ptxjitcompiler.so.1",
                           "nvidia-cuda-mps-control", "nvidia-cuda-mps-server", "/dev/nvidiactl"}) {
    EXPECT_THAT(missing, HasSubstr(item));
  }
  EXPECT_THAT(missing, Not(HasSubstr("nvidia-smi")));  // optional: a note, not missing
  EXPECT_THAT(missing, HasSubstr("/etc/ld.so.cache (absent)"));
  std::string text = DescribeMissing(inv);
  EXPECT_THAT(text, HasSubstr("required item(s) missing"));
  EXPECT_THAT(text, HasSubstr("--driver-root"));
}

TEST(InspectHost, NonexistentDriverRoot) {
  HostInventory inv = InspectHost({"/nonexistent/kmps/root", "/nonexistent/kmps/dev"});
  EXPECT_THAT(All(inv.missing), HasSubstr("driver root /nonexistent/kmps/root: not a directory"));
  EXPECT_THAT(All(inv.missing), HasSubstr("dev root /nonexistent/kmps/dev: not a directory"));
}

TEST(InspectHost, CdiSpecsAndJson) {
  testing::TempDir dir("kmps-cdi");
  testing::FakeHostOptions o;
  o.cdi = true;
  ASSERT_TRUE(testing::DebianLayout(dir.path(), o).ok());
  testing::FakeHost h(dir.path());
  ASSERT_TRUE(h.WriteFile("/run/cdi/extra.json", "{}").ok());
  ASSERT_TRUE(h.Symlink("/var/run", "/run").ok());  // absolute: must stay in the root
  ASSERT_TRUE(h.WriteFile("/etc/cdi/README", "not a spec").ok());
  HostInventory inv = Inspect(dir.path());
  ASSERT_EQ(inv.cdi_specs.size(), 2u);
  EXPECT_EQ(inv.cdi_specs[0], dir.path() + "/etc/cdi/nvidia.yaml");
  EXPECT_EQ(inv.cdi_spec_inside[0], "/etc/cdi/nvidia.yaml");
  EXPECT_EQ(inv.cdi_specs[1], dir.path() + "/run/cdi/extra.json");
  EXPECT_EQ(inv.cdi_spec_inside[1], "/var/run/cdi/extra.json");
  nlohmann::json j = inv.ToJson();
  EXPECT_EQ(j["driverRoot"], dir.path());
  EXPECT_EQ(j["driverVersion"], "580.159.04");
  EXPECT_EQ(j["libraries"][0]["soname"], "libcuda.so.1");
  EXPECT_EQ(j["libraries"][0]["realPath"], dir.path() + "/usr/lib/x86_64-linux-gnu/libcuda.so.580.159.04");
  EXPECT_EQ(j["cdiSpecs"].size(), 2u);
  EXPECT_EQ(j["complete"], inv.complete());
}

TEST(InspectHost, ListsTheGpusOfTheDriversProcfsUnderTheProcRoot) {
  if (!testing::CanMakeDevices()) GTEST_SKIP() << testing::kNeedsMknodMessage;
  testing::TempDir dir("kmps-gpus-inspect");
  ASSERT_TRUE(testing::H100Layout(dir.path()).ok());  // /dev/nvidia0 and the rest
  testing::TempDir proc("kmps-gpus-proc");
  testing::FakeHost p(proc.path());
  const std::string u0 = "GPU-5d0f6ac4-8e3e-2a4c-1b7f-9c0d2e4f6a81";
  const std::string u1 = "GPU-a13b7c2d-44e5-f6a7-0b8c-9d1e2f3a4b5c";
  ASSERT_TRUE(p.WriteFile("/proc/driver/nvidia/gpus/0000:19:00.0/information",
                          "Model: \t\t NVIDIA H200\nGPU UUID: \t " + u0 +
                              "\nBus Location: \t 0000:19:00.0\nDevice Minor: \t 0\nGPU Excluded:\t No\n").ok());
  ASSERT_TRUE(p.WriteFile("/proc/driver/nvidia/gpus/0000:3b:00.0/information",
                          "Model: \t\t NVIDIA H200\nGPU UUID: \t " + u1 +
                              "\nBus Location: \t 0000:3b:00.0\nDevice Minor: \t 1\nGPU Excluded:\t No\n").ok());
  ASSERT_TRUE(p.WriteFile("/proc/driver/nvidia/capabilities/gpu0/mig/gi2/access", "DeviceFileMinor: 21\n").ok());

  InspectOptions o{dir.path(), dir.path()};
  o.proc_root = proc.path();
  HostInventory inv = InspectHost(o);
  // GPU 1 has no /dev/nvidia1 under this dev root: left out with a note, the host still complete.
  ASSERT_EQ(inv.gpus.size(), 1u);
  EXPECT_TRUE(inv.complete()) << All(inv.missing);
  EXPECT_THAT(All(inv.warnings), HasSubstr("GPU 1 (" + u1 + ", 0000:3b:00.0): the driver lists it, but " + dir.path() +
                                           "/dev/nvidia1 does not exist; left out"));
  nlohmann::json j = inv.ToJson();
  ASSERT_EQ(j["gpus"].size(), 1u);
  EXPECT_EQ(j["gpus"][0], (nlohmann::json{{"minor", 0}, {"uuid", u0}, {"model", "NVIDIA H200"}, {"busId", "0000:19:00.0"},
                                          {"device", dir.path() + "/dev/nvidia0"}, {"mig", "enabled"}}));
  Status refused = RefuseMig(inv);
  EXPECT_EQ(refused.code(), Code::kInvalidArgument);
  EXPECT_THAT(refused.message(), HasSubstr("GPU 0 (" + u0 + ", 0000:19:00.0) has MIG enabled"));

  o.query_nvidia_smi = false;
  EXPECT_THAT(All(InspectHost(o).warnings), Not(HasSubstr("nvidia-smi: ")));
}

TEST(InspectHost, WithoutTheDriversProcfsGpusComeFromDeviceNodesWithANote) {
  if (!testing::CanMakeDevices()) GTEST_SKIP() << testing::kNeedsMknodMessage;
  testing::TempDir dir("kmps-gpus-noproc");
  ASSERT_TRUE(testing::H100Layout(dir.path()).ok());
  InspectOptions o{dir.path(), dir.path()};
  o.proc_root = dir.path();  // no proc/ there
  HostInventory inv = InspectHost(o);
  EXPECT_TRUE(inv.complete()) << All(inv.missing);
  ASSERT_EQ(inv.gpus.size(), 1u);
  EXPECT_EQ(inv.gpus[0].minor, 0);
  EXPECT_EQ(inv.gpus[0].uuid, "");
  EXPECT_EQ(inv.gpus[0].device_path, dir.path() + "/dev/nvidia0");
  EXPECT_THAT(All(inv.warnings), HasSubstr("GPU UUIDs unknown"));
  EXPECT_TRUE(RefuseMig(inv).ok());
}

}  // namespace
}  // namespace kmps::kind
