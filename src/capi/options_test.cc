#include "capi/options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kmps::capi {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(CapiOptions, InvalidJsonNamesLineAndColumn) {
  auto s = CheckJsonObject("{\n  \"name\": \"a\",\n  \"workers\": ]\n}");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_THAT(s.message(), StartsWith("<options>:3:14: invalid JSON: "));
}

TEST(CapiOptions, NonObjectIsRejected) {
  auto s = CheckJsonObject("[1, 2]");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("must be a JSON object, not array"));
}

TEST(CapiOptions, EmptyMeansDefaults) {
  auto c = ParseOptions("");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->workers, 0);
  EXPECT_EQ(c->shm_bytes, 8ull << 30);
  auto up = ParseUpOptions("");
  ASSERT_TRUE(up.ok()) << up.status().message();
  EXPECT_EQ(up->kind, "kind");
  EXPECT_FALSE(up->recreate);
}

TEST(CapiOptions, UpKeysAreTakenOutBeforeTheStrictParse) {
  auto up = ParseUpOptions(R"({"name": "c1", "workers": 2, "kind": "/opt/kind", "recreate": true})");
  ASSERT_TRUE(up.ok()) << up.status().message();
  EXPECT_EQ(up->kind, "/opt/kind");
  EXPECT_TRUE(up->recreate);
  EXPECT_EQ(up->config.name, "c1");
  EXPECT_EQ(up->config.workers, 2);
}

TEST(CapiOptions, UpKeysHaveTypes) {
  auto bad_kind = ParseUpOptions(R"({"kind": 3})");
  ASSERT_FALSE(bad_kind.ok());
  EXPECT_THAT(bad_kind.status().message(), HasSubstr("\"kind\" must be a non-empty string"));
  auto bad_recreate = ParseUpOptions(R"({"recreate": "yes"})");
  ASSERT_FALSE(bad_recreate.ok());
  EXPECT_THAT(bad_recreate.status().message(), HasSubstr("\"recreate\" must be true or false"));
}

TEST(CapiOptions, UnknownKeysAreInvalidWithPosition) {
  auto c = ParseOptions("{\"name\": \"x\", \"wrokers\": 1}");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(c.status().message(), StartsWith("<options>:1:"));
  EXPECT_THAT(c.status().message(), HasSubstr("wrokers"));
}

TEST(CapiOptions, WholeConfigIsValidated) {
  auto bad_name = ParseOptions(R"({"name": "Not_Valid"})");
  ASSERT_FALSE(bad_name.ok());
  EXPECT_EQ(bad_name.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(bad_name.status().message(), HasSubstr("Not_Valid"));
  auto bad_gpu = ParseUpOptions(R"({"gpuNodes": ["worker"], "kind": "kind"})");
  ASSERT_FALSE(bad_gpu.ok());
  EXPECT_THAT(bad_gpu.status().message(), HasSubstr("gpuNodes"));
}

}  // namespace
}  // namespace kmps::capi
