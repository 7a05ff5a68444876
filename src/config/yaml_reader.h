// Strict reading of one YAML document, for kindmps.yaml and for a user's own kind config: every
// error is one line, "file:line:column: what was expected"; unknown and duplicate keys, strings
// that are not UTF-8, quoted numbers and a second document are refused.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/status.h"

namespace kmps::config {

// "a mapping", "a list", "null", "\"text\"": what a node is, for messages.
std::string YamlNodeKind(const YAML::Node& n);

// The 1-based line where a second YAML document begins: a "---" (or "..." then more) at the
// start of a line once the first document has content; 0 when there is none.
int SecondDocumentLine(std::string_view text);

// One document of `text` (named `file`): a second document is an error at its first line (found
// by its marker, not by YAML::LoadAll, which loops for ever on a stray "," in yaml-cpp 0.7,
// jbeder/yaml-cpp#1040); a parser error is "file:line:column: invalid YAML: ...". An empty
// document is an empty mapping.
StatusOr<YAML::Node> LoadYamlDocument(const std::string& text, const std::string& file,
                                      std::string_view what = "a kindmps.yaml holds one config");

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }
  Status Error(const YAML::Node& at, const std::string& message) const;
  // At a 1-based line and column.
  Status ErrorAt(int line, int column, const std::string& message) const;

  // Walks a mapping; rejects non-mappings, unknown and duplicate keys. A key with no value keeps
  // the default (fn is not called).
  Status ForEach(const YAML::Node& map, const std::string& where, const std::vector<std::string>& allowed,
                 const std::function<Status(const std::string&, const YAML::Node&)>& fn) const;

  // UTF-8 only: the state file and the Docker API carry JSON, which holds nothing else; and no
  // character that the kind config written from it would not carry to kind unchanged (DEL, U+2028,
  // U+2029, noncharacters).
  StatusOr<std::string> String(const YAML::Node& n, const std::string& what) const;
  StatusOr<std::string> AbsolutePath(const YAML::Node& n, const std::string& what) const;
  // Plain (unquoted) scalars only: "3" in quotes is a string, not a number.
  StatusOr<std::string> PlainScalar(const YAML::Node& n, const std::string& what, const std::string& expected) const;
  // Digits only (ParseCount): no sign, exponent or fraction.
  StatusOr<int64_t> Count(const YAML::Node& n, const std::string& what, int64_t max) const;
  StatusOr<bool> Bool(const YAML::Node& n, const std::string& what) const;
  // A decimal up to `max` (ParseDecimal): no sign, exponent, NaN or infinity.
  StatusOr<double> Number(const YAML::Node& n, const std::string& what, double max) const;
  StatusOr<std::vector<std::string>> Strings(const YAML::Node& n, const std::string& what) const;

 private:
  std::string file_;
};

}  // namespace kmps::config
