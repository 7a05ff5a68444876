#include "common/file_util.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include <fmt/core.h>

namespace kmps {

Status WriteFileAtomically(const std::string& path, const std::string& text) {
  std::string tmp = fmt::format("{}.tmp.{}", path, getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      return Failed(fmt::format("cannot write {}", tmp));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    return Failed(fmt::format("cannot write {}: {}", path, std::strerror(err)));
  }
  return Status::Ok();
}

}  // namespace kmps
