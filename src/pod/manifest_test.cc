#include "pod/manifest.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "pod/patch.h"
#include "support/golden.h"

namespace kmps::pod {
namespace {

ManifestRequest Request(WorkloadKind kind, AccessMode mode, std::optional<std::string> node) {
  ManifestRequest r;
  r.name = "demo";
  r.image = "nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04";
  r.kind = kind;
  r.replicas = kind == WorkloadKind::kPod ? 1 : 3;
  r.mps.access = BuildMpsAccess("/tmp/nvidia-mps", node, mode);
  r.mps.node_selector = node ? KeyValue{"kubernetes.io/hostname", *node} : KeyValue{"kindmps.dev/mps", "ready"};
  r.mps.run_as_user = 0;
  return r;
}

TEST(PodManifest, GoldenFiles) {
  struct Case {
    const char* file;
    ManifestRequest request;
  };
  ManifestRequest job = Request(WorkloadKind::kJob, AccessMode::kHostPath, "lab-worker");
  job.command = {"sh", "-c", "nvidia-smi -L; echo \"done\""};
  job.mps.limit_env = {{"CUDA_MPS_ACTIVE_THREAD_PERCENTAGE", "50"}, {"CUDA_MPS_PINNED_DEVICE_MEM_LIMIT", "0=1G,1=512M"}};
  job.mps.run_as_user = 1000;
  for (const Case& c : std::vector<Case>{{"pod.yaml", Request(WorkloadKind::kPod, AccessMode::kHostPath, std::nullopt)},
                                         {"deployment-cdi.yaml", Request(WorkloadKind::kDeployment, AccessMode::kCdi, std::nullopt)},
                                         {"job-limits.yaml", job}}) {
    SCOPED_TRACE(c.file);
    std::string text = RenderManifest(c.request);
    EXPECT_EQ(text, testing::Golden(std::string("generate/") + c.file, text));
    // What the generator writes, the patcher finds complete.
    auto again = PatchManifests(text, c.file, c.request.mps);
    ASSERT_TRUE(again.ok()) << again.status().message();
    EXPECT_EQ(again->text, text);
    EXPECT_EQ(again->pod_templates, 1);
  }
}

TEST(PodManifest, ThePodReachesMpsAndNothingMore) {
  ManifestRequest r = Request(WorkloadKind::kPod, AccessMode::kHostPath, std::nullopt);
  r.mps.access.container_limits = {{"example.com/gpu", "1"}};  // any MpsAccess is applied as it is
  YAML::Node m = YAML::Load(RenderManifest(r));
  EXPECT_EQ(m["apiVersion"].as<std::string>(), "v1");
  EXPECT_EQ(m["metadata"]["name"].as<std::string>(), "demo");
  YAML::Node spec = m["spec"];
  EXPECT_EQ(spec["restartPolicy"].as<std::string>(), "Never");
  EXPECT_EQ(spec["nodeSelector"]["kindmps.dev/mps"].as<std::string>(), "ready");
  EXPECT_EQ(spec["securityContext"]["runAsUser"].as<int>(), 0);
  EXPECT_FALSE(spec["hostIPC"]);
  YAML::Node c = spec["containers"][0];
  EXPECT_EQ(c["image"].as<std::string>(), r.image);
  EXPECT_FALSE(c["command"]);
  EXPECT_EQ(c["env"][0]["name"].as<std::string>(), "CUDA_MPS_PIPE_DIRECTORY");
  EXPECT_EQ(c["resources"]["limits"]["example.com/gpu"].as<std::string>(), "1");
  EXPECT_FALSE(c["securityContext"]["allowPrivilegeEscalation"].as<bool>());
  EXPECT_FALSE(c["securityContext"]["privileged"]);
  EXPECT_EQ(c["volumeMounts"][0]["mountPath"].as<std::string>(), "/tmp/nvidia-mps");
  EXPECT_EQ(spec["volumes"][0]["hostPath"]["type"].as<std::string>(), "Directory");
}

}  // namespace
}  // namespace kmps::pod
