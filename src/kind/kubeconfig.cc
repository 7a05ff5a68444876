#include "kind/kubeconfig.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include <fmt/core.h>

namespace kmps::kind {
namespace {

bool IsFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string HomeDirectory() {
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return home;
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) return pw->pw_dir;
  return "";
}

}  // namespace

std::vector<std::string> KubeconfigPaths(std::string_view kubeconfig_env, std::string_view home) {
  std::vector<std::string> paths;
  size_t pos = 0;
  while (pos <= kubeconfig_env.size()) {
    size_t end = std::min(kubeconfig_env.find(':', pos), kubeconfig_env.size());
    std::string entry(kubeconfig_env.substr(pos, end - pos));
    if (!entry.empty() && std::find(paths.begin(), paths.end(), entry) == paths.end()) paths.push_back(entry);
    pos = end + 1;
  }
  if (paths.empty()) paths.push_back(fmt::format("{}/.kube/config", home));
  return paths;
}

std::vector<std::string> KubeconfigPathsFromEnvironment() {
  const char* env = std::getenv("KUBECONFIG");
  return KubeconfigPaths(env == nullptr ? "" : env, HomeDirectory());
}

std::vector<std::string> KubeconfigsLockedBy(KindCommand command, const std::vector<std::string>& paths) {
  if (command == KindCommand::kDelete || paths.size() <= 1) return paths;
  auto existing = std::find_if(paths.begin(), paths.end(), IsFile);
  return {existing != paths.end() ? *existing : paths.back()};
}

Status CheckNoKubeconfigLock(const std::vector<std::string>& files) {
  for (const auto& file : files) {
    std::string lock = file + ".lock";
    if (!Exists(lock)) continue;
    return Failed(fmt::format(
        "kubeconfig lock file {} exists, so kind would fail to edit {}: remove it if no kind or kubectl is running",
        lock, file));
  }
  return Status::Ok();
}

Status CheckKubeconfigUnlocked(KindCommand command, const std::string& explicit_file) {
  if (!explicit_file.empty()) return CheckNoKubeconfigLock({explicit_file});
  return CheckNoKubeconfigLock(KubeconfigsLockedBy(command, KubeconfigPathsFromEnvironment()));
}

}  // namespace kmps::kind
