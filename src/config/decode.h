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
// Reads and parses a file (TypeMeta::kRequired); a missing file is kInvalidArgument naming it.
StatusOr<ClusterConfig> LoadClusterConfig(const std::string& path);

}  // namespace kmps::config
