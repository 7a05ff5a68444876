// The Docker client handle and exec.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "capi/capi_client.h"
#include "capi/capi_internal.h"
#include "kindmps.h"

using namespace kmps;
using kmps::capi::Barrier;
using kmps::capi::CopyString;
using kmps::capi::NullArgument;
using kmps::capi::SetError;

namespace {

// Copies a NULL-terminated string array.
std::vector<std::string> Strings(const char* const* list) {
  std::vector<std::string> out;
  if (list == nullptr) return out;
  for (; *list != nullptr; ++list) out.emplace_back(*list);
  return out;
}

// A result whose buffers are malloc'd, released by kmps_exec_result_free().
kmps_exec_result* NewResult(const docker::ExecResult& r) {
  auto* result = static_cast<kmps_exec_result*>(std::calloc(1, sizeof(kmps_exec_result)));
  if (result == nullptr) throw std::bad_alloc();
  try {
    result->out = CopyString(r.out);
    result->err = CopyString(r.err);
  } catch (...) {
    kmps_exec_result_free(result);
    throw;
  }
  result->exit_code = r.exit_code;
  result->out_len = r.out.size();
  result->err_len = r.err.size();
  return result;
}

}  // namespace

extern "C" {

int kmps_client_new(kmps_client** out, const char* docker_host_or_null) {
  return Barrier(__func__, [&](const char* fn) -> int {
    if (out == nullptr) return NullArgument(fn, "out");
    *out = nullptr;
    docker::ClientOptions options;
    options.docker_host = capi::OrEmpty(docker_host_or_null);
    auto client = docker::DockerClient::Create(options);
    if (!client.ok()) return SetError(client.status());
    auto handle = std::make_unique<kmps_client>();
    handle->docker = std::move(*client);
    *out = handle.release();
    return KMPS_OK;
  });
}

void kmps_client_free(kmps_client* client) {
  delete client;  // ~DockerClient does not throw
}

int kmps_client_ping(kmps_client* client) {
  return Barrier(__func__, [&](const char* fn) -> int {
    if (client == nullptr) return NullArgument(fn, "client");
    return SetError(client->docker->Ping());
  });
}

void kmps_exec_result_free(kmps_exec_result* result) {
  if (result == nullptr) return;
  std::free(result->out);
  std::free(result->err);
  std::free(result);
}

int kmps_client_exec(kmps_client* client, const char* container, const char* const* argv,
                     const char* const* env_or_null, int timeout_ms, kmps_exec_result** out) {
  return Barrier(__func__, [&](const char* fn) -> int {
    if (out == nullptr) return NullArgument(fn, "out");
    *out = nullptr;
    if (client == nullptr) return NullArgument(fn, "client");
    if (container == nullptr) return NullArgument(fn, "container");
    if (argv == nullptr) return NullArgument(fn, "argv");
    if (*container == '\0') return SetError(InvalidArgument("kmps_client_exec: `container` must not be empty"));
    if (argv[0] == nullptr) {
      return SetError(InvalidArgument("kmps_client_exec: `argv` must hold at least the command"));
    }
    docker::ExecOptions options;
    options.cmd = Strings(argv);
    options.env = Strings(env_or_null);
    options.timeout = std::chrono::milliseconds(timeout_ms > 0 ? timeout_ms : 60000);
    auto result = client->docker->ExecCapture(container, options);
    if (!result.ok()) return SetError(result.status());
    *out = NewResult(*result);
    return KMPS_OK;
  });
}

}  // extern "C"
