// `completion bash|zsh|fish` and the man page, written from the app's own commands and flags, so
// that neither can fall behind them.
#include <fmt/core.h>
#include <fmt/format.h>

#include "cli/cli.h"

namespace kmps::cli {
namespace {

struct Flag {
  std::vector<std::string> names;  // "-n", "--name"
  std::string description;
  bool takes_value = false;
};

struct Command {
  std::string name, description;
  std::vector<Flag> flags;
};

std::vector<Command> Commands(const CLI::App& app) {
  std::vector<Command> out;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_group().empty()) continue;  // hidden
    Command c{sub->get_name(), sub->get_description(), {}};
    for (const CLI::Option* o : sub->get_options()) {
      if (!o->nonpositional()) continue;
      Flag f;
      for (const auto& s : o->get_snames()) f.names.push_back("-" + s);
      for (const auto& l : o->get_lnames()) f.names.push_back("--" + l);
      f.description = o->get_description();
      f.takes_value = o->get_items_expected_max() > 0;
      c.flags.push_back(std::move(f));
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::string Quote(std::string s, char q = '\'') {
  std::string out(1, q);
  for (char c : s) {
    if (c == q) out += q == '\'' ? "'\\''" : "\\\"";
    else out += c;
  }
  return out + q;
}

std::string Bash(const std::vector<Command>& commands) {
  std::string names, cases;
  for (const auto& c : commands) {
    names += (names.empty() ? "" : " ") + c.name;
    std::vector<std::string> flags;
    for (const auto& f : c.flags) flags.insert(flags.end(), f.names.begin(), f.names.end());
    cases += fmt::format("    {}) opts={} ;;\n", c.name, Quote(fmt::format("{}", fmt::join(flags, " "))));
  }
  return fmt::format(R"(# bash completion for kindmps-api (kindmps-api completion bash)
_kindmps_api() {{
  local cur=${{COMP_WORDS[COMP_CWORD]}} cmd= i opts=
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${{COMP_WORDS[i]}} in -*) ;; *) cmd=${{COMP_WORDS[i]}}; break ;; esac
  done
  if [ -z "$cmd" ]; then
    COMPREPLY=($(compgen -W {} -- "$cur"))
    return
  fi
  case $cmd in
{}  esac
  case $cur in
    -*) COMPREPLY=($(compgen -W "$opts" -- "$cur")) ;;
    *) COMPREPLY=($(compgen -f -- "$cur")) ;;
  esac
}}
complete -F _kindmps_api kindmps-api
)",
                     Quote(names), cases);
}

std::string Zsh(const std::vector<Command>& commands) {
  std::string described, cases;
  for (const auto& c : commands) {
    described += fmt::format("    {}\n", Quote(c.name + ":" + c.description));
    std::string args;
    for (const auto& f : c.flags) {
      for (const auto& n : f.names) {
        args += fmt::format(" \\\n        {}", Quote(fmt::format("{}[{}]{}", n, f.description, f.takes_value ? ":value:_files" : "")));
      }
    }
    cases += fmt::format("    {}) _arguments{} '*:file:_files' ;;\n", c.name, args);
  }
  return fmt::format(R"(#compdef kindmps-api
# zsh completion for kindmps-api (kindmps-api completion zsh)
_kindmps_api() {{
  local -a commands
  commands=(
{}  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  local cmd=${{words[2]}}
  shift words; (( CURRENT-- ))
  case $cmd in
{}  esac
}}
_kindmps_api "$@"
)",
                     described, cases);
}

std::string Fish(const std::vector<Command>& commands) {
  std::string out = "# fish completion for kindmps-api (kindmps-api completion fish)\ncomplete -c kindmps-api -f\n";
  for (const auto& c : commands) {
    out += fmt::format("complete -c kindmps-api -n __fish_use_subcommand -a {} -d {}\n", c.name, Quote(c.description));
    for (const auto& f : c.flags) {
      std::string names;
      for (const auto& n : f.names) {
        names += n.rfind("--", 0) == 0 ? fmt::format(" -l {}", n.substr(2)) : fmt::format(" -s {}", n.substr(1));
      }
      out += fmt::format("complete -c kindmps-api -n '__fish_seen_subcommand_from {}'{}{} -d {}\n", c.name, names,
                         f.takes_value ? " -r" : "", Quote(f.description));
    }
  }
  return out;
}

// roff text: a leading '.' or '\'' would be a request, '\' an escape.
std::string Roff(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '\\' ? std::string("\\e") : c == '-' ? std::string("\\-") : std::string(1, c);
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

std::string Man(const CLI::App& app, const std::vector<Command>& commands) {
  std::string out = fmt::format(".TH KINDMPS-API 1 \"\" \"kindmps-api {}\" \"User Commands\"\n", KMPS_VERSION);
  std::string about = app.get_description();
  if (size_t colon = about.find(": "); colon != std::string::npos) about = about.substr(colon + 2);
  out += ".SH NAME\nkindmps\\-api \\- " + Roff(about) + "\n";
  out += ".SH SYNOPSIS\n.B kindmps\\-api\n.I command\n[\\fIflags\\fR]\n";
  out += ".SH DESCRIPTION\nkindmps\\-api creates a kind cluster whose GPU nodes run an NVIDIA MPS control daemon, "
         "and tells whether it is healthy. Exit codes: 0 success or healthy; 1 failed or unhealthy; 2 usage error or "
         "invalid input; 3 environment missing (no Docker, no kind, no driver); 128+N after signal N (130 for "
         "SIGINT, 143 for SIGTERM); exec returns the command's own code, and 125 for its own failures.\n";
  out += ".SH COMMANDS\n";
  for (const auto& c : commands) {
    out += fmt::format(".SS {}\n{}\n", Roff(c.name), Roff(c.description));
    for (const auto& f : c.flags) {
      std::string names;
      for (const auto& n : f.names) names += fmt::format("{}\\fB{}\\fR", names.empty() ? "" : ", ", Roff(n));
      out += fmt::format(".TP\n{}{}\n{}\n", names, f.takes_value ? " \\fIvalue\\fR" : "", Roff(f.description));
    }
  }
  out += ".SH ENVIRONMENT\n.TP\n.B KIND_CLUSTER_NAME\nthe cluster, where \\-n/\\-\\-name is not given (it beats the "
         "config file's name)\n.TP\n.B DOCKER_HOST\nthe Docker engine (unix:// or tcp://); else DOCKER_CONTEXT, else the docker config's currentContext\n.TP\n.B DOCKER_API_VERSION\n"
         "the Docker API version to speak, instead of negotiating it\n.TP\n.B KMPS_STATE_DIR\nwhere the clusters' "
         "saved state lives (else $XDG_STATE_HOME/kindmps, else ~/.local/state/kindmps)\n";
  out += ".SH SEE ALSO\n.BR kind (1),\n.BR docker (1)\n";
  return out;
}

}  // namespace

void RegisterCompletion(CLI::App& app, Context& ctx) {
  auto shell = std::make_shared<std::string>();
  CLI::App* completion = app.add_subcommand("completion", "Print the shell completion script: bash, zsh or fish");
  completion->add_option("shell", *shell, "bash, zsh or fish")->required()->check(CLI::IsMember({"bash", "zsh", "fish"}));
  completion->callback([&app, &ctx, shell] {
    std::vector<Command> commands = Commands(app);
    fmt::print("{}", *shell == "bash" ? Bash(commands) : *shell == "zsh" ? Zsh(commands) : Fish(commands));
    ctx.exit_code = 0;
  });
  // The man page, built with the program (src/cli/CMakeLists.txt) and installed.
  CLI::App* man = app.add_subcommand("man", "Print the man page (roff)");
  man->group("");
  man->callback([&app, &ctx] {
    fmt::print("{}", Man(app, Commands(app)));
    ctx.exit_code = 0;
  });
}

}  // namespace kmps::cli
