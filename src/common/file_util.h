// Reading and writing the small files kindmps-api keeps (kindmps.yaml, the state file): strictly,
// and so that a reader never sees half of one.
#pragma once

#include <cstddef>
#include <string>

#include "common/status.h"

namespace kmps {

// Writes `text` to `path` through a temporary file beside it, flushed to disk and renamed over
// `path`. kFailed naming the file and the errno text on any error; the temporary file is removed.
Status WriteFileAtomically(const std::string& path, const std::string& text);

// The whole of `path`, which must be a regular file of at most `max_bytes` (a link to one is
// followed). It is opened without blocking, so a FIFO there never hangs the caller, and its size
// is checked before anything is read. kNotFound when nothing is at `path`; else every failure is
// kInvalidArgument "<path>: <why>": a directory, a dangling symbolic link, a FIFO, socket or
// device, larger than max_bytes, or an open or read that failed (with its errno text).
StatusOr<std::string> ReadRegularFile(const std::string& path, size_t max_bytes);

}  // namespace kmps
