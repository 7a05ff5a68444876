// Kubernetes object names: the DNS-1123 label rules (RFC 1123), which a name must follow to be
// the Pod's, the Deployment's or the Job's name, its container's name and its `app` label.
#pragma once

#include <string_view>

#include "common/status.h"

namespace kmps::pod {

// OK when `name` is a DNS-1123 label: 1 to 63 characters, only lowercase letters, digits and
// '-', starting and ending with a letter or digit. Else kInvalidArgument saying which rule
// failed, naming it as `what` (e.g. "pod name").
Status ValidateDns1123Label(std::string_view name, std::string_view what);

}  // namespace kmps::pod
