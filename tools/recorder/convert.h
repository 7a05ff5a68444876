// Converts the probe's JSON Lines exchange log (label, method, path, request_body_b64, status,
// response_raw_b64, elapsed_ms, request_body_omitted_bytes) into a cassette.
#pragma once

#include <string_view>

#include "common/status.h"
#include "support/cassette.h"

namespace kmps::testing {

StatusOr<Cassette> ConvertExchangeLog(std::string_view jsonl, std::string_view origin);

}  // namespace kmps::testing
