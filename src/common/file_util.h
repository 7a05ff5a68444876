// Writing files so that a reader never sees half of one.
#pragma once

#include <string>

#include "common/status.h"

namespace kmps {

// Writes `text` to `path` through a temporary file beside it, renamed over `path`. kFailed naming
// the file on any error; the temporary file is removed.
Status WriteFileAtomically(const std::string& path, const std::string& text);

}  // namespace kmps
