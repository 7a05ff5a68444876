#include "pod/k8s_name.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kmps::pod {
namespace {

using ::testing::HasSubstr;

TEST(PodK8sName, AcceptsDns1123Labels) {
  for (const char* ok : {"demo", "a", "0", "mps-client-2", "9lives"}) {
    EXPECT_TRUE(ValidateDns1123Label(ok, "pod name").ok()) << ok;
  }
  EXPECT_TRUE(ValidateDns1123Label(std::string(63, 'a'), "pod name").ok());
}

TEST(PodK8sName, SaysWhichRuleFailed) {
  struct Case {
    std::string name;
    const char* why;
  };
  for (const Case& c : std::vector<Case>{
           {"", "pod name is empty"},
           {std::string(64, 'a'), "it has 64 characters, at most 63 are allowed"},
           {"Demo", "uppercase 'D' at position 1; only lowercase letters, digits and '-' are allowed"},
           {"de_mo", "'_' at position 3"},
           {"de.mo", "'.' at position 3"},
           {"de mo", "byte 0x20 at position 3"},
           {"-demo", "it must start with a lowercase letter or digit"},
           {"demo-", "it must end with a lowercase letter or digit"},
       }) {
    Status s = ValidateDns1123Label(c.name, "pod name");
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr(c.why)) << c.name;
  }
  EXPECT_THAT(ValidateDns1123Label("A", "pod name").message(),
              HasSubstr("pod name \"A\" is not a valid Kubernetes name (DNS-1123 label): "));
}

}  // namespace
}  // namespace kmps::pod
