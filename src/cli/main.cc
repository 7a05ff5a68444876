#include <cstdio>
#include <iostream>
#include <new>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "cli/cli.h"
#include "common/number.h"
#include "common/json_text.h"
#include "common/text.h"
#include "config/config.h"
#include "docker_api/docker_client.h"

namespace kmps::cli {

CLI::Validator Seconds(double max) {
  return CLI::Validator(
      [max](std::string& text) -> std::string {
        if (ParseSeconds(text, max)) return "";
        return fmt::format("expected seconds, more than 0 and at most {:g} (e.g. 30 or 2.5), got \"{}\"", max, text);
      },
      "SECONDS");
}

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000 + 0.5));
}

int Report(const Status& status) {
  if (status.ok()) return 0;
  fmt::print(stderr, "kindmps-api: {}\n", status.message());
  return ProcessExitCodeFor(status);
}

}  // namespace kmps::cli

namespace {

// `kindmps-api version [--json]`: ours, the C library's ABI, and the Docker API versions (the
// range spoken, and the engine's when it answers).
int RunVersion(bool json) {
  std::string engine = "unreachable";
  if (auto client = kmps::docker::DockerClient::Create(); client.ok()) {
    if (auto v = (*client)->ApiVersion(); v.ok()) engine = *v;
  }
  if (json) {
    nlohmann::json j = {{"apiVersion", kmps::config::kConfigApiVersion},
                        {"kind", "Version"},
                        {"version", KMPS_VERSION},
                        {"libraryAbi", "libkindmps.so.0 (KINDMPS_0)"},
                        {"dockerApi",
                         {{"clientMin", kmps::docker::kClientMinApiVersion},
                          {"clientMax", kmps::docker::kClientMaxApiVersion},
                          {"negotiated", engine == "unreachable" ? nlohmann::json(nullptr) : nlohmann::json(engine)}}}};
    fmt::print("{}\n", kmps::JsonText(j));
    return 0;
  }
  fmt::print("kindmps-api {}\nlibrary: libkindmps.so.0 (ABI KINDMPS_0)\nDocker API: {} to {}; the engine: {}\n",
             KMPS_VERSION, kmps::docker::kClientMinApiVersion, kmps::docker::kClientMaxApiVersion, engine);
  return 0;
}

// The subcommand names, for "unknown command" and `help`.
std::string Commands(const CLI::App& app) {
  std::string names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (!sub->get_group().empty()) names += fmt::format("{}{}", names.empty() ? "" : ", ", sub->get_name());
  }
  return names;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kindmps-api: NVIDIA MPS GPU sharing inside local kind clusters", "kindmps-api"};
  app.set_version_flag("--version", std::string("kindmps-api ") + KMPS_VERSION);
  app.require_subcommand(1);
  kmps::cli::Context ctx;
  // Before the command, as kind's global flags; `up` and `down` take them after it too.
  app.add_flag_callback("-q,--quiet", [&] { ctx.verbosity = -1; }, "No progress on stderr, only errors");
  app.add_flag_callback("-v,--verbose", [&] { ctx.verbosity = 1; }, "kind's own output lines in the progress too");
  kmps::cli::RegisterExec(app, ctx);
  kmps::cli::RegisterInspect(app, ctx);
  kmps::cli::RegisterCluster(app, ctx);
  kmps::cli::RegisterPod(app, ctx);
  kmps::cli::RegisterCompletion(app, ctx);

  bool version_json = false;
  CLI::App* version = app.add_subcommand("version", "Print the versions: kindmps-api, its library, the Docker API");
  version->add_flag("--json", version_json, "Print JSON");
  version->callback([&] { ctx.exit_code = RunVersion(version_json); });

  std::string help_on;
  CLI::App* help = app.add_subcommand("help", "Print the help of a command: kindmps-api help up");
  help->add_option("command", help_on, "The command");
  help->callback([&] {
    if (help_on.empty()) {
      fmt::print("{}", app.help());
      return;
    }
    CLI::App* sub = nullptr;
    try {
      sub = app.get_subcommand(help_on);
    } catch (const CLI::OptionNotFound&) {
    }
    if (sub == nullptr) {
      fmt::print(stderr, "kindmps-api: unknown command \"{}\" (commands: {})\n", help_on, Commands(app));
      ctx.exit_code = 2;
      return;
    }
    fmt::print("{}", sub->help());
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // The first word, when it names no command, is what the user mistyped: say so.
    if (argc > 1 && argv[1][0] != '-' && app.get_subcommands().empty()) {
      bool known = false;
      for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        known = known || sub->check_name(argv[1]);
      }
      if (!known) {
        fmt::print(stderr, "kindmps-api: unknown command \"{}\" (commands: {}; see kindmps-api --help)\n", argv[1],
                   Commands(app));
        return 2;
      }
    }
    // exec's usage errors are 125, as docker exec's (its own failures, not the command's).
    bool exec = false;
    for (const CLI::App* sub : app.get_subcommands()) exec = exec || sub->get_name() == "exec";
    fmt::print(stderr, "kindmps-api: {} (see kindmps-api {}--help)\n", e.what(), exec ? "exec " : "");
    return exec ? 125 : 2;
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
