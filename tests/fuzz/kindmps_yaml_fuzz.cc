// kindmps.yaml (config/decode.h): the user's file, any text; the first byte picks whether apiVersion
// and kind are required (a kindmps.yaml) or optional (the C API's JSON options). What parses is
// what `up` saves, once the whole config is valid: it must read back from the state file as it was.
#include <stdlib.h>

#include "cluster/state.h"
#include "config/decode.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kmps::config::TypeMeta;
  static const bool env = setenv("KMPS_STATE_DIR", kmps::fuzz::ScratchDir().c_str(), 1) == 0;
  KMPS_FUZZ_CHECK(env);
  if (size == 0) return 0;
  TypeMeta meta = data[0] & 1 ? TypeMeta::kOptional : TypeMeta::kRequired;
  std::string text(kmps::fuzz::Bytes(data + 1, size - 1));
  auto c = kmps::config::ParseClusterConfig(text, "kindmps.yaml", meta);
  if (!c.ok()) {
    KMPS_FUZZ_CHECK(c.status().code() == kmps::Code::kInvalidArgument);
    return 0;
  }
  KMPS_FUZZ_CHECK(c->workers >= 0 && c->workers <= kmps::config::kMaxWorkers);
  // What `up` saves has passed the whole-config checks too (LoadConfigWithOverrides).
  kmps::Status whole = kmps::config::ValidateClusterConfig(*c);
  if (!whole.ok()) {
    KMPS_FUZZ_CHECK(whole.code() == kmps::Code::kInvalidArgument);
    return 0;
  }
  kmps::Status saved = kmps::cluster::SaveState(*c);
  if (!saved.ok()) {
    std::fprintf(stderr, "SaveState: %s\n", saved.ToString().c_str());
    KMPS_FUZZ_CHECK(saved.ok());
  }
  auto loaded = kmps::cluster::LoadSavedConfig(c->name);
  if (!loaded.ok()) {
    std::fprintf(stderr, "LoadSavedConfig: %s\n", loaded.status().ToString().c_str());
    KMPS_FUZZ_CHECK(loaded.ok());
  }
  KMPS_FUZZ_CHECK(loaded->name == c->name && loaded->image == c->image && loaded->workers == c->workers);
  KMPS_FUZZ_CHECK(loaded->gpu_nodes == c->gpu_nodes);
  KMPS_FUZZ_CHECK(loaded->shm_bytes == c->shm_bytes && loaded->shm_size == c->shm_size);
  KMPS_FUZZ_CHECK(loaded->mps.pipe_directory == c->mps.pipe_directory);
  return 0;
}
