#include "kind/ld_conf.h"

#include <glob.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include "common/text.h"
#include "kind/root_fs.h"

namespace kmps::kind {
namespace {

constexpr int kMaxIncludeDepth = 16;

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

void ReadFile(const std::string& root, const std::string& inside, int depth, LdConfDirs& out,
              std::vector<std::string>& seen_files) {
  if (depth > kMaxIncludeDepth) {
    out.warnings.push_back(fmt::format("{}: includes nested too deep", HostPath(root, inside)));
    return;
  }
  if (std::find(seen_files.begin(), seen_files.end(), inside) != seen_files.end()) return;
  seen_files.push_back(inside);
  std::ifstream in(HostPath(root, inside));
  if (!in) {
    if (depth > 0) out.warnings.push_back(fmt::format("{}: cannot read", HostPath(root, inside)));
    return;
  }
  std::stringstream text;
  text << in.rdbuf();
  for (const auto& line : ParseLdSoConf(text.str(), inside)) {
    if (!line.include) {
      if (std::find(out.dirs.begin(), out.dirs.end(), line.value) == out.dirs.end()) {
        out.dirs.push_back(line.value);
      }
      continue;
    }
    glob_t g{};
    std::string pattern = HostPath(root, line.value);
    if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
      std::vector<std::string> files(g.gl_pathv, g.gl_pathv + g.gl_pathc);
      std::sort(files.begin(), files.end());
      for (const auto& f : files) ReadFile(root, InsidePath(root, f), depth + 1, out, seen_files);
    }
    globfree(&g);
  }
}

}  // namespace

std::vector<LdConfLine> ParseLdSoConf(const std::string& text, const std::string& file) {
  std::vector<LdConfLine> out;
  std::istringstream in(text);
  std::string raw;
  while (std::getline(in, raw)) {
    std::string line = raw.substr(0, raw.find('#'));
    line = std::string(Trim(line));
    if (line.empty()) continue;
    auto keyword = [&](const char* word) {
      size_t n = std::char_traits<char>::length(word);
      return line.size() > n && line.compare(0, n, word) == 0 && (line[n] == ' ' || line[n] == '\t');
    };
    if (keyword("include")) {
      std::istringstream patterns(line.substr(7));
      std::string pattern;
      while (patterns >> pattern) {
        if (pattern[0] != '/') pattern = DirName(file) + "/" + pattern;
        out.push_back({true, pattern});
      }
      continue;
    }
    if (keyword("hwcap")) continue;
    // Legacy "dir=TYPE" lines: the type is ignored.
    std::string dir(Trim(std::string_view(line).substr(0, line.find('='))));
    if (dir.empty() || dir[0] != '/') continue;  // ldconfig ignores relative dirs too
    out.push_back({false, NormalizePath(dir)});
  }
  return out;
}

LdConfDirs ReadLdSoConfDirs(const std::string& root) {
  LdConfDirs out;
  std::vector<std::string> seen;
  ReadFile(root, "/etc/ld.so.conf", 0, out, seen);
  return out;
}

const std::vector<std::string>& StandardLibraryDirs() {
  static const std::vector<std::string> dirs = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
                                                "/lib64", "/usr/lib64", "/lib", "/usr/lib"};
  return dirs;
}

}  // namespace kmps::kind
