#include "cluster/api.h"

#include <fmt/core.h>

#include "cluster/nodes.h"
#include "mps/mps_control.h"

namespace kmps::cluster {

nlohmann::json MpsRepliesToJson(const std::vector<MpsReply>& replies, const std::function<std::string(Code)>& code_name) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : replies) {
    if (r.reply.ok()) {
      out.push_back({{"node", r.node}, {"ok", true}, {"reply", *r.reply}});
      if (r.gpu) out.back()["gpu"] = *r.gpu;
    } else {
      out.push_back({{"node", r.node},
                     {"ok", false},
                     {"error", r.reply.status().message()},
                     {"code", code_name ? code_name(r.reply.status().code())
                                        : std::string(CodeName(r.reply.status().code()))}});
      if (r.gpu) out.back()["gpu"] = *r.gpu;
    }
  }
  return {{"apiVersion", config::kConfigApiVersion}, {"kind", "MpsReplies"}, {"replies", out}};
}

Status FirstFailure(const std::vector<MpsReply>& replies) {
  for (const auto& r : replies) {
    if (!r.reply.ok()) return r.reply.status();
  }
  return Status::Ok();
}

Status NoSuchCluster(const std::string& name) {
  return NotFound(fmt::format("no cluster named {} (create it with kindmps-api up -n {})", name, name));
}

Api::Api(docker::DockerClient& client)
    : client_(&client), docker_env_(std::make_unique<DockerEnv>(client)), env_(docker_env_->env()) {}

Api::Api(Env env) : env_(env) {}

Api::~Api() = default;

Status Api::Reachable() { return client_ == nullptr ? Status::Ok() : client_->ApiVersion().status(); }

StatusOr<UpResult> Api::Up(const UpOptions& options, const ProgressFn& progress) {
  KMPS_RETURN_IF_ERROR(Reachable());
  return cluster::Up(env_, options, progress);
}

Status Api::Down(const DownRequest& request, const ProgressFn& progress) {
  KMPS_ASSIGN_OR_RETURN(config::ClusterConfig config, env_.state.Load(request.cluster));
  KMPS_RETURN_IF_ERROR(Reachable());
  DownOptions options;
  options.config = std::move(config);
  options.kind = request.kind.empty() ? "kind" : request.kind;
  options.keep_cluster = request.keep_cluster;
  options.kind_timeout = request.kind_timeout;
  options.kubeconfig = request.kubeconfig;
  return cluster::Down(env_, options, progress);
}

StatusOr<ClusterStatus> Api::ReadStatus(const std::string& cluster) {
  std::string name = cluster.empty() ? config::DefaultClusterConfig().name : cluster;
  KMPS_ASSIGN_OR_RETURN(std::optional<StateStore::Saved> saved, env_.state.Find(name));
  config::ClusterConfig config = config::DefaultClusterConfig();
  config.name = name;
  if (saved) config = saved->config;
  KMPS_RETURN_IF_ERROR(Reachable());
  KMPS_ASSIGN_OR_RETURN(ClusterStatus status, CollectStatus(env_.provider, config));
  if (!saved && status.nodes.empty()) return NoSuchCluster(name);
  // The cluster is the one saved, node for node: a node removed is a problem, not a smaller cluster.
  if (saved && !status.nodes.empty()) {
    std::vector<std::string> names;
    for (const auto& n : status.nodes) names.push_back(n.node.name);
    std::vector<std::string> shape = ShapeProblems(names, config);
    status.problems.insert(status.problems.end(), shape.begin(), shape.end());
  }
  return status;
}

StatusOr<GpuPlace> Api::GpuNode(const std::string& cluster, const std::string& gpu) {
  KMPS_ASSIGN_OR_RETURN(config::ClusterConfig config, env_.state.Load(cluster));
  KMPS_RETURN_IF_ERROR(Reachable());
  KMPS_ASSIGN_OR_RETURN(node::NodeList nodes, ListClusterNodes(env_.provider, config));
  if (nodes.empty()) return NoSuchCluster(config.name);
  KMPS_ASSIGN_OR_RETURN(node::Node * n, SelectGpuNode(nodes, config, gpu));
  GpuPlace place{n->name()};
  if (config.mps.daemons == config::MpsSettings::Daemons::kPerGpu) {
    KMPS_ASSIGN_OR_RETURN(std::vector<MpsTarget> chosen, DaemonTargets(*n, config, gpu));
    place.gpu = chosen.front().gpu;
  }
  return place;
}

StatusOr<std::vector<MpsReply>> Api::Mps(const MpsRequest& request) {
  if (request.command.empty()) {
    return InvalidArgument("an MPS command is needed, e.g. get_server_list");
  }
  KMPS_ASSIGN_OR_RETURN(config::ClusterConfig config, env_.state.Load(request.cluster));
  KMPS_RETURN_IF_ERROR(Reachable());
  KMPS_ASSIGN_OR_RETURN(node::NodeList nodes, ListClusterNodes(env_.provider, config));
  if (nodes.empty()) {
    KMPS_ASSIGN_OR_RETURN(std::optional<StateStore::Saved> saved, env_.state.Find(config.name));
    if (!saved) return NoSuchCluster(config.name);
  }
  std::vector<node::Node*> nodes_to;
  if (!request.gpu.empty()) {
    if (request.all || !request.node.empty()) return InvalidArgument("--gpu excludes --node and --all");
    KMPS_ASSIGN_OR_RETURN(node::Node * target, SelectGpuNode(nodes, config, request.gpu));
    nodes_to.push_back(target);
  } else {
    KMPS_ASSIGN_OR_RETURN(nodes_to, SelectMpsTargets(nodes, config, request.node, request.all));
  }
  // Each node's daemons (one, or one per GPU), `--gpu` choosing among them: the nodes at once, a
  // node's daemons one after the other (a node's connection serves one exec at a time).
  std::vector<std::vector<MpsReply>> per_node(nodes_to.size());
  auto sent = node::ParallelFor(nodes_to.size(), [&](size_t i) -> Status {
    KMPS_ASSIGN_OR_RETURN(std::vector<MpsTarget> daemons, DaemonTargets(*nodes_to[i], config, request.gpu));
    for (const auto& t : daemons) {
      per_node[i].push_back({t.node->name(), t.gpu, mps::SendCommand(*t.node, t.mps, request.command)});
    }
    return Status::Ok();
  });
  std::vector<MpsReply> replies;
  for (size_t i = 0; i < nodes_to.size(); ++i) {
    KMPS_RETURN_IF_ERROR(sent[i]);
    replies.insert(replies.end(), per_node[i].begin(), per_node[i].end());
  }
  return replies;
}

}  // namespace kmps::cluster
