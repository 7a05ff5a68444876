// The kubeconfig files kind edits, and the lock files it takes on them: kind creates
// "<file>.lock" (O_EXCL) before it edits a kubeconfig and fails (exit 1) while one exists, so a
// lock left by a killed kind or kubectl makes every later create and delete fail.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kmps::kind {

// The kubeconfig files kind considers, as kind resolves them: $KUBECONFIG split at ':' (empty
// entries and repeats dropped), else $HOME/.kube/config. Pure.
std::vector<std::string> KubeconfigPaths(std::string_view kubeconfig_env, std::string_view home);
// KubeconfigPaths of this process's environment (HOME unset: the passwd entry's home).
std::vector<std::string> KubeconfigPathsFromEnvironment();

// Which files a kind command locks: `create cluster` the one it merges into (the only file, else
// the first that exists as a file, else the last); `delete cluster` every one, in order.
enum class KindCommand { kCreate, kDelete };
std::vector<std::string> KubeconfigsLockedBy(KindCommand command, const std::vector<std::string>& paths);

// kFailed naming the first "<file>.lock" that exists among `files`; kindmps-api never removes it.
Status CheckNoKubeconfigLock(const std::vector<std::string>& files);

// CheckNoKubeconfigLock for what `command` would lock: `explicit_file` (kind's --kubeconfig)
// when given, else as kind resolves it from the environment.
Status CheckKubeconfigUnlocked(KindCommand command, const std::string& explicit_file = "");

}  // namespace kmps::kind
