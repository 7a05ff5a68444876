#include "kind/mountinfo.h"

#include <algorithm>

#include "common/text.h"

namespace kmps::kind {
namespace {

bool HasPrefixedField(const std::vector<std::string>& fields, std::string_view prefix) {
  return std::any_of(fields.begin(), fields.end(),
                     [&](const std::string& f) { return std::string_view(f).substr(0, prefix.size()) == prefix; });
}

// The kernel writes space, tab, newline and backslash as \ooo.
std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto octal = [&](size_t j) { return j < s.size() && s[j] >= '0' && s[j] <= '7'; };
    if (s[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t pos = 0;
  while (pos < line.size()) {
    size_t end = std::min(line.find(' ', pos), line.size());
    if (end > pos) words.push_back(line.substr(pos, end - pos));
    pos = end + 1;
  }
  return words;
}

// Whether `mount_point` is `path` or one of its parent directories.
bool Holds(std::string_view mount_point, std::string_view path) {
  if (mount_point == "/") return true;
  if (path.substr(0, mount_point.size()) != mount_point) return false;
  return path.size() == mount_point.size() || path[mount_point.size()] == '/';
}

}  // namespace

bool MountInfo::shared() const { return HasPrefixedField(optional_fields, "shared:"); }
bool MountInfo::slave() const { return HasPrefixedField(optional_fields, "master:"); }

std::vector<MountInfo> ParseMountInfo(std::string_view text) {
  std::vector<MountInfo> mounts;
  ForEachLine(text, [&](std::string_view line) {
    std::vector<std::string_view> w = Words(line);
    auto separator = std::find(w.begin(), w.end(), "-");
    if (w.size() < 6 || separator == w.end() || separator - w.begin() < 6) return;
    MountInfo m;
    m.mount_point = Unescape(w[4]);
    for (auto it = w.begin() + 6; it != separator; ++it) m.optional_fields.emplace_back(*it);
    mounts.push_back(std::move(m));
  });
  return mounts;
}

const MountInfo* MountHolding(const std::vector<MountInfo>& mounts, std::string_view path) {
  const MountInfo* best = nullptr;
  for (const auto& m : mounts) {
    if (Holds(m.mount_point, path) && (best == nullptr || m.mount_point.size() > best->mount_point.size())) best = &m;
  }
  return best;
}

}  // namespace kmps::kind
