// kmps_host_inspect and kmps_kind_config: no Docker involved.
#include "common/json_text.h"
#include "capi/capi_internal.h"
#include "capi/options.h"
#include "kind/host_inspect.h"
#include "kind/host_paths.h"
#include "kind/kind_render.h"
#include "kindmps.h"

using namespace kmps;
using kmps::capi::Barrier;
using kmps::capi::CopyString;
using kmps::capi::NullArgument;
using kmps::capi::SetError;

extern "C" {

int kmps_host_inspect(const char* driver_root, const char* dev_root, char** out_json) {
  return Barrier(__func__, [&](const char* fn) -> int {
    if (out_json == nullptr) return NullArgument(fn, "out_json");
    *out_json = nullptr;
    kind::InspectOptions options;
    if (driver_root != nullptr && *driver_root != '\0') options.driver_root = driver_root;
    if (dev_root != nullptr && *dev_root != '\0') options.dev_root = dev_root;
    kind::HostInventory inventory = kind::InspectHost(options);
    char* json = CopyString(JsonText(inventory.ToJson()));
    *out_json = json;  // also when incomplete: the document lists what is missing
    return SetError(kind::RequireComplete(inventory));
  });
}

int kmps_kind_config(const char* options_json, char** out_yaml) {
  return Barrier(__func__, [&](const char* fn) -> int {
    if (out_yaml == nullptr) return NullArgument(fn, "out_yaml");
    *out_yaml = nullptr;
    auto config = capi::ParseOptions(capi::OrEmpty(options_json));
    if (!config.ok()) return SetError(config.status());
    kind::HostInventory inventory = kind::InspectHost(kind::InspectOptionsFor(*config));
    if (Status s = kind::RequireComplete(inventory); !s.ok()) return SetError(s);
    if (Status s = kind::CheckKindConfigHostPaths(*config, inventory); !s.ok()) return SetError(s);
    auto yaml = kind::RenderKindConfig(*config, inventory);
    if (!yaml.ok()) return SetError(yaml.status());
    *out_yaml = CopyString(*yaml);
    return KMPS_OK;
  });
}

}  // extern "C"
