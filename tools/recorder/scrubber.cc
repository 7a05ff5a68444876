#include "recorder/scrubber.h"

#include <cstdio>

namespace kmps::testing {
namespace {

bool IsHexLower(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool IsWordChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Calls fn(pos) for each maximal run of exactly `len` lowercase hex digits bounded by
// non-alphanumerics; fn returns the replacement (same length) or "" to keep it.
template <typename Fn>
std::string ReplaceHexTokens(std::string_view text, std::size_t len, Fn fn) {
  std::string out(text);
  std::size_t i = 0;
  while (i < out.size()) {
    if (!IsHexLower(out[i]) || (i > 0 && IsWordChar(out[i - 1]))) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < out.size() && IsHexLower(out[j])) ++j;
    bool bounded = j == out.size() || !IsWordChar(out[j]);
    if (j - i == len && bounded) {
      std::string repl = fn(out.substr(i, len));
      if (!repl.empty()) out.replace(i, len, repl);
    }
    i = j;
  }
  return out;
}

}  // namespace

Status Scrubber::AddReplacement(std::string from, std::string to) {
  if (from.empty() || from.size() != to.size()) {
    return InvalidArgument("scrub replacement must keep the length: '" + from + "' -> '" + to + "'");
  }
  replacements_.emplace_back(std::move(from), std::move(to));
  return Status::Ok();
}

std::string Scrubber::FakeId(std::size_t n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%012zx", n);
  return std::string(buf) + std::string(52, '0');
}

std::string Scrubber::FakeFor(const std::string& id) {
  if (auto it = ids_.find(id); it != ids_.end()) return it->second;
  for (const auto& [real, fake] : ids_) {
    if (fake == id) return id;  // already scrubbed
  }
  std::string fake = FakeId(ids_.size() + 1);
  ids_[id] = fake;
  short_ids_[id.substr(0, 12)] = fake.substr(0, 12);
  return fake;
}

std::string Scrubber::Scrub(std::string_view text) {
  std::string out = ReplaceHexTokens(text, 64, [this](const std::string& id) { return FakeFor(id); });
  out = ReplaceHexTokens(out, 12, [this](const std::string& s) -> std::string {
    auto it = short_ids_.find(s);
    return it == short_ids_.end() ? "" : it->second;
  });
  for (const auto& [from, to] : replacements_) {
    for (std::size_t pos = out.find(from); pos != std::string::npos; pos = out.find(from, pos + to.size())) {
      out.replace(pos, from.size(), to);
    }
  }
  return out;
}

std::string Scrubber::ScrubResponse(std::string_view raw) {
  std::string out = Scrub(raw);
  std::size_t head_end = out.find("\r\n\r\n");
  if (head_end == std::string::npos) return out;
  constexpr std::string_view kDate = "\r\nDate: ";
  for (std::size_t pos = out.find(kDate); pos != std::string::npos && pos < head_end;
       pos = out.find(kDate, pos + 2)) {
    std::size_t value = pos + kDate.size();
    std::size_t eol = out.find("\r\n", value);
    if (eol - value == kFixedDate.size()) out.replace(value, kFixedDate.size(), kFixedDate);
  }
  return out;
}

}  // namespace kmps::testing
