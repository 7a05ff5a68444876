#include "common/status.h"

#include <gtest/gtest.h>

#include <csignal>

namespace kmps {
namespace {

TEST(StatusTest, ExitCodesFollowTheContract) {
  EXPECT_EQ(ExitCodeFor(Status::Ok()), 0);
  EXPECT_EQ(ExitCodeFor(InvalidArgument("x")), 2);
  EXPECT_EQ(ExitCodeFor(Unavailable("x")), 3);
  EXPECT_EQ(ExitCodeFor(Status(Code::kPermissionDenied, "x")), 3);
  EXPECT_EQ(ExitCodeFor(EnvironmentMissing("x")), 3);
  EXPECT_EQ(ExitCodeFor(NotFound("x")), 1);
  EXPECT_EQ(ExitCodeFor(DeadlineExceeded("x")), 1);
  EXPECT_EQ(ExitCodeFor(Failed("x")), 1);
}

TEST(StatusTest, AnInterruptionExitsAsTheSignalWouldHave) {
  Status s = Status::Interrupted(SIGINT, "stopped");
  EXPECT_EQ(s.code(), Code::kCancelled);
  EXPECT_EQ(s.signal(), SIGINT);
  EXPECT_EQ(ExitCodeFor(s), 1);  // the C ABI's code for KMPS_ERROR_CANCELLED
  EXPECT_EQ(ProcessExitCodeFor(s), 130);
  EXPECT_EQ(ProcessExitCodeFor(Status::Interrupted(SIGTERM, "stopped").WithContext("up")), 143);
  EXPECT_EQ(Status::Interrupted(SIGTERM, "stopped").WithContext("up").signal(), SIGTERM);
  EXPECT_EQ(ProcessExitCodeFor(Status(Code::kCancelled, "no signal")), 1);
  EXPECT_EQ(ProcessExitCodeFor(InvalidArgument("x")), 2);
  EXPECT_EQ(ProcessExitCodeFor(EnvironmentMissing("x")), 3);
}

StatusOr<int> Half(int v) {
  if (v % 2) return InvalidArgument("odd");
  return v / 2;
}

Status Chain(int v, int* out) {
  KMPS_ASSIGN_OR_RETURN(int h, Half(v));
  KMPS_ASSIGN_OR_RETURN(*out, Half(h));
  return Status::Ok();
}

TEST(StatusTest, AssignOrReturnPropagatesTheFirstError) {
  int out = 0;
  EXPECT_TRUE(Chain(8, &out).ok());
  EXPECT_EQ(out, 2);
  Status s = Chain(6, &out);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.WithContext("halving").message(), "halving: odd");
}

}  // namespace
}  // namespace kmps
