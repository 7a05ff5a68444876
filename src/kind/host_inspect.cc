#include "kind/host_inspect.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/core.h>
#include <fmt/format.h>

#include "config/config.h"
#include "kind/elf_so.h"
#include "kind/host_paths.h"
#include "kind/ld_cache.h"
#include "kind/ld_conf.h"
#include "kind/root_fs.h"

namespace kmps::kind {
namespace {

bool Exists(const std::string& host_path) {
  struct stat st {};
  return lstat(host_path.c_str(), &st) == 0;
}

// Whether `inside` names something (a dangling link included) under `root`, its directories'
// symlinks followed within the root.
bool ExistsInRoot(const std::string& root, const std::string& inside) {
  std::string norm = NormalizePath(inside);
  if (norm == "/") return Exists(HostPath(root, "/"));
  size_t slash = norm.rfind('/');
  auto parent = ResolveInRoot(root, slash == 0 ? "/" : norm.substr(0, slash));
  if (!parent.ok()) return false;
  return Exists(parent->host + "/" + norm.substr(slash + 1));
}

// Why a path is a trap, or "" when it is not one.
std::string TrapReason(const std::string& inside) {
  if (HasComponent(inside, "stubs")) return "a CUDA toolkit link-time stub, not the driver";
  if (HasComponent(inside, "compat")) {
    return "a CUDA forward-compatibility driver, not the one that matches the kernel module";
  }
  return "";
}

// Everything the library search reads once per inspection.
struct LoaderView {
  std::string cache_host;
  std::vector<LdCacheEntry> cache;
  std::vector<std::string> dirs;  // ld.so.conf dirs, then the standard ones (inside the root)
  std::string places;             // for messages: where the search looked
};

LoaderView ReadLoaderView(const std::string& root, std::vector<std::string>& warnings) {
  LoaderView view;
  view.cache_host = HostPath(root, "/etc/ld.so.cache");
  std::vector<std::string> places;
  std::ifstream in(view.cache_host, std::ios::binary);
  if (in) {
    std::stringstream bytes;
    bytes << in.rdbuf();
    auto parsed = ParseLdCache(bytes.str(), view.cache_host);
    if (parsed.ok()) {
      view.cache = std::move(parsed).value();
      places.push_back(view.cache_host);
    } else {
      warnings.push_back(parsed.status().message());
      places.push_back(view.cache_host + " (unreadable)");
    }
  } else {
    places.push_back(view.cache_host + " (absent)");
  }
  LdConfDirs conf = ReadLdSoConfDirs(root);
  for (auto& w : conf.warnings) warnings.push_back(std::move(w));
  view.dirs = conf.dirs;
  for (const auto& d : StandardLibraryDirs()) {
    if (std::find(view.dirs.begin(), view.dirs.end(), d) == view.dirs.end()) view.dirs.push_back(d);
  }
  for (const auto& d : view.dirs) places.push_back(HostPath(root, d));
  view.places = fmt::format("{}", fmt::join(places, ", "));
  return view;
}

void FindLibrary(const std::string& root, const LoaderView& view, const WantedLibrary& wanted,
                 HostInventory& inv) {
  std::vector<std::string> candidates;
  for (const auto& e : LookupX8664(view.cache, wanted.soname)) candidates.push_back(e.path);
  for (const auto& d : view.dirs) candidates.push_back(d + "/" + wanted.soname);

  std::vector<std::string> problems;
  std::vector<std::string> tried;
  for (const auto& cand_raw : candidates) {
    std::string cand = NormalizePath(cand_raw);
    if (std::find(tried.begin(), tried.end(), cand) != tried.end()) continue;
    tried.push_back(cand);
    std::string link_host = HostPath(root, cand);
    if (!ExistsInRoot(root, cand)) continue;
    if (std::string why = TrapReason(cand); !why.empty()) {
      inv.warnings.push_back(fmt::format("{}: skipped {}: {}", wanted.soname, link_host, why));
      continue;
    }
    auto resolved = ResolveInRoot(root, cand);
    if (!resolved.ok()) {
      problems.push_back(resolved.status().message());
      continue;
    }
    if (std::string why = TrapReason(resolved->inside); !why.empty()) {
      inv.warnings.push_back(fmt::format("{}: skipped {} -> {}: {}", wanted.soname, link_host,
                                         resolved->host, why));
      continue;
    }
    auto soname = ReadElfSoname(resolved->host);
    if (!soname.ok()) {
      problems.push_back(soname.status().message());
      continue;
    }
    if (*soname != wanted.soname) {
      problems.push_back(fmt::format("{} has SONAME {}, not {}", resolved->host, *soname,
                                     wanted.soname));
      continue;
    }
    HostLibrary lib;
    lib.soname = wanted.soname;
    lib.link_path = link_host;
    lib.real_path = resolved->host;
    std::string base = resolved->inside.substr(resolved->inside.rfind('/') + 1);
    lib.version = VersionFromFileName(wanted.soname, base);
    lib.required = wanted.required;
    inv.libraries.push_back(std::move(lib));
    for (auto& p : problems) inv.warnings.push_back(fmt::format("{}: ignored {}", wanted.soname, p));
    return;
  }
  // Optional ones get a short note: where it looked matters only for what is required.
  std::string line = wanted.required
                         ? fmt::format("library {}: not found (looked in {})", wanted.soname, view.places)
                         : fmt::format("optional library {}: not found", wanted.soname);
  for (const auto& p : problems) line += "; " + p;
  (wanted.required ? inv.missing : inv.warnings).push_back(std::move(line));
}

void FindBinary(const std::string& root, const WantedBinary& wanted, HostInventory& inv) {
  std::vector<std::string> problems;
  std::vector<std::string> places;
  for (const auto& dir : BinaryDirs()) {
    std::string inside = dir + "/" + wanted.name;
    std::string host = HostPath(root, inside);
    places.push_back(HostPath(root, dir));
    if (!ExistsInRoot(root, inside)) continue;
    auto resolved = ResolveInRoot(root, inside);
    if (!resolved.ok()) {
      problems.push_back(resolved.status().message());
      continue;
    }
    struct stat st {};
    if (stat(resolved->host.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      problems.push_back(
          fmt::format("{} {}", resolved->host, S_ISDIR(st.st_mode) ? kDirectoryNotFile : "is not a regular file"));
      continue;
    }
    if ((st.st_mode & 0111) == 0) {
      problems.push_back(fmt::format("{} is not executable", resolved->host));
      continue;
    }
    inv.binaries.push_back({wanted.name, host, resolved->host, wanted.required});
    for (auto& p : problems) inv.warnings.push_back(fmt::format("{}: ignored {}", wanted.name, p));
    return;
  }
  std::string line = wanted.required ? fmt::format("binary {}: not found (looked in {})",
                                                   wanted.name, fmt::join(places, ", "))
                                     : fmt::format("optional binary {}: not found", wanted.name);
  for (const auto& p : problems) line += "; " + p;
  (wanted.required ? inv.missing : inv.warnings).push_back(std::move(line));
}

// Checks one device node; returns false (with a `missing` line) when it is absent or wrong.
bool CheckDevice(const std::string& path, bool required, HostInventory& inv) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    if (required) inv.missing.push_back(fmt::format("device {}: does not exist", path));
    else inv.warnings.push_back(fmt::format("optional device {}: does not exist", path));
    return false;
  }
  if (!S_ISCHR(st.st_mode)) {
    std::string line = fmt::format("device {}: is not a character device", path);
    if (required) inv.missing.push_back(std::move(line));
    else inv.warnings.push_back("optional " + line);
    return false;
  }
  inv.devices.push_back({path, static_cast<int>(major(st.st_rdev)), static_cast<int>(minor(st.st_rdev))});
  return true;
}

bool IsGpuDeviceName(const std::string& name) {
  if (name.size() <= 6 || name.compare(0, 6, "nvidia") != 0) return false;
  return std::all_of(name.begin() + 6, name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void FindDevices(const std::string& dev_root, HostInventory& inv) {
  std::string dev = HostPath(dev_root, "/dev");
  std::vector<std::string> gpus;
  if (DIR* d = opendir(dev.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (IsGpuDeviceName(name)) gpus.push_back(name);
    }
    closedir(d);
  }
  std::sort(gpus.begin(), gpus.end(), [](const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return a.size() < b.size();
    return a < b;
  });
  if (gpus.empty()) {
    inv.missing.push_back(fmt::format("device {}/nvidia[0-9]*: no GPU device node", dev));
  }
  for (const auto& g : gpus) CheckDevice(dev + "/" + g, true, inv);
  CheckDevice(dev + "/nvidiactl", true, inv);
  CheckDevice(dev + "/nvidia-uvm", true, inv);
  CheckDevice(dev + "/nvidia-uvm-tools", false, inv);
}

void FindGpus(const InspectOptions& options, HostInventory& inv) {
  GpuInventoryOptions o;
  o.proc_root = NormalizePath(options.proc_root.empty() ? "/" : options.proc_root);
  o.dev_root = inv.dev_root;
  if (options.query_nvidia_smi) {
    for (const auto& b : inv.binaries) {
      if (b.name == "nvidia-smi") o.nvidia_smi = b.real_path;
    }
  }
  GpuInventory gpus = ReadGpuInventory(o);
  inv.gpus = std::move(gpus.gpus);
  for (auto& m : gpus.missing) inv.missing.push_back(std::move(m));
  for (auto& w : gpus.warnings) inv.warnings.push_back(std::move(w));
}

void FindCdiSpecs(const std::string& root, HostInventory& inv) {
  for (const std::string dir : {"/etc/cdi", "/var/run/cdi"}) {
    if (!ExistsInRoot(root, dir)) continue;
    auto resolved = ResolveInRoot(root, dir);
    if (!resolved.ok()) {
      inv.warnings.push_back(fmt::format("CDI directory {}", resolved.status().message()));
      continue;
    }
    std::vector<std::string> names;
    if (DIR* d = opendir(resolved->host.c_str())) {
      while (dirent* e = readdir(d)) {
        std::string name = e->d_name;
        auto ends = [&](const std::string& ext) {
          return name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0;
        };
        if (ends(".yaml") || ends(".json")) names.push_back(name);
      }
      closedir(d);
    }
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      auto spec = ResolveInRoot(root, resolved->inside + "/" + name);
      struct stat st {};
      if (!spec.ok() || stat(spec->host.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        inv.warnings.push_back(fmt::format("CDI spec {}: not a readable regular file; ignored",
                                           HostPath(root, dir + "/" + name)));
        continue;
      }
      inv.cdi_specs.push_back(spec->host);
      inv.cdi_spec_inside.push_back(dir + "/" + name);
    }
  }
}

}  // namespace

const std::vector<WantedLibrary>& WantedLibraries() {
  static const std::vector<WantedLibrary> libs = {
      {"libcuda.so.1", true},
      {"libnvidia-ml.so.1", true},
      {"libnvidia-ptxjitcompiler.so.1", true},
      {"libnvidia-gpucomp.so.1", false},
      {"libnvidia-nvvm.so.4", false},
  };
  return libs;
}

const std::vector<WantedBinary>& WantedBinaries() {
  static const std::vector<WantedBinary> bins = {
      {"nvidia-cuda-mps-control", true},
      {"nvidia-cuda-mps-server", true},
      {"nvidia-smi", false},
  };
  return bins;
}

const std::vector<std::string>& BinaryDirs() {
  static const std::vector<std::string> dirs = {"/usr/local/nvidia/bin", "/usr/bin", "/usr/sbin",
                                                "/bin", "/sbin", "/usr/local/bin"};
  return dirs;
}

std::string VersionFromFileName(const std::string& soname, const std::string& file_name) {
  size_t so = soname.find(".so");
  if (so == std::string::npos) return "";
  std::string stem = soname.substr(0, so + 3) + ".";
  if (file_name.size() <= stem.size() || file_name.compare(0, stem.size(), stem) != 0) return "";
  std::string suffix = file_name.substr(stem.size());
  std::string own = soname.size() > stem.size() ? soname.substr(stem.size()) : "";
  if (suffix == own) return "";
  bool ok = std::all_of(suffix.begin(), suffix.end(),
                        [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
  if (!ok || suffix.front() == '.' || suffix.back() == '.') return "";
  return suffix;
}

InspectOptions InspectOptionsFor(const config::ClusterConfig& config) {
  InspectOptions o;
  o.driver_root = config.driver_root;
  o.dev_root = config.dev_root;
  o.proc_root = config.proc_root;
  return o;
}

HostInventory InspectHost(const InspectOptions& options) {
  HostInventory inv;
  inv.driver_root = NormalizePath(options.driver_root.empty() ? "/" : options.driver_root);
  inv.dev_root = NormalizePath(options.dev_root.empty() ? "/" : options.dev_root);
  struct stat st {};
  if (stat(inv.driver_root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    inv.missing.push_back(fmt::format("driver root {}: not a directory", inv.driver_root));
  }
  if (inv.dev_root != inv.driver_root &&
      (stat(inv.dev_root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))) {
    inv.missing.push_back(fmt::format("dev root {}: not a directory", inv.dev_root));
  }
  LoaderView view = ReadLoaderView(inv.driver_root, inv.warnings);
  for (const auto& lib : WantedLibraries()) FindLibrary(inv.driver_root, view, lib, inv);
  for (const auto& lib : inv.libraries) {
    if (lib.soname == "libcuda.so.1") inv.driver_version = lib.version;
  }
  for (const auto& lib : inv.libraries) {
    if (!inv.driver_version.empty() && !lib.version.empty() && lib.version != inv.driver_version) {
      inv.warnings.push_back(fmt::format("{} is version {}, libcuda.so.1 is {}", lib.real_path,
                                         lib.version, inv.driver_version));
    }
  }
  for (const auto& bin : WantedBinaries()) FindBinary(inv.driver_root, bin, inv);
  FindDevices(inv.dev_root, inv);
  FindGpus(options, inv);
  FindCdiSpecs(inv.driver_root, inv);
  return inv;
}

nlohmann::json HostInventory::ToJson() const {
  nlohmann::json j;
  j["apiVersion"] = config::kConfigApiVersion;
  j["kind"] = "HostInventory";
  j["driverRoot"] = driver_root;
  j["devRoot"] = dev_root;
  j["driverVersion"] = driver_version;
  j["complete"] = complete();
  j["libraries"] = nlohmann::json::array();
  for (const auto& l : libraries) {
    j["libraries"].push_back({{"soname", l.soname}, {"linkPath", l.link_path},
                              {"realPath", l.real_path}, {"version", l.version},
                              {"required", l.required}});
  }
  j["binaries"] = nlohmann::json::array();
  for (const auto& b : binaries) {
    j["binaries"].push_back(
        {{"name", b.name}, {"path", b.path}, {"realPath", b.real_path}, {"required", b.required}});
  }
  j["devices"] = nlohmann::json::array();
  for (const auto& d : devices) {
    j["devices"].push_back({{"path", d.path}, {"major", d.major}, {"minor", d.minor}});
  }
  j["gpus"] = nlohmann::json::array();
  for (const auto& g : gpus) {
    j["gpus"].push_back({{"minor", g.minor}, {"uuid", g.uuid}, {"model", g.model}, {"busId", g.bus_id},
                         {"device", g.device_path}, {"mig", MigModeName(g.mig)}});
  }
  j["cdiSpecs"] = cdi_specs;
  j["missing"] = missing;
  j["warnings"] = warnings;
  return j;
}

Status RequireComplete(const HostInventory& inventory) {
  if (inventory.complete()) return Status::Ok();
  return EnvironmentMissing(fmt::format(
      "no usable NVIDIA driver under driver root {} (dev root {}): {} required item(s) missing: {}",
      inventory.driver_root, inventory.dev_root, inventory.missing.size(),
      fmt::join(inventory.missing, "; ")));
}

std::string DescribeMissing(const HostInventory& inventory) {
  if (inventory.complete()) return "";
  std::string out = fmt::format(
      "no usable NVIDIA driver under driver root {} (dev root {}): {} required item(s) missing\n",
      inventory.driver_root, inventory.dev_root, inventory.missing.size());
  for (const auto& m : inventory.missing) out += "  missing: " + m + "\n";
  // Notes on optional items would drown the required ones; traps and ignored files stay.
  for (const auto& w : inventory.warnings) {
    if (w.rfind("optional ", 0) != 0) out += "  note: " + w + "\n";
  }
  out += "  hint: run this on the machine with the NVIDIA driver installed, or point "
         "--driver-root/--dev-root (driverRoot/devRoot in kindmps.yaml) at where its files live\n";
  return out;
}

}  // namespace kmps::kind
