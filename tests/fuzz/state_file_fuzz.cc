// The state file `up` leaves (cluster/state.h): $KMPS_STATE_DIR/<cluster>/kindmps.json, any
// bytes (another version's, an edited or a truncated one).
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "cluster/state.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string file = [] {
    KMPS_FUZZ_CHECK(setenv("KMPS_STATE_DIR", kmps::fuzz::ScratchDir().c_str(), 1) == 0);
    std::filesystem::create_directories(kmps::fuzz::ScratchDir() + "/fuzz");
    return kmps::fuzz::ScratchDir() + "/fuzz/kindmps.json";
  }();
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    KMPS_FUZZ_CHECK(out.good());
  }
  auto c = kmps::cluster::LoadSavedConfig("fuzz");
  if (!c.ok()) {
    KMPS_FUZZ_CHECK(c.status().code() == kmps::Code::kInvalidArgument);
    return 0;
  }
  KMPS_FUZZ_CHECK(c->name == "fuzz");
  return 0;
}
