// Sizes as Docker's --shm-size takes them: "8g", "512m", "64Mi", "1073741824".
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace kmps {

// Bytes. kInvalidArgument on anything else, zero, or more than 64 bits hold.
StatusOr<uint64_t> ParseSize(const std::string& text);

}  // namespace kmps
