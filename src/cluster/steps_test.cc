#include "cluster/steps.h"

#include <gtest/gtest.h>

namespace kmps::cluster {
namespace {

TEST(StepRunner, TotalsComeFromTheListAndTheFirstFailureStopsIt) {
  std::vector<ProgressEvent> events;
  StepRunner runner([&](const ProgressEvent& e) { events.push_back(e); });
  bool third_ran = false;
  Status s = runner.Run({
      {"one", [](std::string& detail) { detail = "fine"; return Status::Ok(); }},
      {"two", [&](std::string&) { runner.Line("a line"); return Failed("broke"); }},
      {"three", [&](std::string&) { third_ran = true; return Status::Ok(); }},
  });
  EXPECT_EQ(s.message(), "broke");
  EXPECT_FALSE(third_ran);
  ASSERT_EQ(events.size(), 5u);
  using K = ProgressEvent::Kind;
  EXPECT_EQ(events[0].kind, K::kStepStarted);
  EXPECT_EQ(events[0].total, 3);
  EXPECT_EQ(events[1].kind, K::kStepDone);
  EXPECT_EQ(events[1].detail, "fine");
  EXPECT_EQ(events[2].step, 2);
  EXPECT_EQ(events[3].kind, K::kLine);
  EXPECT_EQ(events[3].detail, "a line");
  EXPECT_EQ(events[4].kind, K::kStepFailed);
  EXPECT_EQ(events[4].title, "two");
  EXPECT_EQ(events[4].detail, "broke");
}

TEST(StepRunner, AFailureItsStepAcceptsIsReportedAndTheFlowGoesOn) {
  std::vector<ProgressEvent> events;
  StepRunner runner([&](const ProgressEvent& e) { events.push_back(e); });
  bool second_ran = false;
  Status seen = Status::Ok();
  Step first{"first", [](std::string&) { return Failed("would not quit"); }};
  first.keep_going = [&](const Status& s) {
    seen = s;
    return true;
  };
  Status s = runner.Run({first, {"second", [&](std::string&) { second_ran = true; return Status::Ok(); }}});
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(second_ran);
  EXPECT_EQ(seen.message(), "would not quit");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1].kind, ProgressEvent::Kind::kStepFailed);  // still reported as failed
  EXPECT_EQ(events[1].detail, "would not quit");
  // A step that does not accept its failure ends the flow there.
  Step strict{"strict", [](std::string&) { return Failed("no"); }};
  strict.keep_going = [](const Status&) { return false; };
  EXPECT_EQ(runner.Run({strict, {"never", [](std::string&) { return Failed("ran"); }}}).message(), "no");
}

TEST(StepRunner, RunsWithoutAProgressCallback) {
  StepRunner runner(nullptr);
  EXPECT_TRUE(runner.Run({{"only", [](std::string&) { return Status::Ok(); }}}).ok());
}

}  // namespace
}  // namespace kmps::cluster
