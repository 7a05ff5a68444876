#include "cluster/steps.h"

#include <chrono>

#include <fmt/core.h>

#include "common/interrupt.h"
#include "kind/kind_runner.h"

namespace kmps::cluster {

Status StepRunner::Run(const std::vector<Step>& steps) {
  total_ = static_cast<int>(steps.size());
  int n = 0;
  std::string last = "before any step";
  for (const Step& step : steps) {
    if (int signo = InterruptSignal(); signo != 0) {
      return Status::Interrupted(signo,
                                 fmt::format("interrupted ({}) {}: {}", kind::SignalName(signo), last, interrupt_hint_));
    }
    ++n;
    last = fmt::format("after step {}/{} ({})", n, total_, step.title);
    Emit({ProgressEvent::Kind::kStepStarted, n, total_, step.title, "", 0});
    auto t0 = std::chrono::steady_clock::now();
    std::string detail;
    Status s = step.run(detail);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    Emit({s.ok() ? ProgressEvent::Kind::kStepDone : ProgressEvent::Kind::kStepFailed, n, total_, step.title,
          s.ok() ? detail : s.message(), ms});
    if (!s.ok() && !(step.keep_going && step.keep_going(s))) return s;
  }
  return Status::Ok();
}

void StepRunner::Line(const std::string& text) { Emit({ProgressEvent::Kind::kLine, 0, total_, "", text, 0}); }

}  // namespace kmps::cluster
