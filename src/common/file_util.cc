#include "common/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/core.h>

#include "common/fd.h"

namespace kmps {
namespace {

std::string_view FileType(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

}  // namespace

Status WriteFileAtomically(const std::string& path, const std::string& text) {
  std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (fd.get() < 0) return Failed(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  // Flushed before the rename: a crash then leaves the old file or the whole new one.
  if (!WriteAll(fd.get(), text) || ::fsync(fd.get()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    return Failed(fmt::format("cannot write {}: {}", tmp, std::strerror(err)));
  }
  fd.reset();
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    return Failed(fmt::format("cannot write {}: {}", path, std::strerror(err)));
  }
  return Status::Ok();
}

StatusOr<std::string> ReadRegularFile(const std::string& path, size_t max_bytes) {
  auto invalid = [&](std::string_view why) { return InvalidArgument(fmt::format("{}: {}", path, why)); };
  // What is there, told before it is opened (a socket cannot be), then checked again on the
  // descriptor, which is what is read.
  auto check = [&](const struct stat& st) -> Status {
    if (!S_ISREG(st.st_mode)) return invalid(fmt::format("is {}, not a file", FileType(st.st_mode)));
    if (static_cast<uint64_t>(st.st_size) > max_bytes) {
      return invalid(fmt::format("is {} bytes, more than the {} a file of this kind may have", st.st_size, max_bytes));
    }
    return Status::Ok();
  };
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    struct stat link {};
    if (err == ENOENT && ::lstat(path.c_str(), &link) == 0) return invalid("is a symbolic link to nothing");
    if (err == ENOENT) return NotFound(fmt::format("{}: no such file", path));
    return invalid(std::strerror(err));
  }
  KMPS_RETURN_IF_ERROR(check(st));
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) return invalid(std::strerror(errno));
  if (::fstat(fd.get(), &st) != 0) return invalid(std::strerror(errno));
  KMPS_RETURN_IF_ERROR(check(st));
  std::string text;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return invalid(std::strerror(errno));
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    // A file that grew while it was read is bounded as well.
    if (text.size() > max_bytes) return invalid(fmt::format("is more than {} bytes", max_bytes));
  }
  return text;
}

}  // namespace kmps
