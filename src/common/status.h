// Status and StatusOr: errors are values (abseil style). Every Code maps to one of the CLI's
// documented exit codes through ExitCodeFor().
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace kmps {

enum class Code {
  kOk = 0,
  kInvalidArgument,    // usage error or invalid config                       -> exit 2
  kNotFound,           // container, exec, file, command not found            -> exit 1
  kConflict,           // container not running, paused, name in use          -> exit 1
  kBadRequest,         // the daemon rejected the request (HTTP 400)          -> exit 1
  kServerError,        // the daemon failed (HTTP 5xx)                        -> exit 1
  kUnavailable,        // Docker daemon unreachable (no socket, no listener)  -> exit 3
  kPermissionDenied,   // socket not accessible                               -> exit 3
  kDeadlineExceeded,   // an external call ran past its deadline              -> exit 1
  kProtocol,           // malformed HTTP, truncated stream, bad JSON          -> exit 1
  kEnvironment,        // missing kind binary, NVIDIA driver files, ...       -> exit 3
  kFailed,             // an operation failed / cluster unhealthy             -> exit 1
  kCancelled,          // interrupted (Ctrl-C)              -> exit 1; the CLI: 128+signal
};

std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  // kCancelled by signal `signo` (SIGINT, SIGTERM).
  static Status Interrupted(int signo, std::string message) {
    Status s(Code::kCancelled, std::move(message));
    s.signal_ = signo;
    return s;
  }

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // The signal that interrupted the operation (kCancelled); 0 when none did.
  int signal() const { return signal_; }

  // "message" for errors, "ok" for success.
  std::string ToString() const;

  // A copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  int signal_ = 0;
};

// The CLI's exit code for a status: 0 ok, 2 invalid argument, 3 environment missing
// (unreachable daemon, socket permission, missing tools or driver files), 1 otherwise.
int ExitCodeFor(const Status& status);

// The exit code of the kindmps-api process: ExitCodeFor(), except 128+N for an operation that
// signal N interrupted (130 after SIGINT, 143 after SIGTERM), as a shell reports a killed command.
int ProcessExitCodeFor(const Status& status);

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : status_(std::move(status)) { assert(!status_.ok()); }  // NOLINT
  StatusOr(T value) : value_(std::move(value)) {}                                // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

inline Status InvalidArgument(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
inline Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
inline Status Conflict(std::string m) { return Status(Code::kConflict, std::move(m)); }
inline Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
inline Status DeadlineExceeded(std::string m) { return Status(Code::kDeadlineExceeded, std::move(m)); }
inline Status ProtocolError(std::string m) { return Status(Code::kProtocol, std::move(m)); }
inline Status EnvironmentMissing(std::string m) { return Status(Code::kEnvironment, std::move(m)); }
inline Status Failed(std::string m) { return Status(Code::kFailed, std::move(m)); }

}  // namespace kmps

#define KMPS_CONCAT_INNER_(a, b) a##b
#define KMPS_CONCAT_(a, b) KMPS_CONCAT_INNER_(a, b)

#define KMPS_RETURN_IF_ERROR(expr)                 \
  do {                                             \
    ::kmps::Status kmps_status_ = (expr);          \
    if (!kmps_status_.ok()) return kmps_status_;   \
  } while (0)

#define KMPS_ASSIGN_OR_RETURN(lhs, expr) \
  KMPS_ASSIGN_OR_RETURN_IMPL_(KMPS_CONCAT_(kmps_statusor_, __LINE__), lhs, expr)
#define KMPS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
