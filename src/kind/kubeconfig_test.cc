#include "kind/kubeconfig.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_host.h"

namespace kmps::kind {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(KubeconfigPaths, KubeconfigIsAColonListElseHomeKubeConfig) {
  EXPECT_THAT(KubeconfigPaths("", "/home/u"), ElementsAre("/home/u/.kube/config"));
  EXPECT_THAT(KubeconfigPaths("/k/one", "/home/u"), ElementsAre("/k/one"));
  EXPECT_THAT(KubeconfigPaths("/k/one:/k/two", "/home/u"), ElementsAre("/k/one", "/k/two"));
  // As kind: empty entries and repeats are dropped; a list of nothing falls back to HOME.
  EXPECT_THAT(KubeconfigPaths(":/k/one::/k/two:/k/one:", "/h"), ElementsAre("/k/one", "/k/two"));
  EXPECT_THAT(KubeconfigPaths(":::", "/h"), ElementsAre("/h/.kube/config"));
}

TEST(KubeconfigsLockedBy, CreateLocksTheFileItMergesIntoDeleteLocksEvery) {
  testing::TempDir dir("kmps-kubeconfig");
  testing::FakeHost h(dir.path());
  const std::string one = h.Path("/one"), two = h.Path("/two"), three = h.Path("/three");
  EXPECT_THAT(KubeconfigsLockedBy(KindCommand::kCreate, {one}), ElementsAre(one));
  // None exists: the last; else the first that exists as a file (a directory does not count).
  EXPECT_THAT(KubeconfigsLockedBy(KindCommand::kCreate, {one, two, three}), ElementsAre(three));
  ASSERT_TRUE(h.MakeDirs("/one").ok());
  ASSERT_TRUE(h.WriteFile("/two", "").ok());
  EXPECT_THAT(KubeconfigsLockedBy(KindCommand::kCreate, {one, two, three}), ElementsAre(two));
  EXPECT_THAT(KubeconfigsLockedBy(KindCommand::kDelete, {one, two, three}), ElementsAre(one, two, three));
}

TEST(CheckNoKubeconfigLock, NamesTheLockFileAndLeavesIt) {
  testing::TempDir dir("kmps-kubelock");
  testing::FakeHost h(dir.path());
  const std::string config = h.Path("/config");
  EXPECT_TRUE(CheckNoKubeconfigLock({config}).ok());
  ASSERT_TRUE(h.WriteFile("/config.lock", "").ok());
  Status s = CheckNoKubeconfigLock({h.Path("/other"), config});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kFailed);
  EXPECT_EQ(s.message(), "kubeconfig lock file " + config + ".lock exists, so kind would fail to edit " + config +
                             ": remove it if no kind or kubectl is running");
  EXPECT_TRUE(CheckNoKubeconfigLock({config}).code() == Code::kFailed) << "the lock file must stay";
}

TEST(CheckKubeconfigUnlocked, FollowsKubeconfig) {
  testing::TempDir dir("kmps-kubeenv");
  testing::FakeHost h(dir.path());
  ASSERT_TRUE(h.WriteFile("/a.lock", "").ok());
  const char* saved = std::getenv("KUBECONFIG");
  std::string restore = saved ? saved : "";
  ::setenv("KUBECONFIG", (h.Path("/a") + ":" + h.Path("/b")).c_str(), 1);
  Status del = CheckKubeconfigUnlocked(KindCommand::kDelete);
  Status create = CheckKubeconfigUnlocked(KindCommand::kCreate);  // merges into b: neither exists
  if (saved) ::setenv("KUBECONFIG", restore.c_str(), 1); else ::unsetenv("KUBECONFIG");
  EXPECT_THAT(del.message(), HasSubstr(h.Path("/a.lock")));
  EXPECT_TRUE(create.ok()) << create.message();
}

}  // namespace
}  // namespace kmps::kind
