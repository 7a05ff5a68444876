#include "pod/yaml_text.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace kmps::pod {
namespace {

TEST(PodYamlText, ScalarsReadBackAsTheSameString) {
  for (std::string s : {"demo", "/tmp/nvidia-mps", "50", "0=1G,1=512M", "true", "No", "null", "~", "", "-x",
                        "a: b", "#c", "it's", "say \"hi\"", "back\\slash", "two\nlines", "tab\there", "\x01",
                        "nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04", "[a]", "{a}", "*a", "&a", "!a", "%a", "@a",
                        "`a", "|", ">", "1e3", ".inf", "0x10", "\xc3\xa9t\xc3\xa9", " lead", "trail "}) {
    std::string text = "k: " + YamlScalar(s) + "\n";
    YAML::Node n = YAML::Load(text);
    ASSERT_TRUE(n["k"].IsScalar()) << text;
    EXPECT_EQ(n["k"].as<std::string>(), s) << text;
    if (n["k"].Tag() == "?") {  // plain: must not be a YAML 1.1 boolean, null or number to a Kubernetes reader
      EXPECT_TRUE(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '/') << text;
    }
  }
  EXPECT_EQ(YamlScalar("demo"), "demo");
  EXPECT_EQ(YamlScalar("50"), "\"50\"");
  EXPECT_EQ(YamlScalar("yes"), "\"yes\"");
}

TEST(PodYamlText, SnippetsIndentAsBlocks) {
  EXPECT_EQ(EnvItem({"A", "1"}), "- name: A\n  value: \"1\"\n");
  EXPECT_EQ(VolumeItem({"v", "/p", "Directory"}), "- name: v\n  hostPath:\n    path: /p\n    type: Directory\n");
  EXPECT_EQ(MountItem({"v", "/p", true}), "- name: v\n  mountPath: /p\n  readOnly: true\n");
  EXPECT_EQ(Section("env", EnvItem({"A", "x"})), "env:\n  - name: A\n    value: x\n");
  EXPECT_EQ(IndentRest("a:\n\n  b\n", 4), "a:\n\n      b\n");
  EXPECT_EQ(IndentAll("a\nb\n", 2), "  a\n  b\n");
  EXPECT_EQ(Entries({{"kindmps.dev/mps", "ready"}, {"k", "1"}}), "kindmps.dev/mps: ready\nk: \"1\"\n");
}

}  // namespace
}  // namespace kmps::pod
