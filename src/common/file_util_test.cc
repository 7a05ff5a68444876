#include "common/file_util.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace kmps {
namespace {

TEST(WriteFileAtomically, ReplacesTheFileAndLeavesNoTemporary) {
  auto dir = std::filesystem::temp_directory_path() / ("kmps-fu-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "f.yaml").string();
  ASSERT_TRUE(WriteFileAtomically(path, "one\n").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "two\n").ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "two\n");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
  std::filesystem::remove_all(dir);
}

TEST(WriteFileAtomically, NamesTheFileItCannotWrite) {
  Status s = WriteFileAtomically("/nonexistent-kmps-dir/f.yaml", "x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kFailed);
  EXPECT_NE(s.message().find("/nonexistent-kmps-dir/f.yaml"), std::string::npos);
}

}  // namespace
}  // namespace kmps
