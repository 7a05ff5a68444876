#include "kind/root_fs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/core.h>

namespace kmps::kind {
namespace {

constexpr int kMaxSymlinks = 40;  // like the kernel's MAXSYMLINKS

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

std::string Join(const std::vector<std::string>& parts) {
  if (parts.empty()) return "/";
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out;
}

}  // namespace

std::string NormalizePath(const std::string& path) {
  // std::filesystem's lexical rules (repeated slashes, ".", "..", ".." at the root stays there),
  // from the root, without the trailing slash that lexically_normal keeps for "a/".
  std::string normal = (std::filesystem::path("/") / path).lexically_normal().string();
  if (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

std::string HostPath(const std::string& root, const std::string& inside) {
  std::string norm_root = NormalizePath(root.empty() ? "/" : root);
  std::string norm_inside = NormalizePath(inside);
  if (norm_root == "/") return norm_inside;
  if (norm_inside == "/") return norm_root;
  return norm_root + norm_inside;
}

std::string InsidePath(const std::string& root, const std::string& host_path) {
  std::string norm_root = NormalizePath(root.empty() ? "/" : root);
  std::string norm = NormalizePath(host_path);
  if (norm_root == "/") return norm;
  if (norm == norm_root) return "/";
  if (norm.size() > norm_root.size() && norm.compare(0, norm_root.size(), norm_root) == 0 &&
      norm[norm_root.size()] == '/') {
    return norm.substr(norm_root.size());
  }
  return norm;
}

bool HasComponent(const std::string& path, const std::string& component) {
  for (const auto& part : Split(path)) {
    if (part == component) return true;
  }
  return false;
}

StatusOr<ResolvedPath> ResolveInRoot(const std::string& root, const std::string& inside) {
  // `done` holds the resolved components so far; `todo` the ones still to walk (reversed).
  std::vector<std::string> done;
  std::vector<std::string> todo = Split(inside);
  std::reverse(todo.begin(), todo.end());
  int links = 0;
  // The links being followed, innermost last: until the walk leaves a link's target (`todo`
  // shrinks to `floor`), a missing component means that link dangles.
  struct Following {
    size_t floor;
    std::string link;
    std::string target;
  };
  std::vector<Following> following;
  while (!todo.empty()) {
    std::string part = std::move(todo.back());
    todo.pop_back();
    if (part == ".") continue;
    if (part == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    done.push_back(part);
    std::string host = HostPath(root, Join(done));
    struct stat st {};
    if (lstat(host.c_str(), &st) != 0) {
      int err = errno;
      if (!following.empty() && err == ENOENT) {
        return NotFound(fmt::format("{} is a dangling symlink to {} ({} does not exist)",
                                    HostPath(root, following.back().link),
                                    following.back().target, host));
      }
      if (err == ENOENT) return NotFound(fmt::format("{} does not exist", HostPath(root, inside)));
      return NotFound(fmt::format("{}: {}", host, std::strerror(err)));
    }
    if (!S_ISLNK(st.st_mode)) {
      while (!following.empty() && todo.size() <= following.back().floor) following.pop_back();
      continue;
    }
    if (++links > kMaxSymlinks) {
      return Failed(fmt::format("{}: too many levels of symbolic links", HostPath(root, inside)));
    }
    std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 256) + 1, '\0');
    ssize_t n = readlink(host.c_str(), target.data(), target.size());
    if (n < 0) return NotFound(fmt::format("{}: readlink: {}", host, std::strerror(errno)));
    target.resize(static_cast<size_t>(n));
    following.push_back({todo.size(), Join(done), target});
    done.pop_back();
    if (!target.empty() && target[0] == '/') done.clear();
    std::vector<std::string> more = Split(target);
    for (auto it = more.rbegin(); it != more.rend(); ++it) todo.push_back(*it);
  }
  ResolvedPath out;
  out.inside = Join(done);
  out.host = HostPath(root, out.inside);
  return out;
}

}  // namespace kmps::kind
