#include "pod/yaml_text.h"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/core.h>

namespace kmps::pod {
namespace {

bool SafePlainChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '_' || c == '-';
}

// Words YAML 1.1 parsers (and so Kubernetes' YAML) read as booleans or null.
bool SpecialWord(std::string_view s) {
  static constexpr std::array<std::string_view, 11> kWords = {"y", "n", "yes", "no", "on", "off", "true", "false",
                                                              "null", "~", ""};
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::find(kWords.begin(), kWords.end(), lower) != kWords.end();
}

}  // namespace

std::string YamlScalar(std::string_view s) {
  bool plain = !s.empty() && (std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '/') &&
               std::all_of(s.begin(), s.end(), SafePlainChar) && !SpecialWord(s);
  if (plain) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string IndentRest(std::string_view text, size_t spaces) {
  std::string out;
  std::string pad(spaces, ' ');
  size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    end = end == std::string_view::npos ? text.size() : end + 1;
    if (!first && text[pos] != '\n') out += pad;
    out.append(text.substr(pos, end - pos));
    first = false;
    pos = end;
  }
  return out;
}

std::string IndentAll(std::string_view text, size_t spaces) {
  if (text.empty()) return "";
  return (text[0] == '\n' ? "" : std::string(spaces, ' ')) + IndentRest(text, spaces);
}

std::string Entry(std::string_view key, std::string_view value_text) {
  return fmt::format("{}: {}\n", key, value_text);
}

std::string Section(std::string_view key, std::string_view body) { return fmt::format("{}:\n{}", key, IndentAll(body, 2)); }

std::string EnvItem(const EnvVar& e) {
  return "- " + IndentRest(Entry("name", YamlScalar(e.name)) + Entry("value", YamlScalar(e.value)), 2);
}

std::string VolumeItem(const HostPathVolume& v) {
  return "- " + IndentRest(Entry("name", YamlScalar(v.name)) +
                               Section("hostPath", Entry("path", YamlScalar(v.path)) + Entry("type", YamlScalar(v.type))),
                           2);
}

std::string MountItem(const VolumeMount& m) {
  std::string body = Entry("name", YamlScalar(m.name)) + Entry("mountPath", YamlScalar(m.mount_path));
  if (m.read_only) body += Entry("readOnly", "true");
  return "- " + IndentRest(body, 2);
}

std::string Entries(const std::vector<KeyValue>& pairs) {
  std::string out;
  for (const auto& p : pairs) out += Entry(YamlScalar(p.key), YamlScalar(p.value));
  return out;
}

}  // namespace kmps::pod
