#include "common/status.h"

namespace kmps {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid argument";
    case Code::kNotFound: return "not found";
    case Code::kConflict: return "conflict";
    case Code::kBadRequest: return "bad request";
    case Code::kServerError: return "server error";
    case Code::kUnavailable: return "unavailable";
    case Code::kPermissionDenied: return "permission denied";
    case Code::kDeadlineExceeded: return "deadline exceeded";
    case Code::kProtocol: return "protocol error";
    case Code::kEnvironment: return "environment missing";
    case Code::kFailed: return "failed";
    case Code::kCancelled: return "cancelled";
  }
  return "unknown";
}

std::string Status::ToString() const { return ok() ? std::string("ok") : message_; }

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  Status s = *this;
  s.message_ = std::string(context) + ": " + message_;
  return s;
}

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case Code::kOk: return 0;
    case Code::kInvalidArgument: return 2;
    case Code::kUnavailable:
    case Code::kPermissionDenied:
    case Code::kEnvironment: return 3;
    default: return 1;
  }
}

int ProcessExitCodeFor(const Status& status) {
  if (status.code() == Code::kCancelled && status.signal() > 0) return 128 + status.signal();
  return ExitCodeFor(status);
}

}  // namespace kmps
