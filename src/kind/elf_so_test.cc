#include "kind/elf_so.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "support/fake_host.h"

namespace kmps::kind {
namespace {

TEST(ElfSo, ReadsTheSoname) {
  testing::TempDir dir("kmps-elf");
  std::string so = dir.path() + "/libcuda.so.580.159.04";
  ASSERT_TRUE(testing::BuildSharedObject(so, "libcuda.so.1").ok());
  auto soname = ReadElfSoname(so);
  ASSERT_TRUE(soname.ok()) << soname.status().message();
  EXPECT_EQ(*soname, "libcuda.so.1");
}

TEST(ElfSo, RejectsTextFiles) {
  testing::TempDir dir("kmps-elf");
  std::string path = dir.path() + "/libnvidia-ml.so.1";
  std::ofstream(path) << "INPUT(-lnvidia-ml)\n";
  auto r = ReadElfSoname(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), path + " is not an ELF shared object (no ELF magic)");
}

TEST(ElfSo, RejectsTruncatedObjects) {
  testing::TempDir dir("kmps-elf");
  std::string so = dir.path() + "/full.so";
  ASSERT_TRUE(testing::BuildSharedObject(so, "libx.so.1").ok());
  for (size_t keep : {size_t{5}, size_t{64}, size_t{300}, size_t{2000}}) {
    std::filesystem::copy_file(so, dir.path() + "/cut.so",
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::resize_file(dir.path() + "/cut.so", keep);
    auto r = ReadElfSoname(dir.path() + "/cut.so");
    EXPECT_FALSE(r.ok()) << "kept " << keep << " bytes";
  }
}

TEST(ElfSo, ExecutableWithoutSonameIsNotALibrary) {
  auto r = ReadElfSoname("/bin/sh");  // a PIE: ET_DYN, but no DT_SONAME
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not an ELF shared object"), std::string::npos);
}

TEST(ElfSo, MissingFileIsNotFound) {
  auto r = ReadElfSoname("/nonexistent/libcuda.so.1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace kmps::kind
