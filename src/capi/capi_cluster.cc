// kmps_cluster_status, kmps_cluster_up, kmps_cluster_down, kmps_mps_command: the CLI's cluster
// commands, same semantics and the same JSON documents (src/cli/cmd_cluster.cc); and the first
// names of the three, as aliases.
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
StatusOr<kind::ClusterConfig> SavedConfig(const char* cluster_or_null) {
  return cluster::LoadSavedConfig(capi::OrEmpty(cluster_or_null));
}

// As the CLI's Connect(): the API version negotiation's /_ping is the reachability check (once per
// handle; later calls reuse the negotiated version), so an unreachable daemon is code 3 up front.
Status Reachable(kmps_client& client) { return client.docker->ApiVersion().status(); }

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

}  // namespace

extern "C" {

int kmps_cluster_status(kmps_client* client, const char* cluster_or_null, char** out_json) {
  return Barrier(__func__, [&](const char* fn) -> int {
    if (out_json == nullptr) return NullArgument(fn, "out_json");
    *out_json = nullptr;
    if (client == nullptr) return NullArgument(fn, "client");
    auto config = SavedConfig(cluster_or_null);
    if (!config.ok()) return SetError(config.status());
    if (Status s = Reachable(*client); !s.ok()) return SetError(s);
    auto status = cluster::CollectStatus(*client->docker, *config);
    if (!status.ok()) return SetError(status.status());
    *out_json = CopyString(status->ToJson().dump(2));
    return SetError(status->AsStatus());
  });
}

int kmps_cluster_up(kmps_client* client, const char* options_json, kmps_progress_fn progress, void* user_data,
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
    *out_json = CopyString(result->ToJson().dump(2));
    return SetError(result->status.AsStatus());
  });
}

int kmps_cluster_down(kmps_client* client, const char* cluster_or_null, const char* kind_or_null, int keep_cluster,
                      kmps_progress_fn progress, void* user_data) {
  return Barrier(__func__, [&](const char* fn) -> int {
    if (client == nullptr) return NullArgument(fn, "client");
    auto config = SavedConfig(cluster_or_null);
    if (!config.ok()) return SetError(config.status());
    cluster::DownOptions options;
    options.config = *config;
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
    auto config = SavedConfig(cluster_or_null);
    if (!config.ok()) return SetError(config.status());
    if (Status s = Reachable(*client); !s.ok()) return SetError(s);
    auto nodes = cluster::ListNodes(*client->docker, *config);
    if (!nodes.ok()) return SetError(nodes.status());
    auto targets = cluster::SelectMpsTargets(*nodes, *config, node_name, /*all=*/false);
    if (!targets.ok()) return SetError(targets.status());
    cluster::DockerNode node(*client->docker, targets->front().name);
    auto reply = mps::SendCommand(node, config->mps, command);
    if (!reply.ok()) return SetError(reply.status());
    *out_reply = CopyString(*reply);
    return KMPS_OK;
  });
}

// The names of libkindmps 0.1.0, deprecated in kindmps.h: the same functions (one address, the
// version node KINDMPS_0 of the map), so that programs linked against them keep working.
int kmps_status(kmps_client*, const char*, char**) __attribute__((alias("kmps_cluster_status")));
int kmps_up(kmps_client*, const char*, kmps_progress_fn, void*, char**) __attribute__((alias("kmps_cluster_up")));
int kmps_down(kmps_client*, const char*, const char*, int, kmps_progress_fn, void*)
    __attribute__((alias("kmps_cluster_down")));

}  // extern "C"
