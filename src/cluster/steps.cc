#include "cluster/steps.h"

#include <chrono>

namespace kmps::cluster {

Status StepRunner::Run(const std::vector<Step>& steps) {
  total_ = static_cast<int>(steps.size());
  int n = 0;
  for (const Step& step : steps) {
    ++n;
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
