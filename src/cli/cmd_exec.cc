#include "cli/cli.h"

namespace kmps::cli {

void RegisterExec(CLI::App& app, Context& ctx) {
  (void)app;
  (void)ctx;
}

}  // namespace kmps::cli
