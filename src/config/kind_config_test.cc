#include "config/kind_config.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/decode.h"
#include "config/overrides.h"
#include "support/fake_host.h"

namespace kmps::config {
namespace {

using ::testing::HasSubstr;

const std::string kHead = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n";

ClusterConfig Named(const std::string& name, int workers = 0) {
  ClusterConfig c = DefaultClusterConfig();
  c.name = name;
  c.workers = workers;
  return c;
}

std::string ParseError(const std::string& text) {
  auto r = ParseUserKindConfig(text, "kind.yaml");
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.status().message();
}

std::string CheckError(const std::string& text, const ClusterConfig& config) {
  auto r = ParseUserKindConfig(text, "kind.yaml");
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (!r.ok()) return "";
  Status s = CheckUserKindConfig(*r, config);
  EXPECT_FALSE(s.ok()) << text;
  return s.message();
}

TEST(ParseUserKindConfig, AcceptsWhatKindAccepts) {
  auto r = ParseUserKindConfig(kHead + R"(name: lab
featureGates: {InPlacePodVerticalScaling: true}
runtimeConfig: {"api/alpha": "false"}
networking:
  ipFamily: dual
  apiServerPort: 6443
  podSubnet: 10.244.0.0/16
  disableDefaultCNI: false
  kubeProxyMode: nftables
  dnsSearch: [corp.example]
nodes:
  - role: control-plane
    labels: {ingress-ready: "true"}
    extraPortMappings:
      - {containerPort: 80, hostPort: 8080, listenAddress: 127.0.0.1, protocol: TCP}
  - role: worker
    extraMounts:
      - {hostPath: /data, containerPath: /data, readOnly: true, selinuxRelabel: false, propagation: None}
    kubeadmConfigPatchesJSON6902:
      - {group: kubeadm.k8s.io, version: v1beta3, kind: JoinConfiguration, patch: "[]"}
kubeadmConfigPatches: ["kind: ClusterConfiguration\n"]
containerdConfigPatches: ["[plugins]\n"]
containerdConfigPatchesJSON6902: ["[]"]
)",
                               "kind.yaml");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->control_planes.size(), 1u);
  ASSERT_EQ(r->workers.size(), 1u);
  EXPECT_TRUE(r->workers[0]["extraMounts"].IsSequence());
  EXPECT_TRUE(UserKindNode(*r, "worker", 1).IsNull());
  EXPECT_TRUE(UserKindNode(*r, "worker", 0).IsMap());
}

TEST(ParseUserKindConfig, RefusesWhatKindRefusesAtItsLine) {
  EXPECT_EQ(ParseError(kHead + "nodes:\n  - role: worker\n    extraPortMapping: []\n"),
            "kind.yaml:5:5: unknown key \"extraPortMapping\" in nodes[0] (expected one of: role, image, labels, "
            "extraMounts, extraPortMappings, kubeadmConfigPatches, kubeadmConfigPatchesJSON6902)");
  EXPECT_THAT(ParseError(kHead + "networking: {apiServerPort: \"6443\"}\n"),
              HasSubstr("kind.yaml:3:29: networking.apiServerPort: expected an integer, got the quoted string"));
  EXPECT_THAT(ParseError(kHead + "networking: {apiServerPort: 99999999999}\n"),
              HasSubstr("networking.apiServerPort: expected an integer of 32 bits, got 99999999999"));
  EXPECT_THAT(ParseError(kHead + "nodes: [{role: master}]\n"),
              HasSubstr("kind.yaml:3:16: nodes[0].role: expected control-plane, worker, got \"master\""));
  EXPECT_THAT(ParseError(kHead + "featureGates: {A: maybe}\n"), HasSubstr("featureGates.A: expected true or false"));
  EXPECT_THAT(ParseError(kHead + "nodes:\n  - role: worker\n  - role: worker\n    role: worker\n"),
              HasSubstr("kind.yaml:6:5: duplicate key \"role\""));
  EXPECT_THAT(ParseError(kHead + "---\n" + kHead), HasSubstr("kind.yaml:3:1: a second YAML document"));
  EXPECT_THAT(ParseError("- a\n"), HasSubstr("expected a kind Cluster (a mapping), got a list"));
}

TEST(ParseUserKindConfig, NamesAKindmpsYamlGivenByMistake) {
  EXPECT_EQ(ParseError("apiVersion: kindmps.dev/v1alpha1\nkind: Config\n"),
            "kind.yaml:1:13: apiVersion: expected kind.x-k8s.io/v1alpha4 (a kind config, not a kindmps.yaml), got "
            "\"kindmps.dev/v1alpha1\"");
  EXPECT_THAT(ParseError("nodes: []\n"), HasSubstr("kind.yaml:1:1: apiVersion is missing"));
}

TEST(ParseUserKindConfig, AStringKindWouldNotReadBackAsWrittenIsRefused) {
  // yaml-cpp writes DEL unescaped (go-yaml refuses it) and U+FFFD for a noncharacter; go-yaml
  // takes U+2028 for a line break (found in review of the kind_config fuzzer's round trip).
  EXPECT_THAT(ParseError(kHead + "kubeadmConfigPatches: [\"a\\x7fb\"]\n"),
              HasSubstr("kind.yaml:3:24: kubeadmConfigPatches[0]: holds U+007F, which kind's YAML reader would not "
                        "read back as written"));
  EXPECT_THAT(ParseError(kHead + "networking: {dnsSearch: [\"\\uFDD0\"]}\n"), HasSubstr("dnsSearch[0]: holds U+FDD0"));
  EXPECT_THAT(ParseError(kHead + "nodes: [{role: worker, labels: {a: \"x \\u2028 y\"}}]\n"),
              HasSubstr("nodes[0].labels.a: holds U+2028"));
  EXPECT_THAT(ParseError(kHead + "featureGates: {\"\\U0010FFFF\": true}\n"), HasSubstr("holds U+10FFFF"));
  EXPECT_TRUE(ParseUserKindConfig(kHead + "kubeadmConfigPatches: [\"caf\\u00e9 \\x85 \\t\\u2027\"]\n", "k").ok());
}

TEST(CheckUserKindConfig, TheFieldsKindmpsOwnsMustAgree) {
  EXPECT_THAT(CheckError(kHead + "name: other\n", Named("lab")),
              HasSubstr("kind.yaml:3:7: name \"other\" conflicts with the cluster name \"lab\""));
  EXPECT_THAT(CheckError(kHead + "nodes: [{role: control-plane}, {role: worker}, {role: worker}]\n", Named("lab")),
              HasSubstr("kind.yaml:3:8: nodes: 1 control-plane and 2 worker node(s), but kindmps-api makes 1 "
                        "control-plane and 0 worker node(s) (--workers, workers in kindmps.yaml)"));
  EXPECT_THAT(CheckError(kHead + "nodes: [{role: control-plane}, {role: control-plane}]\n", Named("lab")),
              HasSubstr("several control planes are not supported"));
  ClusterConfig imaged = Named("lab");
  imaged.image = "kindmps/node:v1";
  EXPECT_THAT(CheckError(kHead + "nodes: [{role: control-plane, image: kindest/node:v1.33.1}]\n", imaged),
              HasSubstr("kind.yaml:3:38: image \"kindest/node:v1.33.1\" conflicts with the node image kindmps-api "
                        "uses (\"kindmps/node:v1\")"));
  auto same = ParseUserKindConfig(kHead + "name: lab\nnodes: [{role: worker}, {role: control-plane}]\n", "k");
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(CheckUserKindConfig(*same, Named("lab", 1)).ok());
  EXPECT_TRUE(CheckUserKindConfig(*same, Named("lab", 2)).message().find("0 control") == std::string::npos);
}

TEST(EmitUserKindField, StringsStayStringsForKindsYamlReader) {
  auto r = ParseUserKindConfig(kHead + "runtimeConfig: {api/beta: 'on', v: '1.10'}\n", "k");
  ASSERT_TRUE(r.ok()) << r.status().message();
  YAML::Emitter out;
  out << YAML::BeginMap;
  EmitUserKindField(out, r->root, "cluster", "runtimeConfig");
  EmitUserKindField(out, r->root, "cluster", "networking");  // absent: nothing
  out << YAML::EndMap;
  EXPECT_EQ(std::string(out.c_str()), "runtimeConfig:\n  \"api/beta\": \"on\"\n  \"v\": \"1.10\"");
}

TEST(EmitKindText, APatchStaysALiteralBlockAndEveryStringReadsBackExactly) {
  auto emit = [](const std::string& s) {
    YAML::Emitter out;
    out << YAML::BeginMap << YAML::Key << "p" << YAML::Value;
    EmitKindText(out, s);
    out << YAML::EndMap;
    return std::string(out.c_str());
  };
  EXPECT_EQ(emit("kind: ClusterConfiguration\napiServer:\n  certSANs: [a]\n"),
            "p: |\n  kind: ClusterConfiguration\n  apiServer:\n    certSANs: [a]\n");
  // Each of these a literal block would change, or not parse at all (found by the kind_config fuzzer).
  for (const std::string s : {"  indented first line\nnext\n", "\n  x\n", "no final newline\nb", "two final\n\n",
                              "trailing blank \nb\n", "a\n  \nb\n", "tab\there\n", "cr\r\n", "null", "~", "\n",
                              "caf\xc3\xa9\n", "", "on"}) {
    std::string text = emit(s);
    EXPECT_EQ(text.rfind("p: \"", 0), 0u) << text;
    EXPECT_EQ(YAML::Load(text)["p"].as<std::string>(), s) << text;
  }
}

class KindConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override { unsetenv("KIND_CLUSTER_NAME"); }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  testing::TempDir dir_{"kmps-kindcfg"};
};

TEST_F(KindConfigFileTest, TheFlagIsReadAndCheckedBeforeAnythingRuns) {
  ConfigOverrides o;
  o.kind_config = Write("kind.yaml", kHead + "networking: {podSubnet: 10.9.0.0/16}\n");
  o.name = "lab";
  auto c = LoadConfigWithOverrides("", o);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->kind_config_file, *o.kind_config);
  EXPECT_THAT(c->kind_config_text, HasSubstr("podSubnet"));

  o.kind_config = dir_.path() + "/nope.yaml";
  EXPECT_EQ(LoadConfigWithOverrides("", o).status().message(), "kind config " + *o.kind_config + " does not exist");
  o.kind_config = dir_.path();
  EXPECT_THAT(LoadConfigWithOverrides("", o).status().message(), HasSubstr("is a directory"));
  o.kind_config = Write("named.yaml", kHead + "name: other\n");
  EXPECT_THAT(LoadConfigWithOverrides("", o).status().message(),
              HasSubstr("named.yaml:3:7: name \"other\" conflicts with the cluster name \"lab\""));
  o.kind_config = "";
  EXPECT_THAT(LoadConfigWithOverrides("", o).status().message(), HasSubstr("--kind-config: expected the path"));
}

TEST_F(KindConfigFileTest, KindConfigInKindmpsYamlIsItsNeighbour) {
  Write("kind.yaml", kHead + "name: lab\n");
  std::string cfg = Write("kindmps.yaml", "apiVersion: kindmps.dev/v1alpha1\nkind: Config\nname: lab\nkindConfig: kind.yaml\n");
  auto c = LoadConfigWithOverrides(cfg, {});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->kind_config_file, dir_.path() + "/kind.yaml");
  EXPECT_THAT(c->kind_config_text, HasSubstr("name: lab"));
  // The name alone does not read it: status, mps and down work without the kind config.
  std::filesystem::remove(dir_.path() + "/kind.yaml");
  EXPECT_EQ(*ResolveClusterName("", cfg), "lab");
  EXPECT_THAT(LoadConfigWithOverrides(cfg, {}).status().message(), HasSubstr("kind.yaml does not exist"));
}

}  // namespace
}  // namespace kmps::config
