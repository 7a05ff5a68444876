#include "common/file_util.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

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

// A directory of its own, removed with what the test put there.
struct TempDir {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("kmps-rf-" + std::to_string(::getpid()) + "-" +
                                ::testing::UnitTest::GetInstance()->current_test_info()->name());
  TempDir() { std::filesystem::create_directories(path); }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

TEST(ReadRegularFile, ReadsAFileAndALinkToOne) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir / "f", "hello\n").ok());
  std::filesystem::create_symlink(dir / "f", dir / "link");
  EXPECT_EQ(*ReadRegularFile(dir / "f", 6), "hello\n");
  EXPECT_EQ(*ReadRegularFile(dir / "link", 6), "hello\n");
}

TEST(ReadRegularFile, NothingThereIsNotFound) {
  TempDir dir;
  auto r = ReadRegularFile(dir / "missing", 100);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
}

// Each of these is one line naming the file and what it is instead, exit 2; none blocks.
TEST(ReadRegularFile, NamesWhatStandsWhereTheFileShouldBe) {
  TempDir dir;
  std::filesystem::create_directories(dir / "dir");
  std::filesystem::create_symlink(dir / "nowhere", dir / "dangling");
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string sock_path = dir / "sock";
  ASSERT_LT(sock_path.size(), sizeof addr.sun_path);
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_TRUE(WriteFileAtomically(dir / "big", std::string(101, 'x')).ok());
  for (auto [name, why] : {std::pair{"dir", "is a directory"}, std::pair{"dangling", "is a symbolic link to nothing"},
                           std::pair{"fifo", "is a FIFO"}, std::pair{"sock", "is a socket"},
                           std::pair{"big", "is 101 bytes, more than the 100"}}) {
    auto r = ReadRegularFile(dir / name, 100);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << name;
    EXPECT_NE(r.status().message().find(dir / name), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().message();
  }
  ::close(sock);
}

TEST(ReadRegularFile, AnUnreadableFileSaysWhy) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file";
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir / "f", "x").ok());
  ::chmod((dir / "f").c_str(), 0);
  auto r = ReadRegularFile(dir / "f", 100);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Permission denied"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace kmps
