// Last error per thread, kmps_version_string, kmps_free.
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include <fmt/core.h>

#include "capi/capi_internal.h"
#include "kindmps.h"

namespace kmps::capi {
namespace {

struct LastError {
  std::string text;
  kmps_error_kind kind = KMPS_ERROR_NONE;
};

LastError& Last() {
  thread_local LastError last;
  return last;
}

}  // namespace

kmps_error_kind KindFor(Code code) {
  switch (code) {
    case Code::kOk: return KMPS_ERROR_NONE;
    case Code::kInvalidArgument: return KMPS_ERROR_INVALID_ARGUMENT;
    case Code::kNotFound: return KMPS_ERROR_NOT_FOUND;
    case Code::kConflict: return KMPS_ERROR_CONFLICT;
    case Code::kBadRequest: return KMPS_ERROR_BAD_REQUEST;
    case Code::kServerError: return KMPS_ERROR_SERVER;
    case Code::kUnavailable: return KMPS_ERROR_UNAVAILABLE;
    case Code::kPermissionDenied: return KMPS_ERROR_PERMISSION;
    case Code::kDeadlineExceeded: return KMPS_ERROR_TIMEOUT;
    case Code::kProtocol: return KMPS_ERROR_PROTOCOL;
    case Code::kEnvironment: return KMPS_ERROR_ENVIRONMENT;
    case Code::kFailed: return KMPS_ERROR_FAILED;
    case Code::kCancelled: return KMPS_ERROR_CANCELLED;
  }
  return KMPS_ERROR_INTERNAL;
}

int SetError(const Status& status) {
  LastError& last = Last();
  if (status.ok()) {
    last.text.clear();
    last.kind = KMPS_ERROR_NONE;
    return KMPS_OK;
  }
  last.text = status.message();
  last.kind = KindFor(status.code());
  return ExitCodeFor(status);
}

int NullArgument(const char* function, const char* argument) {
  return SetError(InvalidArgument(fmt::format("{}: argument `{}` must not be NULL", function, argument)));
}

void ClearError() {
  LastError& last = Last();
  last.text.clear();
  last.kind = KMPS_ERROR_NONE;
}

int SetInternalError(const char* function, std::string_view what) noexcept {
  LastError& last = Last();
  try {
    last.text = fmt::format("{}: internal error: {}", function, what);
  } catch (...) {
    last.text.clear();  // out of memory: the kind still tells
  }
  last.kind = KMPS_ERROR_INTERNAL;
  return KMPS_ERR_FAILED;
}

char* CopyString(std::string_view text) {
  char* p = static_cast<char*>(std::malloc(text.size() + 1));
  if (p == nullptr) throw std::bad_alloc();
  if (!text.empty()) std::memcpy(p, text.data(), text.size());
  p[text.size()] = '\0';
  return p;
}

}  // namespace kmps::capi

extern "C" {

const char* kmps_last_error(void) { return kmps::capi::Last().text.c_str(); }

int kmps_last_error_kind(void) { return kmps::capi::Last().kind; }

const char* kmps_error_kind_name(int kind) {
  switch (kind) {
    case KMPS_ERROR_NONE: return "none";
    case KMPS_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case KMPS_ERROR_NOT_FOUND: return "not found";
    case KMPS_ERROR_CONFLICT: return "conflict";
    case KMPS_ERROR_BAD_REQUEST: return "bad request";
    case KMPS_ERROR_SERVER: return "server error";
    case KMPS_ERROR_UNAVAILABLE: return "unavailable";
    case KMPS_ERROR_PERMISSION: return "permission denied";
    case KMPS_ERROR_TIMEOUT: return "timeout";
    case KMPS_ERROR_PROTOCOL: return "protocol error";
    case KMPS_ERROR_ENVIRONMENT: return "environment missing";
    case KMPS_ERROR_FAILED: return "failed";
    case KMPS_ERROR_CANCELLED: return "cancelled";
    case KMPS_ERROR_INTERNAL: return "internal error";
    default: return "unknown";
  }
}

const char* kmps_version_string(void) { return KMPS_VERSION; }

void kmps_free(void* p) { std::free(p); }

}  // extern "C"
