#include "cli/cli.h"

namespace kmps::cli {

void RegisterCluster(CLI::App& app, Context& ctx) {
  (void)app;
  (void)ctx;
}

}  // namespace kmps::cli
