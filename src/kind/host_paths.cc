#include "kind/host_paths.h"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include "kind/kind_render.h"
#include "kind/mountinfo.h"

namespace kmps::kind {
namespace {

// What is wrong with `path` as a file to bind-mount, or "" when it is a regular file.
std::string NotAFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno == ENOENT ? "does not exist" : std::strerror(errno);
  if (S_ISDIR(st.st_mode)) return kDirectoryNotFile;
  if (!S_ISREG(st.st_mode)) return "is not a regular file";
  return "";
}

bool Propagates(const config::ExtraMount& m) { return m.propagation == "HostToContainer" || m.propagation == "Bidirectional"; }

std::string Describe(const MountInfo& m) {
  if (m.slave()) return "a slave mount, not shared";
  return "private";
}

}  // namespace

Status CheckHostPathsExist(const std::vector<config::ExtraMount>& mounts) {
  for (const auto& m : mounts) {
    struct stat st {};
    if (::stat(m.host_path.c_str(), &st) != 0) {
      int e = errno;
      return InvalidArgument(fmt::format("extraMounts: hostPath {} {}: create it, or fix extraMounts in kindmps.yaml",
                                         m.host_path, e == ENOENT ? "does not exist" : std::strerror(e)));
    }
  }
  return Status::Ok();
}

Status CheckDriverFiles(const std::vector<config::ExtraMount>& mounts) {
  for (const auto& m : mounts) {
    // A device node passed through from a dev root (GpuMounts) is a character device, as it should be.
    struct stat st {};
    if (m.container_path.rfind("/dev/", 0) == 0 && ::stat(m.host_path.c_str(), &st) == 0 && S_ISCHR(st.st_mode)) {
      continue;
    }
    std::string problem = NotAFile(m.host_path);
    if (problem.empty()) continue;
    bool directory = problem == kDirectoryNotFile;
    return EnvironmentMissing(fmt::format("driver file {} (for {} in the nodes) {}: {}", m.host_path,
                                          m.container_path, problem,
                                          directory ? "remove the directory and reinstall the NVIDIA driver"
                                                    : "reinstall the NVIDIA driver, or see kindmps-api inspect"));
  }
  return Status::Ok();
}

Status CheckPropagation(const std::vector<config::ExtraMount>& mounts, std::string_view mountinfo) {
  std::vector<MountInfo> table;
  for (const auto& m : mounts) {
    if (!Propagates(m)) continue;
    if (table.empty()) table = ParseMountInfo(mountinfo);
    char resolved[PATH_MAX];
    std::string path = ::realpath(m.host_path.c_str(), resolved) != nullptr ? resolved : m.host_path;
    const MountInfo* holder = MountHolding(table, path);
    if (holder == nullptr) continue;
    bool bidirectional = m.propagation == "Bidirectional";
    if (holder->shared() || (!bidirectional && holder->slave())) continue;
    return InvalidArgument(fmt::format(
        "extraMounts: hostPath {} has propagation {}, but the mount holding it, {}, is {}, so Docker would refuse "
        "it: run mount --make-rshared {}, or set propagation: None",
        m.host_path, m.propagation, holder->mount_point, Describe(*holder), holder->mount_point));
  }
  return Status::Ok();
}

bool MountTableIsTheDaemons(const char* docker_host) {
  if (docker_host == nullptr || *docker_host == '\0') return true;
  return std::string_view(docker_host).substr(0, 7) == "unix://";
}

Status CheckKindConfigHostPaths(const config::ClusterConfig& config, const HostInventory& inventory) {
  KMPS_RETURN_IF_ERROR(CheckDriverFiles(GpuMounts(inventory)));
  KMPS_RETURN_IF_ERROR(CheckHostPathsExist(config.extra_mounts));
  bool any = false;
  for (const auto& m : config.extra_mounts) any = any || Propagates(m);
  if (!any || !MountTableIsTheDaemons(std::getenv("DOCKER_HOST"))) return Status::Ok();
  std::ifstream in("/proc/self/mountinfo");
  std::stringstream text;
  text << in.rdbuf();
  return CheckPropagation(config.extra_mounts, text.str());
}

}  // namespace kmps::kind
