#include "kind/elf_so.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/core.h>

#include "common/fd.h"
#include "kind/host_paths.h"

namespace kmps::kind {
namespace {

constexpr size_t kMaxSoname = 4096;
constexpr size_t kMaxDynamicBytes = 1 << 20;


// Reads exactly `size` bytes at `offset` within a file of `file_size` bytes.
bool ReadAt(int fd, uint64_t file_size, uint64_t offset, void* out, size_t size) {
  if (offset > file_size || size > file_size - offset) return false;
  auto* p = static_cast<char*>(out);
  size_t got = 0;
  while (got < size) {
    ssize_t n = pread(fd, p + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

Status NotShared(const std::string& path, const std::string& why) {
  return Failed(fmt::format("{} is not an ELF shared object ({})", path, why));
}

}  // namespace

StatusOr<std::string> ReadElfSoname(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return NotFound(fmt::format("{}: {}", path, std::strerror(errno)));
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return NotFound(fmt::format("{}: {}", path, std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) return Failed(fmt::format("{} {}", path, kDirectoryNotFile));
  if (!S_ISREG(st.st_mode)) return NotShared(path, "not a regular file");
  uint64_t size = static_cast<uint64_t>(st.st_size);

  Elf64_Ehdr eh{};
  unsigned char ident[EI_NIDENT] = {};
  if (!ReadAt(fd.get(), size, 0, ident, sizeof ident) || std::memcmp(ident, ELFMAG, SELFMAG) != 0) {
    return NotShared(path, "no ELF magic");
  }
  if (ident[EI_CLASS] != ELFCLASS64) return NotShared(path, "not ELFCLASS64");
  if (ident[EI_DATA] != ELFDATA2LSB) return NotShared(path, "not little-endian");
  if (!ReadAt(fd.get(), size, 0, &eh, sizeof eh)) return NotShared(path, "truncated ELF header");
  if (eh.e_machine != EM_X86_64) return NotShared(path, fmt::format("e_machine {}", eh.e_machine));
  if (eh.e_type != ET_DYN) return NotShared(path, fmt::format("e_type {}, not ET_DYN", eh.e_type));
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0) {
    return NotShared(path, "no program headers");
  }
  std::vector<Elf64_Phdr> ph(eh.e_phnum);
  if (!ReadAt(fd.get(), size, eh.e_phoff, ph.data(), ph.size() * sizeof(Elf64_Phdr))) {
    return NotShared(path, "truncated program headers");
  }
  const Elf64_Phdr* dynamic = nullptr;
  for (const auto& p : ph) {
    if (p.p_type == PT_DYNAMIC) dynamic = &p;
  }
  if (dynamic == nullptr) return NotShared(path, "no PT_DYNAMIC segment");
  if (dynamic->p_filesz > kMaxDynamicBytes) return NotShared(path, "oversized dynamic segment");
  std::vector<Elf64_Dyn> dyn(dynamic->p_filesz / sizeof(Elf64_Dyn));
  if (!ReadAt(fd.get(), size, dynamic->p_offset, dyn.data(), dyn.size() * sizeof(Elf64_Dyn))) {
    return NotShared(path, "truncated dynamic segment");
  }
  uint64_t strtab_vaddr = 0, soname_offset = 0, strsz = 0;
  bool have_strtab = false, have_soname = false;
  for (const auto& d : dyn) {
    if (d.d_tag == DT_NULL) break;
    if (d.d_tag == DT_STRTAB) have_strtab = true, strtab_vaddr = d.d_un.d_ptr;
    if (d.d_tag == DT_SONAME) have_soname = true, soname_offset = d.d_un.d_val;
    if (d.d_tag == DT_STRSZ) strsz = d.d_un.d_val;
  }
  if (!have_soname) return NotShared(path, "no DT_SONAME");
  if (!have_strtab) return NotShared(path, "no DT_STRTAB");
  if (strsz != 0 && soname_offset >= strsz) return NotShared(path, "DT_SONAME past DT_STRSZ");
  // The string table's address -> file offset, through the PT_LOAD segment that holds it.
  uint64_t strtab_offset = 0;
  bool mapped = false;
  for (const auto& p : ph) {
    if (p.p_type == PT_LOAD && strtab_vaddr >= p.p_vaddr && strtab_vaddr - p.p_vaddr < p.p_filesz) {
      strtab_offset = strtab_vaddr - p.p_vaddr + p.p_offset;
      mapped = true;
      break;
    }
  }
  if (!mapped) return NotShared(path, "DT_STRTAB outside every PT_LOAD segment");
  uint64_t at = strtab_offset + soname_offset;
  if (at < strtab_offset || at >= size) return NotShared(path, "DT_SONAME past the end of the file");
  char buf[kMaxSoname];
  size_t n = static_cast<size_t>(std::min<uint64_t>(kMaxSoname, size - at));
  if (!ReadAt(fd.get(), size, at, buf, n)) return NotShared(path, "unreadable DT_SONAME");
  const void* nul = std::memchr(buf, '\0', n);
  if (nul == nullptr) return NotShared(path, "unterminated DT_SONAME");
  return std::string(buf, static_cast<size_t>(static_cast<const char*>(nul) - buf));
}

}  // namespace kmps::kind
