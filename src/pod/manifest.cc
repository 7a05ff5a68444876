#include "pod/manifest.h"

#include "pod/yaml_text.h"

namespace kmps::pod {
namespace {

std::string Sequence(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += "- " + YamlScalar(s) + "\n";
  return out;
}

std::string Container(const ManifestRequest& r) {
  const MpsAccess& a = r.mps.access;
  std::string c = Entry("name", YamlScalar(r.name)) + Entry("image", YamlScalar(r.image));
  if (!r.command.empty()) c += Section("command", Sequence(r.command));
  std::string env;
  for (const auto& e : ContainerEnv(r.mps)) env += EnvItem(e);
  c += Section("env", env);
  if (!a.container_limits.empty()) c += Section("resources", Section("limits", Entries(a.container_limits)));
  c += Section("securityContext", Entry("allowPrivilegeEscalation", "false"));
  if (!a.volume_mounts.empty()) {
    std::string mounts;
    for (const auto& m : a.volume_mounts) mounts += MountItem(m);
    c += Section("volumeMounts", mounts);
  }
  return c;
}

std::string PodSpec(const ManifestRequest& r) {
  std::string s;
  if (r.kind != WorkloadKind::kDeployment) s += Entry("restartPolicy", "Never");
  s += Section("nodeSelector", Entries({r.mps.node_selector}));
  s += Section("securityContext", Entry("runAsUser", std::to_string(r.mps.run_as_user)));
  s += Section("containers", "- " + IndentRest(Container(r), 2));
  if (!r.mps.access.volumes.empty()) {
    std::string volumes;
    for (const auto& v : r.mps.access.volumes) volumes += VolumeItem(v);
    s += Section("volumes", volumes);
  }
  return s;
}

// metadata: the name (top level only), the app label, the access's annotations (pod only).
std::string Metadata(const ManifestRequest& r, bool with_name, bool pod) {
  std::string m;
  if (with_name) m += Entry("name", YamlScalar(r.name));
  m += Section("labels", Entry("app", YamlScalar(r.name)));
  if (pod && !r.mps.access.pod_annotations.empty()) m += Section("annotations", Entries(r.mps.access.pod_annotations));
  return m;
}

}  // namespace

std::string RenderManifest(const ManifestRequest& r) {
  std::string head = "# kindmps-api pod " + r.name + ": runs on a GPU node through its MPS server.\n";
  std::string pod_template = Section("metadata", Metadata(r, false, true)) + Section("spec", PodSpec(r));
  switch (r.kind) {
    case WorkloadKind::kPod:
      return head + Entry("apiVersion", "v1") + Entry("kind", "Pod") + Section("metadata", Metadata(r, true, true)) +
             Section("spec", PodSpec(r));
    case WorkloadKind::kDeployment:
      return head + Entry("apiVersion", "apps/v1") + Entry("kind", "Deployment") +
             Section("metadata", Metadata(r, true, false)) +
             Section("spec", Entry("replicas", std::to_string(r.replicas)) +
                                 Section("selector", Section("matchLabels", Entry("app", YamlScalar(r.name)))) +
                                 Section("template", pod_template));
    case WorkloadKind::kJob:
      return head + Entry("apiVersion", "batch/v1") + Entry("kind", "Job") +
             Section("metadata", Metadata(r, true, false)) +
             Section("spec", Entry("parallelism", std::to_string(r.replicas)) +
                                 Entry("completions", std::to_string(r.replicas)) + Section("template", pod_template));
  }
  return "";
}

}  // namespace kmps::pod
