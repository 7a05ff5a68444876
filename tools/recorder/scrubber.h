// Makes recorded exchanges stable across recordings: 64-hex IDs (containers, execs, images)
// become deterministic fakes, their 12-hex short forms follow, `Date:` headers get a fixed date,
// and caller-given strings are replaced. Every replacement keeps the length, so Content-Length
// and chunk sizes stay correct.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kmps::testing {

inline constexpr std::string_view kFixedDate = "Thu, 01 Jan 2026 00:00:00 GMT";

class Scrubber {
 public:
  // Adds a replacement; `from` and `to` must have the same non-zero length.
  Status AddReplacement(std::string from, std::string to);

  // Scrubs request or body text: IDs and replacements.
  std::string Scrub(std::string_view text);
  // Scrubs a raw HTTP response: as Scrub(), plus the Date header of its head.
  std::string ScrubResponse(std::string_view raw);

  // The fake for the n-th distinct ID (1-based): n as 12 hex digits, then 52 zeros, so both the
  // full ID and its 12-character short form are unique.
  static std::string FakeId(std::size_t n);
  std::size_t ids_seen() const { return ids_.size(); }

 private:
  std::string FakeFor(const std::string& id);
  std::map<std::string, std::string> ids_;  // real -> fake
  std::map<std::string, std::string> short_ids_;
  std::vector<std::pair<std::string, std::string>> replacements_;
};

}  // namespace kmps::testing
