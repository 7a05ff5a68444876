#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "cli/cli.h"

namespace kmps::cli {

int Report(const Status& status) {
  if (status.ok()) return 0;
  fmt::print(stderr, "kindmps-api: {}\n", status.message());
  return ProcessExitCodeFor(status);
}

}  // namespace kmps::cli

int main(int argc, char** argv) {
  CLI::App app{"kindmps-api: NVIDIA MPS GPU sharing inside local kind clusters", "kindmps-api"};
  app.set_version_flag("--version", std::string("kindmps-api ") + KMPS_VERSION);
  app.require_subcommand(1);
  kmps::cli::Context ctx;
  kmps::cli::RegisterExec(app, ctx);
  kmps::cli::RegisterInspect(app, ctx);
  kmps::cli::RegisterCluster(app, ctx);
  kmps::cli::RegisterPod(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "kindmps-api: {} (see kindmps-api --help)\n", e.what());
    return 2;
  }
  return ctx.exit_code;
}
