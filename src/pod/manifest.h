// `kindmps-api pod NAME --image IMG`: a ready manifest (Pod, Deployment or Job) whose Pod reaches
// the node's MPS. Pure; deterministic text (block YAML, two-space indentation).
#pragma once

#include <string>

#include "pod/pod_options.h"

namespace kmps::pod {

std::string RenderManifest(const ManifestRequest& request);

}  // namespace kmps::pod
