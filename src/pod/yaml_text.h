// YAML text for what kindmps-api adds to a Pod, written by hand so that the manifest generator
// and the patcher write the same lines: block style, two-space indentation, each snippet ending
// in '\n' and starting at column 0 (the caller indents it where it goes).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pod/mps_access.h"

namespace kmps::pod {

// `s` as a scalar that reads back as the same string: plain when that is safe (letters, digits,
// '/', '.', '_', '-', starting with a letter or '/', and no word YAML 1.1 reads as a boolean or
// null), else double-quoted with escapes (\" \\ \n \t \r \xNN).
std::string YamlScalar(std::string_view s);

// `text` with `spaces` spaces before each line but the first (the first goes where the cursor is).
std::string IndentRest(std::string_view text, size_t spaces);
// `text` with `spaces` spaces before each non-empty line.
std::string IndentAll(std::string_view text, size_t spaces);

// "key: value\n" (the value as given: already a scalar's text).
std::string Entry(std::string_view key, std::string_view value_text);
// "key:\n" and `body` two spaces in.
std::string Section(std::string_view key, std::string_view body);

// One sequence item each: "- name: N\n  value: V\n" and the like.
std::string EnvItem(const EnvVar& e);
std::string VolumeItem(const HostPathVolume& v);
std::string MountItem(const VolumeMount& m);

// Entries "key: value\n" for each pair, values as YamlScalar.
std::string Entries(const std::vector<KeyValue>& pairs);

}  // namespace kmps::pod
