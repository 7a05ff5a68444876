// `kindmps-api pod NAME --image IMG ...` and `kindmps-api pod --patch FILE|-`: Kubernetes
// manifests whose Pods reach the node's MPS, on stdout for `kubectl apply -f -`.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include <fmt/core.h>

#include "cli/cli.h"
#include "cluster/api.h"
#include "cluster/state.h"
#include "docker_api/docker_client.h"
#include "config/config.h"
#include "config/overrides.h"
#include "pod/manifest.h"
#include "pod/patch.h"
#include "pod/pod_options.h"

namespace kmps::cli {
namespace {

// The file, or stdin for "-"; kInvalidArgument naming the file when it cannot be read.
StatusOr<std::string> ReadInput(const std::string& path) {
  if (path == "-") {
    std::ostringstream s;
    s << std::cin.rdbuf();
    return s.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgument(fmt::format("--patch {}: cannot read it: {}; give a manifest file, or - for stdin", path,
                                       std::strerror(errno)));
  }
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

StatusOr<cluster::GpuPlace> GpuNode(const std::string& cluster, const std::string& gpu) {
  KMPS_ASSIGN_OR_RETURN(std::string name, config::ResolveClusterName(cluster, ""));
  KMPS_ASSIGN_OR_RETURN(std::unique_ptr<docker::DockerClient> client, docker::DockerClient::Create());
  return cluster::Api(*client).GpuNode(name, gpu);
}

// Everything is computed first: on any error nothing reaches stdout.
StatusOr<std::string> PodOutput(const pod::PodFlags& f) {
  KMPS_ASSIGN_OR_RETURN(std::string name, config::ResolveClusterName(f.cluster, ""));
  KMPS_ASSIGN_OR_RETURN(config::ClusterConfig config, cluster::LoadSavedConfig(name));
  if (!f.patch) {
    KMPS_ASSIGN_OR_RETURN(pod::ManifestRequest request, pod::ResolveManifestRequest(f, config));
    return pod::RenderManifest(request);
  }
  KMPS_ASSIGN_OR_RETURN(pod::PodMps mps, pod::ResolvePatchRequest(f, config));
  KMPS_ASSIGN_OR_RETURN(std::string text, ReadInput(*f.patch));
  KMPS_ASSIGN_OR_RETURN(pod::PatchResult patched, pod::PatchManifests(text, *f.patch, mps));
  if (patched.pod_templates == 0) {
    fmt::print(stderr, "kindmps-api: note: {} has no Pod template (Pod, Deployment, Job, ...); printed unchanged\n",
               *f.patch == "-" ? "<stdin>" : *f.patch);
  }
  return patched.text;
}

}  // namespace

void RegisterPod(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<pod::PodFlags>();
  // Optional values as text: set when the flag was given.
  auto threads = std::make_shared<std::string>(), pinned = std::make_shared<std::string>(),
       uid = std::make_shared<std::string>(), replicas = std::make_shared<std::string>(),
       kind = std::make_shared<std::string>(), patch = std::make_shared<std::string>();
  CLI::App* pod = app.add_subcommand(
      "pod", "Print Kubernetes manifests whose Pods use the node's MPS (pipe kubectl apply -f -)");
  pod->add_option("NAME", f->name, "Name of the Pod (Deployment, Job), its container and its app label");
  pod->add_option("cmd", f->command, "Command and arguments of the container (after --; default: the image's)");
  pod->add_option("--image", f->image, "Container image (a CUDA program)");
  pod->add_option("--name", f->cluster, "Cluster name (default: $KIND_CLUSTER_NAME, else ./kindmps.yaml's, else kind)");
  CLI::Option* o_node =
      pod->add_option("--node", f->node, "Run on this GPU node (default: any node labelled kindmps.dev/mps=ready)");
  auto gpu = std::make_shared<std::string>();
  pod->add_option("--gpu", *gpu, "Run on the GPU node that has this GPU (device minor or UUID; asks the cluster)")
      ->excludes(o_node);
  CLI::Option* o_threads = pod->add_option("--threads", *threads, "CUDA_MPS_ACTIVE_THREAD_PERCENTAGE, 1..100");
  CLI::Option* o_pinned =
      pod->add_option("--pinned-mem", *pinned, "CUDA_MPS_PINNED_DEVICE_MEM_LIMIT: SIZE or DEV=SIZE,... (e.g. 0=1G,1=512M)");
  CLI::Option* o_uid = pod->add_option("--uid", *uid, "runAsUser; must be the MPS server's uid (mps.serverUid)");
  CLI::Option* o_replicas = pod->add_option("--replicas", *replicas, "Pods of a Deployment or Job (default 1)");
  CLI::Option* o_kind = pod->add_option("--kind", *kind, "Pod (default), Deployment or Job");
  pod->add_option("--access", f->access, "How the container reaches MPS: hostpath (default) or cdi");
  CLI::Option* o_patch =
      pod->add_option("--patch", *patch, "Add MPS to the Pods of this manifest file (- for stdin) instead");
  pod->footer("Exit status: 0, or 2 for a usage error (nothing is printed on stdout then); with --gpu also 1 (no GPU "
              "node has it) or 3 (no Docker). See docs/pod.md.");
  pod->callback([=, &ctx] {
    auto given = [](CLI::Option* o, const std::shared_ptr<std::string>& v) {
      return o->count() ? std::optional<std::string>(*v) : std::nullopt;
    };
    f->threads = given(o_threads, threads);
    f->pinned_mem = given(o_pinned, pinned);
    f->uid = given(o_uid, uid);
    f->replicas = given(o_replicas, replicas);
    f->kind = given(o_kind, kind);
    f->patch = given(o_patch, patch);
    if (!gpu->empty()) {
      // The one flag that asks the cluster: which node has the GPU (gpus: in kindmps.yaml).
      auto node = GpuNode(f->cluster, *gpu);
      if (!node.ok()) {
        ctx.exit_code = Report(node.status());
        return;
      }
      f->node = node->node;
      f->gpu_daemon = node->gpu;
    }
    auto out = PodOutput(*f);
    if (!out.ok()) {
      ctx.exit_code = Report(out.status());
      return;
    }
    std::fwrite(out->data(), 1, out->size(), stdout);
    ctx.exit_code = std::fflush(stdout) == 0 ? 0 : 1;
  });
}

}  // namespace kmps::cli
