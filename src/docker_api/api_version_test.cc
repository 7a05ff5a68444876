#include "docker_api/api_version.h"

#include <gtest/gtest.h>

#include "docker_api/docker_client.h"

namespace kmps::docker {
namespace {

TEST(ApiVersion, Parse) {
  ASSERT_TRUE(ParseApiVersion("1.41").has_value());
  EXPECT_EQ(ParseApiVersion("1.41")->minor, 41);
  EXPECT_TRUE(*ParseApiVersion("1.9") < *ParseApiVersion("1.41"));
  for (const char* bad : {"", "1", "1.", ".4", "a.b", "1.41.2", "1.4x"}) EXPECT_FALSE(ParseApiVersion(bad)) << bad;
}

TEST(ApiVersion, NegotiatesTheMinimumOfBoth) {
  EXPECT_EQ(*NegotiateApiVersion("1.41", "/s"), "1.41");
  EXPECT_EQ(*NegotiateApiVersion("1.52", "/s"), std::string(kClientMaxApiVersion));
  EXPECT_EQ(*NegotiateApiVersion(kClientMinApiVersion, "/s"), std::string(kClientMinApiVersion));
  EXPECT_EQ(*NegotiateApiVersion("", "/s"), "1.24");  // no header: an old daemon
}

TEST(ApiVersion, RefusesTooOldAndMalformed) {
  auto old = NegotiateApiVersion("1.12", "/var/run/docker.sock");
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().code(), Code::kEnvironment);
  EXPECT_NE(old.status().message().find("1.12"), std::string::npos);
  EXPECT_NE(old.status().message().find("/var/run/docker.sock"), std::string::npos);
  EXPECT_EQ(NegotiateApiVersion("garbage", "/s").status().code(), Code::kProtocol);
}

TEST(ApiVersion, Pinned) {
  EXPECT_EQ(*ValidatePinnedApiVersion("1.40"), "1.40");
  EXPECT_EQ(*ValidatePinnedApiVersion("v1.40"), "1.40");
  auto bad = ValidatePinnedApiVersion("latest");
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("latest"), std::string::npos);
}

}  // namespace
}  // namespace kmps::docker
