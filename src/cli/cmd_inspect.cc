// `inspect` (what the host offers) and `config` (the kind Cluster config for it).
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include <fmt/core.h>

#include "common/json_text.h"
#include "cli/cli.h"
#include "common/file_util.h"
#include "config/config.h"
#include "config/overrides.h"
#include "kind/gpu_assign.h"
#include "kind/host_inspect.h"
#include "kind/host_paths.h"
#include "kind/kind_render.h"

namespace kmps::cli {
namespace {

struct InspectFlags {
  std::string config_path;
  std::string driver_root;
  std::string dev_root;
  std::string proc_root = "/";
  bool json = false;
  CLI::Option* driver_root_opt = nullptr;
  CLI::Option* dev_root_opt = nullptr;
  CLI::Option* proc_root_opt = nullptr;
};

struct ConfigFlags {
  std::string config_path;
  std::string name, image, driver_root, dev_root, output, kind_config;
  int workers = 0;
  CLI::Option *name_opt = nullptr, *image_opt = nullptr, *driver_root_opt = nullptr,
              *dev_root_opt = nullptr, *workers_opt = nullptr, *kind_config_opt = nullptr;
};

// Prints the missing items (exit 3) and returns the exit code, or 0 when the host is complete.
int ReportMissing(const kind::HostInventory& inv) {
  if (inv.complete()) return 0;
  std::string text = kind::DescribeMissing(inv);
  fmt::print(stderr, "kindmps-api: {}", text);
  return ExitCodeFor(kind::RequireComplete(inv));
}

std::string HumanTable(const kind::HostInventory& inv) {
  std::string out = fmt::format("NVIDIA driver {} (driver root {}, dev root {})\n",
                                inv.driver_version.empty() ? "(version unknown)" : inv.driver_version,
                                inv.driver_root, inv.dev_root);
  out += "libraries:\n";
  for (const auto& l : inv.libraries) {
    out += fmt::format("  {:<31} {} -> {}  {}{}\n", l.soname, l.link_path, l.real_path,
                       l.version.empty() ? "-" : l.version, l.required ? "" : "  (optional)");
  }
  out += "binaries:\n";
  for (const auto& b : inv.binaries) {
    out += fmt::format("  {:<31} {}{}{}\n", b.name, b.path,
                       b.real_path != b.path ? " -> " + b.real_path : "",
                       b.required ? "" : "  (optional)");
  }
  out += "devices:\n";
  for (const auto& d : inv.devices) {
    out += fmt::format("  {:<31} char {}:{}\n", d.path, d.major, d.minor);
  }
  out += "GPUs:\n";
  if (inv.gpus.empty()) out += "  (none)\n";
  for (const auto& g : inv.gpus) {
    out += fmt::format("  {:<3} {:<40} {:<13} MIG {:<8} {}{}\n", g.minor,
                       g.uuid.empty() ? "(UUID unknown)" : g.uuid, g.bus_id.empty() ? "-" : g.bus_id,
                       kind::MigModeName(g.mig), g.device_path, g.model.empty() ? "" : "  " + g.model);
  }
  out += "CDI specs:\n";
  if (inv.cdi_specs.empty()) out += "  (none)\n";
  for (const auto& c : inv.cdi_specs) out += fmt::format("  {}\n", c);
  if (!inv.warnings.empty()) {
    out += "notes:\n";
    for (const auto& w : inv.warnings) out += fmt::format("  {}\n", w);
  }
  return out;
}

int RunInspect(const InspectFlags& f) {
  config::ConfigOverrides o;
  if (f.driver_root_opt->count() > 0) o.driver_root = f.driver_root;
  if (f.dev_root_opt->count() > 0) o.dev_root = f.dev_root;
  if (f.proc_root_opt->count() > 0) o.proc_root = f.proc_root;  // checked as up's --proc-root
  auto config = config::LoadConfigWithOverrides(f.config_path, o);
  if (!config.ok()) return Report(config.status());
  kind::HostInventory inv = kind::InspectHost(kind::InspectOptionsFor(*config));
  // --json prints its document in any case (`complete: false` and `missing` say what lacks), as
  // the C and Python APIs return it; the exit code and stderr's lines are as without it.
  if (f.json) {
    fmt::print("{}\n", JsonText(inv.ToJson()));
    return ReportMissing(inv);
  }
  if (int rc = ReportMissing(inv); rc != 0) return rc;
  {
    fmt::print("{}", HumanTable(inv));
  }
  return 0;
}

int RunConfig(const ConfigFlags& f) {
  config::ConfigOverrides o;
  if (f.name_opt->count() > 0) o.name = f.name;
  if (f.image_opt->count() > 0) o.image = f.image;
  if (f.driver_root_opt->count() > 0) o.driver_root = f.driver_root;
  if (f.dev_root_opt->count() > 0) o.dev_root = f.dev_root;
  if (f.workers_opt->count() > 0) o.workers = f.workers;
  if (f.kind_config_opt->count() > 0) o.kind_config = f.kind_config;
  auto config = config::LoadConfigWithOverrides(f.config_path, o);
  if (!config.ok()) return Report(config.status());
  kind::HostInventory inv = kind::InspectHost(kind::InspectOptionsFor(*config));
  if (int rc = ReportMissing(inv); rc != 0) return rc;
  if (Status s = kind::CheckKindConfigHostPaths(*config, inv); !s.ok()) return Report(s);
  // What up would refuse, refused here too: GPUs the host lacks, MIG.
  if (auto assigned = kind::AssignGpus(*config, inv.gpus); !assigned.ok()) return Report(assigned.status());
  auto text = kind::RenderKindConfig(*config, inv);
  if (!text.ok()) return Report(text.status());
  for (const auto& w : inv.warnings) fmt::print(stderr, "kindmps-api: note: {}\n", w);
  if (f.output.empty() || f.output == "-") {
    fmt::print("{}", *text);
    return 0;
  }
  return Report(WriteFileAtomically(f.output, *text));
}

}  // namespace

void RegisterInspect(CLI::App& app, Context& ctx) {
  auto inspect_flags = std::make_shared<InspectFlags>();
  CLI::App* inspect = app.add_subcommand(
      "inspect", "Show the NVIDIA driver files, MPS binaries, device nodes and CDI specs found "
                 "on this host (exit 3 when something required is missing)");
  inspect->add_option("--config", inspect_flags->config_path,
                      "kindmps.yaml to read driverRoot/devRoot from (default ./kindmps.yaml if present)");
  inspect_flags->driver_root_opt = inspect->add_option(
      "--driver-root", inspect_flags->driver_root, "Where the driver's files live (default /)");
  inspect_flags->dev_root_opt = inspect->add_option(
      "--dev-root", inspect_flags->dev_root, "Where dev/nvidia* live (default /)");
  inspect_flags->proc_root_opt = inspect->add_option("--proc-root", inspect_flags->proc_root,
                      "Where proc/driver/nvidia lives: the GPUs, their UUIDs and MIG state (default /)");
  inspect->add_flag("--json", inspect_flags->json, "Print the inventory as JSON");
  inspect->callback([inspect_flags, &ctx] { ctx.exit_code = RunInspect(*inspect_flags); });

  auto config_flags = std::make_shared<ConfigFlags>();
  CLI::App* config = app.add_subcommand(
      "config", "Print the kind Cluster config that passes this host's NVIDIA driver through "
                "to the nodes");
  config->add_option("--config", config_flags->config_path,
                     "kindmps.yaml to read (default ./kindmps.yaml if present)");
  config_flags->name_opt = config->add_option("--name", config_flags->name,
                                              "Cluster name (default: $KIND_CLUSTER_NAME, else the file's, else kind)");
  config_flags->workers_opt = config->add_option("--workers", config_flags->workers,
                                                 "Number of worker nodes (default 0)");
  config_flags->image_opt = config->add_option("--image", config_flags->image, "Node image");
  config_flags->driver_root_opt = config->add_option("--driver-root", config_flags->driver_root,
                                                     "Where the driver's files live (default /)");
  config_flags->dev_root_opt = config->add_option("--dev-root", config_flags->dev_root,
                                                  "Where dev/nvidia* live (default /)");
  config_flags->kind_config_opt = config->add_option(
      "--kind-config", config_flags->kind_config, "Your own kind config to merge with ours (as up --kind-config)");
  config->add_option("--output,-o", config_flags->output, "Write to this file instead of stdout");
  config->callback([config_flags, &ctx] { ctx.exit_code = RunConfig(*config_flags); });
}

}  // namespace kmps::cli
