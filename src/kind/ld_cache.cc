#include "kind/ld_cache.h"

#include <cstring>

#include <fmt/core.h>

namespace kmps::kind {
namespace {

constexpr std::string_view kOldMagic = "ld.so-1.7.0";             // 11 bytes
constexpr std::string_view kNewMagic = "glibc-ld.so.cache1.1";    // magic + version, 20 bytes
constexpr size_t kOldHeaderSize = 16;   // char magic[11]; (pad); uint32_t nlibs
constexpr size_t kOldEntrySize = 12;    // int32_t flags; uint32_t key, value
constexpr size_t kNewHeaderSize = 48;   // magic[17] version[3] nlibs len_strings flags pad[3]
                                        // extension_offset unused[3]
constexpr size_t kNewEntrySize = 24;    // int32_t flags; uint32_t key, value, osversion; u64 hwcap
constexpr uint8_t kEndianMask = 3, kEndianLittle = 2, kEndianBig = 3;

template <typename T>
T Load(std::string_view bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

// The longest string taken: a path (PATH_MAX). A longer one is a corrupt cache; and since every
// entry may point at the same string, an unbounded one would cost entries x length in time and
// memory (a 1 MiB cache, 43690 copies of a 1 MiB string).
constexpr size_t kMaxString = 4096;

// The NUL-terminated string at `offset` of `bytes`, or an error when it runs off the end.
StatusOr<std::string> StringAt(std::string_view bytes, uint64_t offset, const std::string& name) {
  if (offset >= bytes.size()) {
    return ProtocolError(fmt::format("{}: string offset {} past the end ({} bytes)", name, offset,
                                     bytes.size()));
  }
  std::string_view s = bytes.substr(offset, kMaxString + 1);
  size_t end = s.find('\0');
  if (end == std::string_view::npos) {
    if (s.size() > kMaxString) {
      return ProtocolError(fmt::format("{}: string at offset {} longer than {} bytes", name, offset, kMaxString));
    }
    return ProtocolError(fmt::format("{}: unterminated string at offset {}", name, offset));
  }
  return std::string(s.substr(0, end));
}

StatusOr<std::vector<LdCacheEntry>> ParseNew(std::string_view bytes, size_t base,
                                             const std::string& name) {
  // Offsets of the strings are relative to the start of the new header.
  std::string_view view = bytes.substr(base);
  if (view.size() < kNewHeaderSize) {
    return ProtocolError(fmt::format("{}: truncated header ({} bytes)", name, view.size()));
  }
  uint32_t nlibs = Load<uint32_t>(view, 20);
  uint8_t endian = Load<uint8_t>(view, 28) & kEndianMask;
  if (endian == kEndianBig) {
    return ProtocolError(fmt::format("{}: big-endian cache on a little-endian host", name));
  }
  (void)kEndianLittle;  // unset (0) is accepted, as glibc does
  uint64_t table_end = kNewHeaderSize + uint64_t{nlibs} * kNewEntrySize;
  if (table_end > view.size()) {
    return ProtocolError(fmt::format("{}: {} entries do not fit in {} bytes", name, nlibs,
                                     view.size()));
  }
  std::vector<LdCacheEntry> entries;
  entries.reserve(nlibs);
  for (uint32_t i = 0; i < nlibs; ++i) {
    size_t at = kNewHeaderSize + size_t{i} * kNewEntrySize;
    LdCacheEntry e;
    e.flags = Load<int32_t>(view, at);
    KMPS_ASSIGN_OR_RETURN(e.soname, StringAt(view, Load<uint32_t>(view, at + 4), name));
    KMPS_ASSIGN_OR_RETURN(e.path, StringAt(view, Load<uint32_t>(view, at + 8), name));
    e.hwcap = Load<uint64_t>(view, at + 16);
    entries.push_back(std::move(e));
  }
  return entries;
}

StatusOr<std::vector<LdCacheEntry>> ParseOld(std::string_view bytes, const std::string& name) {
  if (bytes.size() < kOldHeaderSize) {
    return ProtocolError(fmt::format("{}: truncated header ({} bytes)", name, bytes.size()));
  }
  uint32_t nlibs = Load<uint32_t>(bytes, 12);
  uint64_t table_end = kOldHeaderSize + uint64_t{nlibs} * kOldEntrySize;
  if (table_end > bytes.size()) {
    return ProtocolError(fmt::format("{}: {} entries do not fit in {} bytes", name, nlibs,
                                     bytes.size()));
  }
  // A new-format cache may follow, 8-byte aligned; the loader prefers it.
  uint64_t new_at = (table_end + 7) & ~uint64_t{7};
  if (new_at + kNewHeaderSize <= bytes.size() &&
      bytes.substr(new_at, kNewMagic.size()) == kNewMagic) {
    return ParseNew(bytes, new_at, name);
  }
  // Old format alone: string offsets are relative to the end of the entry table.
  std::string_view strings = bytes.substr(table_end);
  std::vector<LdCacheEntry> entries;
  entries.reserve(nlibs);
  for (uint32_t i = 0; i < nlibs; ++i) {
    size_t at = kOldHeaderSize + size_t{i} * kOldEntrySize;
    LdCacheEntry e;
    e.flags = Load<int32_t>(bytes, at);
    KMPS_ASSIGN_OR_RETURN(e.soname, StringAt(strings, Load<uint32_t>(bytes, at + 4), name));
    KMPS_ASSIGN_OR_RETURN(e.path, StringAt(strings, Load<uint32_t>(bytes, at + 8), name));
    entries.push_back(std::move(e));
  }
  return entries;
}

}  // namespace

StatusOr<std::vector<LdCacheEntry>> ParseLdCache(std::string_view bytes, const std::string& name) {
  if (bytes.substr(0, kNewMagic.size()) == kNewMagic) return ParseNew(bytes, 0, name);
  if (bytes.substr(0, kOldMagic.size()) == kOldMagic) return ParseOld(bytes, name);
  return ProtocolError(fmt::format("{}: not an ld.so.cache (unknown magic)", name));
}

std::vector<LdCacheEntry> LookupX8664(const std::vector<LdCacheEntry>& entries,
                                      const std::string& soname) {
  std::vector<LdCacheEntry> out;
  for (const auto& e : entries) {
    if (e.soname == soname && e.flags == kLdCacheFlagsX8664Libc6) out.push_back(e);
  }
  return out;
}

}  // namespace kmps::kind
