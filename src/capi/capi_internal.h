// Shared by the C ABI's translation units: the thread's last error, the exception barrier that
// every exported function runs its body in, and malloc'd string copies for kmps_free().
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "kindmps.h"

namespace kmps::capi {

// The error kind of a Status code.
kmps_error_kind KindFor(Code code);

// Records `status` as the calling thread's last error; returns its KMPS_ code (0 for ok).
int SetError(const Status& status);
// KMPS_ERR_INVALID naming the argument: "kmps_cluster_up: argument `client` must not be NULL".
int NullArgument(const char* function, const char* argument);
void ClearError();
int SetInternalError(const char* function, std::string_view what) noexcept;

// malloc'd, NUL-terminated copy (kmps_free() releases it). Throws std::bad_alloc when out of
// memory, which the barrier turns into KMPS_ERR_FAILED.
char* CopyString(std::string_view text);

// Runs `body(function)` (returning an int code) with the last error cleared first; no exception
// escapes. `function` is the exported function's name, for messages.
template <typename Body>
int Barrier(const char* function, Body&& body) noexcept {
  ClearError();
  try {
    return body(function);
  } catch (const std::exception& e) {
    return SetInternalError(function, e.what());
  } catch (...) {
    return SetInternalError(function, "unknown exception");
  }
}

// "" or NULL -> empty string.
inline std::string OrEmpty(const char* s) { return s ? std::string(s) : std::string(); }

}  // namespace kmps::capi
