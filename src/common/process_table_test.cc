#include "common/process_table.h"

#include <gtest/gtest.h>

namespace kmps {
namespace {

TEST(ProcessTable, FindsColumnsAndEitherCommandTitle) {
  ProcessTable t{{"PID", "PPID", "CMD"}, {}};
  EXPECT_EQ(t.Column("PID"), 0);
  EXPECT_EQ(t.Column("COMMAND"), 2);
  EXPECT_EQ(t.Column("CMD"), 2);
  EXPECT_EQ(t.Column("STAT"), -1);
}

}  // namespace
}  // namespace kmps
