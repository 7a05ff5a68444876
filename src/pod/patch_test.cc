#include "pod/patch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "support/golden.h"

namespace kmps::pod {
namespace {

using ::testing::HasSubstr;

PodMps Settings(AccessMode mode = AccessMode::kHostPath, std::optional<std::string> node = std::nullopt) {
  PodMps m;
  m.access = BuildMpsAccess("/tmp/nvidia-mps", node, mode);
  m.limit_env = {{"CUDA_MPS_ACTIVE_THREAD_PERCENTAGE", "50"}, {"CUDA_MPS_PINNED_DEVICE_MEM_LIMIT", "0=1G"}};
  m.node_selector = node ? KeyValue{"kubernetes.io/hostname", *node} : KeyValue{"kindmps.dev/mps", "ready"};
  m.run_as_user = 0;
  return m;
}

std::string Patched(const std::string& text, const PodMps& mps = Settings()) {
  auto r = PatchManifests(text, "m.yaml", mps);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? r->text : "";
}

std::string ErrorOf(const std::string& text, const PodMps& mps = Settings()) {
  auto r = PatchManifests(text, "m.yaml", mps);
  if (r.ok()) return "ok";
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  return r.status().message();
}

struct GoldenCase {
  const char* name;
  PodMps mps;
};

// tests/pod/patch/<name>.in.yaml patches to <name>.out.yaml, byte for byte; the output patches to
// itself, and reads as YAML with the same documents.
TEST(PodPatch, GoldenFiles) {
  for (const GoldenCase& c : std::vector<GoldenCase>{{"pod", Settings()},
                                                     {"multi", Settings()},
                                                     {"job-cdi", Settings(AccessMode::kCdi, "lab-worker")}}) {
    SCOPED_TRACE(c.name);
    std::string in = testing::ReadGolden(std::string("patch/") + c.name + ".in.yaml");
    ASSERT_FALSE(in.empty());
    auto r = PatchManifests(in, c.name, c.mps);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->text, testing::Golden(std::string("patch/") + c.name + ".out.yaml", r->text));
    auto again = PatchManifests(r->text, c.name, c.mps);
    ASSERT_TRUE(again.ok()) << again.status().message();
    EXPECT_EQ(again->text, r->text);
    EXPECT_EQ(YAML::LoadAll(r->text).size(), YAML::LoadAll(in).size());
  }
}

TEST(PodPatch, EveryContainerGetsTheSettings) {
  std::string out = Patched(testing::ReadGolden("patch/multi.in.yaml"));
  std::vector<YAML::Node> docs = YAML::LoadAll(out);
  ASSERT_EQ(docs.size(), 6u);
  int containers = 0;
  for (const auto& doc : docs) {
    std::string kind = doc["kind"].as<std::string>();
    if (kind == "Service" || kind == "ConfigMap") continue;
    YAML::Node spec = kind == "CronJob" ? doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
                                        : doc["spec"]["template"]["spec"];
    EXPECT_EQ(spec["nodeSelector"]["kindmps.dev/mps"].as<std::string>(), "ready") << kind;
    EXPECT_EQ(spec["securityContext"]["runAsUser"].as<int>(), 0) << kind;
    EXPECT_EQ(spec["volumes"][0]["hostPath"]["path"].as<std::string>(), "/tmp/nvidia-mps") << kind;
    EXPECT_FALSE(spec["hostIPC"]) << kind;
    for (const char* list : {"initContainers", "containers"}) {
      for (const auto& c : spec[list]) {
        ++containers;
        EXPECT_EQ(c["env"][0]["name"].as<std::string>(), "CUDA_MPS_PIPE_DIRECTORY");
        EXPECT_EQ(c["env"][1]["value"].as<std::string>(), "50");
        EXPECT_EQ(c["env"][2]["value"].as<std::string>(), "0=1G");
        EXPECT_EQ(c["volumeMounts"][0]["mountPath"].as<std::string>(), "/tmp/nvidia-mps");
        EXPECT_FALSE(c["securityContext"]["allowPrivilegeEscalation"].as<bool>());
        EXPECT_FALSE(c["securityContext"]["privileged"]);
      }
    }
  }
  EXPECT_EQ(containers, 5);  // Deployment 2 (one init), StatefulSet, CronJob, DaemonSet
}

TEST(PodPatch, OtherDocumentsPassThroughUntouched) {
  std::string text = "# only a service\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n"
                     "kind: ConfigMap\ndata: {a: b}\n---\n- a list\n---\nplain\n";
  auto r = PatchManifests(text, "m.yaml", Settings());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->text, text);
  EXPECT_EQ(r->pod_templates, 0);
  EXPECT_EQ(Patched(""), "");
}

TEST(PodPatch, KeepsCrlfLineEndingsAndNonAsciiText) {
  std::string text = "kind: Pod\r\nmetadata:\r\n  name: p # caf\xc3\xa9 \xe2\x98\x95\r\nspec:\r\n  containers:\r\n"
                     "  - name: c\r\n    image: i\r\n";
  std::string out = Patched(text);
  EXPECT_EQ(out.find("\r\n") != std::string::npos, true);
  EXPECT_EQ(out.find("\n", 0) , out.find("\r\n") + 1);
  for (size_t i = out.find('\n'); i != std::string::npos; i = out.find('\n', i + 1)) ASSERT_EQ(out[i - 1], '\r') << i;
  EXPECT_THAT(out, HasSubstr("  - name: c\r\n    env:\r\n      - name: CUDA_MPS_PIPE_DIRECTORY\r\n"));
  EXPECT_THAT(out, HasSubstr("caf\xc3\xa9 \xe2\x98\x95\r\n"));
  EXPECT_EQ(YAML::Load(out)["spec"]["containers"][0]["image"].as<std::string>(), "i");
}

TEST(PodPatch, RefusesWhatCannotBeEditedInPlaceWithFileLineColumn) {
  EXPECT_EQ(ErrorOf("kind: Pod\nspec:\n  containers: [{name: c, image: i}]\n"),
            "m.yaml:3:16: this container is in flow style ({...}); write it in block style, one entry per line, so "
            "that kindmps-api can add to it");
  EXPECT_EQ(ErrorOf("{\"kind\": \"Pod\", \"spec\": {\"containers\": [{\"name\": \"c\"}]}}"),
            "m.yaml:1:1: Pod is in flow style ({...}); write it in block style, one entry per line, so that "
            "kindmps-api can add to it");
  EXPECT_EQ(ErrorOf("kind: Pod\nspec:\n  containers:\n  - name: c\n    env: []\n"),
            "m.yaml:5:10: env is in flow style ([...]); write it in block style, one entry per line, so that "
            "kindmps-api can add to it");
  EXPECT_EQ(ErrorOf("kind: Pod\nspec:\n  containers:\n  - name: c\n    env:\n"),
            "m.yaml:5:5: env is empty where kindmps-api must add entries; give it at least one entry in block "
            "style, or remove it");
  EXPECT_EQ(ErrorOf("kind: Pod\nspec:\n  containers:\n  - &c\n    name: c\n"),
            "m.yaml:4:5: kindmps-api does not edit next to an anchor (&name), a tag (!tag) or a complex key (?); "
            "write this part without them");
  EXPECT_EQ(ErrorOf("kind: Pod\nspec:\n  nodeSelector: {a: b}\n  containers:\n  - name: c\n"),
            "m.yaml:3:17: nodeSelector is in flow style ({...}); write it in block style, one entry per line, so "
            "that kindmps-api can add to it");
  EXPECT_EQ(ErrorOf("kind: Pod\nspec:\n  containers:\n  - &c\n    name: c\n    image: i\n  initContainers:\n  - *c\n"),
            "m.yaml:4:5: this container is shared through a YAML alias (*name); write each use out in full so that "
            "kindmps-api can patch it");
}

TEST(PodPatch, RefusesContradictionsSayingWhatToChange) {
  EXPECT_EQ(ErrorOf("kind: Pod\nspec:\n  securityContext:\n    runAsUser: 1000\n  containers:\n  - name: c\n"),
            "m.yaml:4:16: runAsUser is \"1000\", but the cluster's MPS server runs as uid 0 and a client of another "
            "uid waits forever; remove runAsUser (kindmps-api sets 0), or set mps.serverUid: 1000 in kindmps.yaml "
            "and run kindmps-api up");
  EXPECT_THAT(ErrorOf("kind: Pod\nspec:\n  containers:\n  - name: c\n    securityContext:\n      runAsUser: 5\n"),
              HasSubstr("m.yaml:6:18: runAsUser is \"5\""));
  EXPECT_EQ(ErrorOf("kind: Pod\nspec:\n  containers:\n  - name: c\n    securityContext:\n      privileged: true\n"),
            "m.yaml:6:7: privileged: true; an MPS client needs no privileges and kindmps-api sets "
            "allowPrivilegeEscalation: false, which Kubernetes refuses beside it; remove it");
  EXPECT_THAT(ErrorOf("kind: Pod\nspec:\n  containers:\n  - name: c\n    securityContext:\n"
                      "      allowPrivilegeEscalation: true\n"),
              HasSubstr("m.yaml:6:33: allowPrivilegeEscalation is \"true\"; an MPS client needs none"));
  EXPECT_EQ(ErrorOf("kind: Pod\nspec:\n  containers:\n  - name: c\n    env:\n    - name: CUDA_MPS_PIPE_DIRECTORY\n"
                    "      value: /other\n"),
            "m.yaml:6:7: env CUDA_MPS_PIPE_DIRECTORY is already set here (\"/other\"), but kindmps-api sets it to "
            "\"/tmp/nvidia-mps\"; remove this entry and run again");
  EXPECT_EQ(ErrorOf("kind: Pod\nspec:\n  nodeSelector:\n    kindmps.dev/mps: \"no\"\n  containers:\n  - name: c\n"),
            "m.yaml:4:22: nodeSelector kindmps.dev/mps is \"no\", but kindmps-api sets it to \"ready\"; remove it and "
            "run again");
  EXPECT_THAT(ErrorOf("kind: Pod\nspec:\n  volumes:\n  - name: kindmps-mps-pipe\n    emptyDir: {}\n  containers:\n"
                      "  - name: c\n"),
              HasSubstr("m.yaml:4:5: volume kindmps-mps-pipe is already here but is not hostPath /tmp/nvidia-mps"));
  EXPECT_THAT(ErrorOf("kind: Pod\nspec:\n  containers:\n  - name: c\n    resources:\n      limits:\n"
                      "        kindmps.dev/mps: 2\n",
                      Settings(AccessMode::kCdi, "lab-worker")),
              HasSubstr("m.yaml:7:26: "));
}

TEST(PodPatch, RefusesUnknownKindsWithAPodTemplateAndBrokenWorkloads) {
  EXPECT_THAT(ErrorOf("apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nspec:\n  template:\n    spec:\n"
                      "      containers:\n      - name: c\n"),
              HasSubstr("m.yaml:2:1: kind \"Rollout\" has a Pod template, but kindmps-api does not know where its "
                        "Pods are"));
  EXPECT_THAT(ErrorOf("kind: Deployment\nspec:\n  replicas: 1\n"),
              HasSubstr("m.yaml:1:1: this Deployment has no spec.template (a map)"));
  EXPECT_THAT(ErrorOf("kind: Pod\nspec:\n  restartPolicy: Never\n"), HasSubstr("m.yaml:2:1: Pod has no containers"));
  EXPECT_THAT(ErrorOf("kind: List\nitems:\n- kind: Pod\n  spec:\n    containers:\n    - name: c\n"),
              HasSubstr("m.yaml:3:3: a List's items are not patched; put each item in a document of its own"));
}

TEST(PodPatch, NotYamlIsRefusedWithItsPosition) {
  EXPECT_THAT(ErrorOf("kind: Pod\nspec:\n  containers:\n  - name: c\n   image: i\n"), HasSubstr("m.yaml:5:"));
  EXPECT_THAT(ErrorOf("a: b\n c: d: e\n"), HasSubstr("m.yaml:2:"));
  auto r = PatchManifests("a: [\n", "-", Settings());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("<stdin>:"));
  EXPECT_THAT(r.status().message(), HasSubstr("not valid YAML: "));
}

}  // namespace
}  // namespace kmps::pod
