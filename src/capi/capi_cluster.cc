// kmps_status, kmps_up, kmps_down, kmps_mps_command: the CLI's cluster commands, same semantics
// and the same JSON documents (src/cli/cmd_cluster.cc).
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "capi/capi_client.h"
#include "capi/capi_internal.h"
#include "capi/options.h"
#include "cluster/node.h"
#include "cluster/nodes.h"
#include "cluster/state.h"
#include "cluster/status.h"
#include "cluster/up.h"
#include "kindmps.h"
#include "mps/mps_control.h"

using namespace kmps;
using kmps::capi::Barrier;
using kmps::capi::CopyString;
using kmps::capi::NullArgument;
using kmps::capi::SetError;

namespace {

// The settings `up` saved for the named cluster (or the default name), as the CLI reads them.
kind::ClusterConfig SavedConfig(const char* cluster_or_null) {
  kind::ClusterConfig fallback = kind::DefaultClusterConfig();
  if (cluster_or_null != nullptr && *cluster_or_null != '\0') fallback.name = cluster_or_null;
  return cluster::LoadStateOr(fallback.name, fallback);
}

// As the CLI's Connect(): the API version negotiation's /_ping is the reachability check (once per
// handle; later calls reuse the negotiated version), so an unreachable daemon is code 3 up front.
Status Reachable(kmps_client& client) { return client.docker->ApiVersion().status(); }

// The first problem of an unhealthy cluster, for the one-line error.
std::string FirstProblem(const cluster::ClusterStatus& s) {
  if (!s.problems.empty()) return s.problems.front();
  for (const auto& n : s.nodes) {
    if (!n.problems.empty()) return n.problems.front();
  }
  return "unhealthy";
}

Status Unhealthy(const cluster::ClusterStatus& s) {
  return Failed(fmt::format("cluster {} is unhealthy: {}", s.cluster, FirstProblem(s)));
}

// Adapts a C callback: the event's strings live as long as the ProgressEvent.
cluster::ProgressFn Progress(kmps_progress_fn fn, void* user_data) {
  if (fn == nullptr) return nullptr;
  return [fn, user_data](const cluster::ProgressEvent& e) {
    kmps_progress_event event;
    using K = cluster::ProgressEvent::Kind;
    switch (e.kind) {
      case K::kStepStarted: event.kind = KMPS_PROGRESS_STEP_STARTED; break;
      case K::kStepDone: event.kind = KMPS_PROGRESS_STEP_DONE; break;
      case K::kStepFailed: event.kind = KMPS_PROGRESS_STEP_FAILED; break;
      case K::kLine: event.kind = KMPS_PROGRESS_LINE; break;
    }
    event.step = e.step;
    event.total = e.total;
    event.title = e.title.c_str();
    event.detail = e.detail.c_str();
    event.elapsed_ms = e.elapsed_ms;
    fn(&event, user_data);
  };
}

// `up --json`'s document.
nlohmann::json UpJson(const cluster::UpResult& r) {
  nlohmann::json j = r.status.ToJson();
  j["kindConfig"] = r.kind_config_path;
  j["created"] = r.created;
  j["timings"] = {{"totalMs", r.total_ms}, {"kindMs", r.kind_ms}, {"oursMs", r.total_ms - r.kind_ms}};
  return j;
}

}  // namespace

extern "C" {

int kmps_status(kmps_client* client, const char* cluster_or_null, char** out_json) {
  return Barrier(__func__, [&](const char* fn) -> int {
    if (out_json == nullptr) return NullArgument(fn, "out_json");
    *out_json = nullptr;
    if (client == nullptr) return NullArgument(fn, "client");
    kind::ClusterConfig config = SavedConfig(cluster_or_null);
    if (Status s = Reachable(*client); !s.ok()) return SetError(s);
    auto status = cluster::CollectStatus(*client->docker, config);
    if (!status.ok()) return SetError(status.status());
    *out_json = CopyString(status->ToJson().dump(2));
    return status->healthy() ? KMPS_OK : SetError(Unhealthy(*status));
  });
}

int kmps_up(kmps_client* client, const char* options_json, kmps_progress_fn progress, void* user_data,
            char** out_json) {
  return Barrier(__func__, [&](const char* fn) -> int {
    if (out_json == nullptr) return NullArgument(fn, "out_json");
    *out_json = nullptr;
    if (client == nullptr) return NullArgument(fn, "client");
    auto request = capi::ParseUpOptions(capi::OrEmpty(options_json));
    if (!request.ok()) return SetError(request.status());
    if (Status s = Reachable(*client); !s.ok()) return SetError(s);
    cluster::UpOptions options;
    options.config = request->config;
    options.kind = request->kind;
    options.recreate = request->recreate;
    auto result = cluster::Up(*client->docker, options, Progress(progress, user_data));
    if (!result.ok()) return SetError(result.status());
    *out_json = CopyString(UpJson(*result).dump(2));
    return result->status.healthy() ? KMPS_OK : SetError(Unhealthy(result->status));
  });
}

int kmps_down(kmps_client* client, const char* cluster_or_null, const char* kind_or_null, int keep_cluster,
              kmps_progress_fn progress, void* user_data) {
  return Barrier(__func__, [&](const char* fn) -> int {
    if (client == nullptr) return NullArgument(fn, "client");
    cluster::DownOptions options;
    options.config = SavedConfig(cluster_or_null);
    if (kind_or_null != nullptr && *kind_or_null != '\0') options.kind = kind_or_null;
    options.keep_cluster = keep_cluster != 0;
    if (Status s = Reachable(*client); !s.ok()) return SetError(s);
    return SetError(cluster::Down(*client->docker, options, Progress(progress, user_data)));
  });
}

int kmps_mps_command(kmps_client* client, const char* cluster_or_null, const char* node_or_null,
                     const char* command, char** out_reply) {
  return Barrier(__func__, [&](const char* fn) -> int {
    if (out_reply == nullptr) return NullArgument(fn, "out_reply");
    *out_reply = nullptr;
    if (client == nullptr) return NullArgument(fn, "client");
    if (command == nullptr) return NullArgument(fn, "command");
    if (*command == '\0') {
      return SetError(InvalidArgument("kmps_mps_command: `command` must not be empty, e.g. get_server_list"));
    }
    std::string node_name = capi::OrEmpty(node_or_null);
    kind::ClusterConfig config = SavedConfig(cluster_or_null);
    if (Status s = Reachable(*client); !s.ok()) return SetError(s);
    auto nodes = cluster::ListNodes(*client->docker, config);
    if (!nodes.ok()) return SetError(nodes.status());
    std::vector<cluster::NodeRef> targets;
    for (const auto& n : *nodes) {
      if (!node_name.empty() ? n.name == node_name : n.gpu) targets.push_back(n);
    }
    if (targets.empty()) {
      return SetError(node_name.empty() ? Failed(fmt::format("cluster {} has no GPU node", config.name))
                                        : NotFound(fmt::format("no node {} in cluster {}", node_name, config.name)));
    }
    if (targets.size() > 1) {
      return SetError(InvalidArgument(
          fmt::format("cluster {} has {} GPU nodes: name one", config.name, targets.size())));
    }
    cluster::DockerNode node(*client->docker, targets.front().name);
    auto reply = mps::SendCommand(node, config.mps, command);
    if (!reply.ok()) return SetError(reply.status());
    *out_reply = CopyString(*reply);
    return KMPS_OK;
  });
}

}  // extern "C"
