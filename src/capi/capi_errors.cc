// Last error per thread, kmps_version_string, kmps_free.
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <new>
#include <optional>
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

// The one table of error kinds: each kind, its name (kmps_error_kind_name) and the Status code it
// comes from. The bindings take the names from kmps_error_kind_name, and their tests check their
// own tables against it; docs/c-api.md lists them.
struct KindEntry {
  kmps_error_kind kind;
  const char* name;
  std::optional<Code> code;  // none for KMPS_ERROR_INTERNAL (no Status has it)
};
constexpr KindEntry kKinds[] = {
    {KMPS_ERROR_NONE, "none", Code::kOk},
    {KMPS_ERROR_INVALID_ARGUMENT, "invalid argument", Code::kInvalidArgument},
    {KMPS_ERROR_NOT_FOUND, "not found", Code::kNotFound},
    {KMPS_ERROR_CONFLICT, "conflict", Code::kConflict},
    {KMPS_ERROR_BAD_REQUEST, "bad request", Code::kBadRequest},
    {KMPS_ERROR_SERVER, "server error", Code::kServerError},
    {KMPS_ERROR_UNAVAILABLE, "unavailable", Code::kUnavailable},
    {KMPS_ERROR_PERMISSION, "permission denied", Code::kPermissionDenied},
    {KMPS_ERROR_TIMEOUT, "timeout", Code::kDeadlineExceeded},
    {KMPS_ERROR_PROTOCOL, "protocol error", Code::kProtocol},
    {KMPS_ERROR_ENVIRONMENT, "environment missing", Code::kEnvironment},
    {KMPS_ERROR_FAILED, "failed", Code::kFailed},
    {KMPS_ERROR_CANCELLED, "cancelled", Code::kCancelled},
    {KMPS_ERROR_INTERNAL, "internal error", std::nullopt},
};
// Every Code (kOk..kCancelled) has a row, and so has KMPS_ERROR_INTERNAL.
static_assert(std::size(kKinds) == static_cast<std::size_t>(Code::kCancelled) + 2);

}  // namespace

kmps_error_kind KindFor(Code code) {
  for (const KindEntry& e : kKinds) {
    if (e.code == code) return e.kind;
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
  for (const kmps::capi::KindEntry& e : kmps::capi::kKinds) {
    if (e.kind == kind) return e.name;
  }
  return "unknown";
}

const char* kmps_version_string(void) { return KMPS_VERSION; }

void kmps_free(void* p) { std::free(p); }

}  // extern "C"
