// Flows as lists of named steps (kind's create actions): each step reports its start and end,
// the totals come from the list, and the flow stops at the first failure.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace kmps::cluster {

struct ProgressEvent {
  enum class Kind { kStepStarted, kStepDone, kStepFailed, kLine };
  Kind kind = Kind::kLine;
  int step = 0;   // 1-based; 0 for kLine
  int total = 0;
  std::string title;   // the step's title
  std::string detail;  // a result, an error, or one line of kind's output
  double elapsed_ms = 0;
};
// Called on the thread that runs the flow, one event at a time.
using ProgressFn = std::function<void(const ProgressEvent&)>;

struct Step {
  std::string title;
  // Does the work; may set `detail` (shown when the step is done).
  std::function<Status(std::string& detail)> run;
  // When set and true for the step's failure (reported as failed all the same), the flow goes on
  // and the failure is not its result.
  std::function<bool(const Status&)> keep_going = nullptr;
};

class StepRunner {
 public:
  explicit StepRunner(ProgressFn progress) : progress_(std::move(progress)) {}
  // Runs `steps` in order and returns the first failure (the later steps do not run), but for a
  // failure its step's keep_going accepts. A signal an InterruptWatch recorded (common/
  // interrupt.h) stops the flow before its next step: kCancelled with the signal, "interrupted
  // (SIGINT) after <step>: <the hint>" (or "before any step").
  Status Run(const std::vector<Step>& steps);
  // What an interruption's message says is left, and what to do: set as the flow goes.
  void SetInterruptHint(std::string hint) { interrupt_hint_ = std::move(hint); }
  // One line of output during the running step (kind's, a node's note).
  void Line(const std::string& text);

 private:
  void Emit(const ProgressEvent& e) const {
    if (progress_) progress_(e);
  }
  ProgressFn progress_;
  int total_ = 0;
  std::string interrupt_hint_ = "nothing was changed";
};

}  // namespace kmps::cluster
