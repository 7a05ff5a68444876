// The library directories of a root's etc/ld.so.conf, as ldconfig reads them: comments, `include`
// globs (relative ones relative to the including file's directory), `hwcap` lines ignored.
#pragma once

#include <string>
#include <vector>

namespace kmps::kind {

struct LdConfDirs {
  std::vector<std::string> dirs;      // absolute paths inside the root, in order, no duplicates
  std::vector<std::string> warnings;  // unreadable files, include loops
};

// Parses one file's text: its directories and its include patterns (resolved against `file`'s
// directory when relative), in order. Pure.
struct LdConfLine {
  bool include = false;
  std::string value;  // a directory, or an include pattern
};
std::vector<LdConfLine> ParseLdSoConf(const std::string& text, const std::string& file);

// Reads <root>/etc/ld.so.conf and everything it includes. A missing ld.so.conf yields nothing.
LdConfDirs ReadLdSoConfDirs(const std::string& root);

// The directories the loader always searches last, inside the root, in order.
const std::vector<std::string>& StandardLibraryDirs();

}  // namespace kmps::kind
