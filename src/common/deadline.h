// A point in time by which an external call must finish. Every call to Docker, kind or MPS
// carries one.
#pragma once

#include <algorithm>
#include <chrono>

namespace kmps {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  static Deadline In(std::chrono::milliseconds d) { return Deadline(Clock::now() + d); }
  static Deadline At(Clock::time_point t) { return Deadline(t); }

  Clock::time_point when() const { return at_; }
  bool Expired() const { return Clock::now() >= at_; }
  // Time left, never negative.
  std::chrono::milliseconds Remaining() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(at_ - Clock::now());
    return std::max(left, std::chrono::milliseconds(0));
  }
  // The earlier of this deadline and `d` from now.
  Deadline Cap(std::chrono::milliseconds d) const { return Deadline(std::min(at_, Clock::now() + d)); }

 private:
  explicit Deadline(Clock::time_point at) : at_(at) {}
  Clock::time_point at_;
};

}  // namespace kmps
