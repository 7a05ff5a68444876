#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "cli/cli.h"
#include "common/number.h"
#include "common/text.h"

namespace kmps::cli {

CLI::Validator Seconds(double max) {
  return CLI::Validator(
      [max](std::string& text) -> std::string {
        if (ParseSeconds(text, max)) return "";
        return fmt::format("expected seconds, more than 0 and at most {:g} (e.g. 30 or 2.5), got \"{}\"", max, text);
      },
      "SECONDS");
}

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
  } catch (const std::bad_alloc&) {
    // The one place anything unexpected ends: one line and exit 1, never a stack or an abort.
    fmt::print(stderr, "kindmps-api: out of memory; this is a bug if the input was small: please report it\n");
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "kindmps-api: internal error: {}; this is a bug: please report it with the command line\n",
               kmps::OneLine(e.what()));
    return 1;
  } catch (...) {
    fmt::print(stderr, "kindmps-api: internal error (an unknown exception); this is a bug: please report it\n");
    return 1;
  }
  return ctx.exit_code;
}
