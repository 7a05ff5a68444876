// kmps_cluster_status, kmps_cluster_up, kmps_cluster_down, kmps_mps_command: the CLI's cluster
// commands, same semantics and the same JSON documents (src/cli/cmd_cluster.cc); and the first
// names of the three, as aliases.
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "common/json_text.h"
#include "capi/capi_client.h"
#include "capi/capi_internal.h"
#include "capi/options.h"
#include "cluster/api.h"
#include "kindmps.h"

using namespace kmps;
using kmps::capi::Barrier;
using kmps::capi::CopyString;
using kmps::capi::NullArgument;
using kmps::capi::SetError;

namespace {

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
    auto status = cluster::Api(*client->docker).ReadStatus(capi::OrEmpty(cluster_or_null));
    if (!status.ok()) return SetError(status.status());
    *out_json = CopyString(JsonText(status->ToJson()));
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
    cluster::UpOptions options;
    options.config = request->config;
    options.kind = request->kind;
    options.recreate = request->recreate;
    auto result = cluster::Api(*client->docker).Up(options, Progress(progress, user_data));
    if (!result.ok()) return SetError(result.status());
    *out_json = CopyString(JsonText(result->ToJson()));
    return SetError(result->status.AsStatus());
  });
}

int kmps_cluster_down(kmps_client* client, const char* cluster_or_null, const char* kind_or_null, int keep_cluster,
                      kmps_progress_fn progress, void* user_data) {
  return Barrier(__func__, [&](const char* fn) -> int {
    if (client == nullptr) return NullArgument(fn, "client");
    cluster::DownRequest request{capi::OrEmpty(cluster_or_null), capi::OrEmpty(kind_or_null), keep_cluster != 0};
    return SetError(cluster::Api(*client->docker).Down(request, Progress(progress, user_data)));
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
    auto replies = cluster::Api(*client->docker)
                       .Mps({capi::OrEmpty(cluster_or_null), capi::OrEmpty(node_or_null), false, command});
    if (!replies.ok()) return SetError(replies.status());
    // One reply is asked for: a node with a daemon per GPU (mps.daemons perGpu) has several.
    if (replies->size() > 1) {
      return SetError(InvalidArgument(fmt::format("kmps_mps_command: node {} runs {} MPS daemons, one per GPU "
                                                  "(mps.daemons perGpu); use kmps_mps_command_all for every reply",
                                                  replies->front().node, replies->size())));
    }
    const cluster::MpsReply& only = replies->front();
    if (!only.reply.ok()) return SetError(only.reply.status());
    *out_reply = CopyString(*only.reply);
    return KMPS_OK;
  });
}

int kmps_mps_command_all(kmps_client* client, const char* cluster_or_null, const char* command, char** out_json) {
  return Barrier(__func__, [&](const char* fn) -> int {
    if (out_json == nullptr) return NullArgument(fn, "out_json");
    *out_json = nullptr;
    if (client == nullptr) return NullArgument(fn, "client");
    if (command == nullptr) return NullArgument(fn, "command");
    if (*command == '\0') {
      return SetError(InvalidArgument("kmps_mps_command_all: `command` must not be empty, e.g. get_server_list"));
    }
    auto replies = cluster::Api(*client->docker).Mps({capi::OrEmpty(cluster_or_null), "", true, command});
    if (!replies.ok()) return SetError(replies.status());
    // "code" is the error kind's name (kmps_error_kind_name), as the bindings know them.
    auto kind_name = [](Code code) -> std::string { return kmps_error_kind_name(capi::KindFor(code)); };
    *out_json = CopyString(JsonText(cluster::MpsRepliesToJson(*replies, kind_name)));
    return SetError(cluster::FirstFailure(*replies));
  });
}

// The names of libkindmps 0.1.0, deprecated in kindmps.h: the same functions (one address, the
// version node KINDMPS_0 of the map), so that programs linked against them keep working.
int kmps_status(kmps_client*, const char*, char**) __attribute__((alias("kmps_cluster_status")));
int kmps_up(kmps_client*, const char*, kmps_progress_fn, void*, char**) __attribute__((alias("kmps_cluster_up")));
int kmps_down(kmps_client*, const char*, const char*, int, kmps_progress_fn, void*)
    __attribute__((alias("kmps_cluster_down")));

}  // extern "C"
