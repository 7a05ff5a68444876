// The SONAME of an ELF shared object (kind/elf_so.h): a driver library found on the host, any
// bytes. ReadElfSoname reads a path, so the input is the file behind a memfd.
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "fuzz_support.h"
#include "kind/elf_so.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int fd = memfd_create("elf", MFD_CLOEXEC);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  KMPS_FUZZ_CHECK(fd >= 0);
  KMPS_FUZZ_CHECK(ftruncate(fd, 0) == 0);
  KMPS_FUZZ_CHECK(pwrite(fd, data, size, 0) == static_cast<ssize_t>(size));
  auto soname = kmps::kind::ReadElfSoname(path);
  if (!soname.ok()) {
    KMPS_FUZZ_CHECK(soname.status().code() == kmps::Code::kFailed);
    return 0;
  }
  KMPS_FUZZ_CHECK(soname->size() < size && soname->find('\0') == std::string::npos);
  KMPS_FUZZ_CHECK(kmps::fuzz::Bytes(data, size).find(*soname) != std::string_view::npos);
  return 0;
}
