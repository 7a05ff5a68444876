#include "pod/pod_options.h"

#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kmps::pod {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

config::ClusterConfig TwoWorkers() {
  config::ClusterConfig c = config::DefaultClusterConfig();
  c.name = "lab";
  c.workers = 2;
  c.gpu_nodes = {"lab-worker"};
  c.mps.pipe_directory = "/run/mps";
  c.mps.server_uid = 1000;
  return c;
}

PodFlags Generate() {
  PodFlags f;
  f.name = "demo";
  f.image = "cuda:12";
  return f;
}

std::string ErrorOf(const PodFlags& f, const config::ClusterConfig& c = TwoWorkers()) {
  auto r = ResolveManifestRequest(f, c);
  if (r.ok()) return "ok";
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  return r.status().message();
}

TEST(PodOptions, DefaultsComeFromTheSavedConfig) {
  auto r = ResolveManifestRequest(Generate(), TwoWorkers());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->name, "demo");
  EXPECT_EQ(r->kind, WorkloadKind::kPod);
  EXPECT_EQ(r->replicas, 1);
  EXPECT_EQ(r->mps.run_as_user, 1000);
  EXPECT_EQ(r->mps.node_selector, (KeyValue{"kindmps.dev/mps", "ready"}));
  EXPECT_EQ(r->mps.access, BuildMpsAccess("/run/mps", std::nullopt, AccessMode::kHostPath));
  EXPECT_THAT(ContainerEnv(r->mps), ElementsAre(EnvVar{"CUDA_MPS_PIPE_DIRECTORY", "/run/mps"}));
}

TEST(PodOptions, LimitsNodeUidAndAccess) {
  PodFlags f = Generate();
  f.threads = "25";
  f.pinned_mem = "2g,1=512M";
  f.node = "lab-worker";
  f.uid = "1000";
  f.access = "cdi";
  f.kind = "Job";
  f.replicas = "3";
  f.command = {"nvidia-smi", "-L"};
  auto r = ResolveManifestRequest(f, TwoWorkers());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->kind, WorkloadKind::kJob);
  EXPECT_EQ(r->replicas, 3);
  EXPECT_THAT(r->command, ElementsAre("nvidia-smi", "-L"));
  EXPECT_EQ(r->mps.node_selector, (KeyValue{"kubernetes.io/hostname", "lab-worker"}));
  EXPECT_EQ(r->mps.access, BuildMpsAccess("/run/mps", "lab-worker", AccessMode::kCdi));
  EXPECT_THAT(ContainerEnv(r->mps), ElementsAre(EnvVar{"CUDA_MPS_PIPE_DIRECTORY", "/run/mps"},
                                                EnvVar{"CUDA_MPS_ACTIVE_THREAD_PERCENTAGE", "25"},
                                                EnvVar{"CUDA_MPS_PINNED_DEVICE_MEM_LIMIT", "0=2G,1=512M"}));
}

TEST(PodOptions, WithADaemonPerGpuAPodReachesItsGpusDaemonOrAnyThroughCdi) {
  config::ClusterConfig c = TwoWorkers();
  c.mps.daemons = config::MpsSettings::Daemons::kPerGpu;
  PodFlags f = Generate();
  f.node = "lab-worker";
  f.gpu_daemon = 1;  // what --gpu found
  auto r = ResolveManifestRequest(f, c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->mps.access, BuildMpsAccess("/run/mps/gpu1", "lab-worker", AccessMode::kHostPath));
  f.access = "cdi";
  r = ResolveManifestRequest(f, c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(r->mps.access.container_limits, ElementsAre(KeyValue{"kindmps.dev/mps-gpu1", "1"}));
  EXPECT_THAT(ContainerEnv(r->mps), ElementsAre(EnvVar{"CUDA_MPS_PIPE_DIRECTORY", "/run/mps/gpu1"}));
  f = Generate();
  f.access = "cdi";
  r = ResolveManifestRequest(f, c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(r->mps.access.container_limits, ElementsAre(KeyValue{"kindmps.dev/mps", "1"}));
  EXPECT_THAT(ContainerEnv(r->mps), ::testing::IsEmpty());
  EXPECT_THAT(ErrorOf(Generate(), c), HasSubstr("runs an MPS daemon per GPU (mps.daemons perGpu): choose the GPU "
                                                "with --gpu"));
}

TEST(PodOptions, RefusesWithOneLineSayingWhatToDo) {
  PodFlags f = Generate();
  f.uid = "0";
  EXPECT_EQ(ErrorOf(f),
            "--uid 0: the MPS server of cluster lab runs as uid 1000, and a client of another uid waits forever; "
            "leave --uid out, or set mps.serverUid: 0 in kindmps.yaml and run kindmps-api up");
  f.uid = "-1";
  EXPECT_THAT(ErrorOf(f), HasSubstr("--uid \"-1\": expected a user id"));
  f = Generate();
  f.node = "lab-worker9";
  EXPECT_EQ(ErrorOf(f), "--node lab-worker9: cluster lab has no such node; its nodes with MPS: lab-worker");
  f.node = "lab-worker2";
  EXPECT_THAT(ErrorOf(f), HasSubstr("--node lab-worker2: this node of cluster lab has no GPU and no MPS"));
  struct Case {
    std::function<void(PodFlags&)> change;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {[](PodFlags& g) { g.name = "Demo"; }, "NAME \"Demo\" is not a valid Kubernetes name"},
           {[](PodFlags& g) { g.image = ""; }, "--image is required"},
           {[](PodFlags& g) { g.image = "a b"; }, "--image \"a b\": an image reference has no blanks"},
           {[](PodFlags& g) { g.kind = "StatefulSet"; }, "--kind \"StatefulSet\": expected Pod, Deployment or Job"},
           {[](PodFlags& g) { g.replicas = "2"; }, "--replicas 2: a Pod is one replica; add --kind Deployment"},
           {[](PodFlags& g) { g.threads = "0"; }, "--threads \"0\""},
           {[](PodFlags& g) { g.access = "nfs"; }, "--access \"nfs\""},
       }) {
    PodFlags g = Generate();
    c.change(g);
    EXPECT_THAT(ErrorOf(g), HasSubstr(c.message));
  }
  f = Generate();
  f.kind = "Deployment";
  f.replicas = "2";
  EXPECT_EQ(ErrorOf(f), "ok");
  for (const char* bad : {"0", "-1", "1.5", "", "10001", "99999999999999999999"}) {
    f.replicas = bad;
    EXPECT_THAT(ErrorOf(f), HasSubstr("expected an integer from 1 to 10000")) << bad;
  }
}

TEST(PodOptions, PatchRefusesTheFlagsOfAGeneratedManifest) {
  PodFlags f;
  f.patch = "-";
  f.threads = "10";
  auto ok = ResolvePatchRequest(f, TwoWorkers());
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_THAT(ok->limit_env, ElementsAre(EnvVar{"CUDA_MPS_ACTIVE_THREAD_PERCENTAGE", "10"}));
  f.image = "x";
  auto bad = ResolvePatchRequest(f, TwoWorkers());
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("--image describes a generated manifest and does not go with --patch"));
}

}  // namespace
}  // namespace kmps::pod
