// Reading kindmps.yaml strictly: unknown keys, wrong types, negative counts and bad sizes are
// kInvalidArgument with "file:line:column: what was expected".
#pragma once

#include <string>

#include "common/status.h"
#include "config/config.h"

namespace kmps::config {

// Whether a document must carry apiVersion and kind: a kindmps.yaml must (even an empty one);
// the C API's JSON options need not, but where they do, the values are checked.
enum class TypeMeta { kRequired, kOptional };

// Parses `text` (named `file` in messages) over the defaults. A missing apiVersion or kind is
// "file:1:1: apiVersion is missing; add ..." (kInvalidArgument), a wrong one names both values.
StatusOr<ClusterConfig> ParseClusterConfig(const std::string& text, const std::string& file,
                                           TypeMeta type_meta = TypeMeta::kRequired);
// The largest kindmps.yaml read: far more than any config needs, checked before it is read.
inline constexpr size_t kMaxConfigFileBytes = 1 << 20;

// Reads and parses a file (TypeMeta::kRequired) of one YAML document: a second document is an
// error at its first line, not ignored. A missing file is kNotFound naming it; a directory, FIFO,
// dangling link, unreadable file or one over kMaxConfigFileBytes is kInvalidArgument saying so
// (ReadRegularFile).
StatusOr<ClusterConfig> LoadClusterConfig(const std::string& path);

// Reads config.kind_config_file (when set) into config.kind_config_text, as strictly as a
// kindmps.yaml (ReadRegularFile, kMaxConfigFileBytes), and checks it (ParseUserKindConfig,
// CheckUserKindConfig against `config`). kInvalidArgument naming the file.
Status ReadKindConfigFile(ClusterConfig& config);

}  // namespace kmps::config
