#include "config/yaml_reader.h"

#include <algorithm>
#include <optional>

#include <fmt/core.h>
#include <fmt/format.h>

#include "common/number.h"
#include "common/text.h"

namespace kmps::config {
namespace {

bool IsDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string YamlNodeKind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Null: return "null";
    case YAML::NodeType::Scalar: return fmt::format("\"{}\"", n.Scalar());
    default: return "nothing";
  }
}

// At the start of a line, outside any block scalar of the top-level mapping (whose lines are
// indented), a marker is always one.
int SecondDocumentLine(std::string_view text) {
  bool content = false, ended = false;
  int number = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    std::string_view line = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto marker = [&](std::string_view m) {
      return line.substr(0, 3) == m && (line.size() == 3 || line[3] == ' ' || line[3] == '\t');
    };
    if (marker("---")) {
      if (content || ended) return number;
      content = !Trim(line.substr(3)).empty();  // "--- {a: 1}": the document starts on its line
      continue;
    }
    if (marker("...")) {
      ended = content;
      continue;
    }
    std::string_view body = Trim(line);
    if (body.empty() || body.front() == '#' || body.front() == '%') continue;
    if (ended) return number;
    content = true;
  }
  return 0;
}

StatusOr<YAML::Node> LoadYamlDocument(const std::string& text, const std::string& file, std::string_view what) {
  if (int line = SecondDocumentLine(text); line != 0) {
    return InvalidArgument(fmt::format("{}:{}:1: a second YAML document (after ---): {}", file, line, what));
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {  // a parser error, or the nesting too deep for yaml-cpp
    return InvalidArgument(fmt::format("{}:{}:{}: invalid YAML: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);  // an empty document: no keys
  return root;
}

Status YamlReader::Error(const YAML::Node& at, const std::string& message) const {
  YAML::Mark m = at.Mark();
  if (m.is_null()) return InvalidArgument(fmt::format("{}: {}", file_, message));
  return ErrorAt(m.line + 1, m.column + 1, message);
}

Status YamlReader::ErrorAt(int line, int column, const std::string& message) const {
  return InvalidArgument(fmt::format("{}:{}:{}: {}", file_, line, column, message));
}

Status YamlReader::ForEach(const YAML::Node& map, const std::string& where, const std::vector<std::string>& allowed,
                           const std::function<Status(const std::string&, const YAML::Node&)>& fn) const {
  if (!map.IsMap()) return Error(map, fmt::format("{}: expected a mapping, got {}", where, YamlNodeKind(map)));
  std::vector<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    YAML::Node key = it->first;  // copies: it-> yields a temporary
    YAML::Node value = it->second;
    if (!key.IsScalar()) return Error(key, fmt::format("{}: keys must be strings", where));
    std::string k = key.Scalar();
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      return Error(key, fmt::format("unknown key \"{}\" in {} (expected one of: {})", k, where,
                                    fmt::join(allowed, ", ")));
    }
    if (std::find(seen.begin(), seen.end(), k) != seen.end()) {
      return Error(key, fmt::format("duplicate key \"{}\" in {}", k, where));
    }
    seen.push_back(k);
    if (value.IsNull()) continue;  // "key:" with no value keeps the default
    KMPS_RETURN_IF_ERROR(fn(k, value));
  }
  return Status::Ok();
}

namespace {

// The first character of valid UTF-8 `s` that a string cannot carry into the kind config that
// kindmps-api writes and kind reads back (go-yaml) unchanged: DEL (yaml-cpp writes it unescaped,
// which go-yaml refuses), U+2028 and U+2029 (line breaks to go-yaml, which trims blanks around
// them) and the noncharacters (yaml-cpp writes U+FFFD for them).
std::optional<uint32_t> UnwritableCharacter(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceAt(s, i);
    const auto* b = reinterpret_cast<const unsigned char*>(s.data() + i);
    uint32_t c = n == 1   ? b[0]
                 : n == 2 ? (b[0] & 0x1Fu) << 6 | (b[1] & 0x3Fu)
                 : n == 3 ? (b[0] & 0x0Fu) << 12 | (b[1] & 0x3Fu) << 6 | (b[2] & 0x3Fu)
                          : (b[0] & 0x07u) << 18 | (b[1] & 0x3Fu) << 12 | (b[2] & 0x3Fu) << 6 | (b[3] & 0x3Fu);
    if (c == 0x7F || c == 0x2028 || c == 0x2029 || (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFEu) == 0xFFFEu) return c;
    i += n;
  }
  return std::nullopt;
}

}  // namespace

StatusOr<std::string> YamlReader::String(const YAML::Node& n, const std::string& what) const {
  if (!n.IsScalar()) return Error(n, fmt::format("{}: expected a string, got {}", what, YamlNodeKind(n)));
  if (!IsValidUtf8(n.Scalar())) return Error(n, fmt::format("{}: holds bytes that are not UTF-8", what));
  if (auto c = UnwritableCharacter(n.Scalar())) {
    return Error(n, fmt::format("{}: holds U+{:04X}, which kind's YAML reader would not read back as written (a "
                                "control character, a line separator or a noncharacter): remove it",
                                what, *c));
  }
  return n.Scalar();
}

StatusOr<std::string> YamlReader::AbsolutePath(const YAML::Node& n, const std::string& what) const {
  KMPS_ASSIGN_OR_RETURN(std::string s, String(n, what));
  if (s.empty() || s[0] != '/') return Error(n, fmt::format("{}: expected an absolute path, got \"{}\"", what, s));
  return s;
}

StatusOr<std::string> YamlReader::PlainScalar(const YAML::Node& n, const std::string& what,
                                              const std::string& expected) const {
  if (!n.IsScalar()) return Error(n, fmt::format("{}: expected {}, got {}", what, expected, YamlNodeKind(n)));
  if (n.Tag() == "!") {
    return Error(n, fmt::format("{}: expected {}, got the quoted string \"{}\"", what, expected, n.Scalar()));
  }
  return n.Scalar();
}

StatusOr<int64_t> YamlReader::Count(const YAML::Node& n, const std::string& what, int64_t max) const {
  std::string expected = "a non-negative integer";
  KMPS_ASSIGN_OR_RETURN(std::string s, PlainScalar(n, what, expected));
  if (s.empty() || !IsDigits(s)) return Error(n, fmt::format("{}: expected {}, got {}", what, expected, s));
  std::optional<uint64_t> value = ParseCount(s, static_cast<uint64_t>(max));
  if (!value) return Error(n, fmt::format("{}: expected at most {}, got {}", what, max, s));
  return static_cast<int64_t>(*value);
}

StatusOr<bool> YamlReader::Bool(const YAML::Node& n, const std::string& what) const {
  KMPS_ASSIGN_OR_RETURN(std::string s, PlainScalar(n, what, "true or false"));
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return Error(n, fmt::format("{}: expected true or false, got {}", what, s));
}

StatusOr<double> YamlReader::Number(const YAML::Node& n, const std::string& what, double max) const {
  KMPS_ASSIGN_OR_RETURN(std::string s, PlainScalar(n, what, "a number"));
  std::optional<double> value = ParseDecimal(s, max);
  if (!value) return Error(n, fmt::format("{}: expected a number from 0 to {}, got {}", what, max, s));
  return *value;
}

StatusOr<std::vector<std::string>> YamlReader::Strings(const YAML::Node& n, const std::string& what) const {
  if (!n.IsSequence()) return Error(n, fmt::format("{}: expected a list of strings, got {}", what, YamlNodeKind(n)));
  std::vector<std::string> out;
  for (size_t i = 0; i < n.size(); ++i) {
    KMPS_ASSIGN_OR_RETURN(std::string s, String(n[i], fmt::format("{}[{}]", what, i)));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace kmps::config
