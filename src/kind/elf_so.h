// Reads the SONAME of an ELF shared object, checking that the file is one the x86-64 loader
// would load: ELF magic, ELFCLASS64, little-endian, EM_X86_64, ET_DYN, a dynamic section.
// Reads only the headers (libcuda is ~100 MB), every offset bounds-checked.
#pragma once

#include <string>

#include "common/status.h"

namespace kmps::kind {

// The DT_SONAME of `path`. kFailed "<path> is not an ELF shared object (...why...)" otherwise;
// kNotFound when it cannot be opened.
StatusOr<std::string> ReadElfSoname(const std::string& path);

}  // namespace kmps::kind
