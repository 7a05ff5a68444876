// `kindmps-api pod --patch FILE`: adds what PodMps asks to every Pod template of a multi-document
// YAML text (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job,
// CronJob, PodTemplate), splicing new lines into the original text so that everything else stays
// byte for byte (other documents, comments, key order, quoting). yaml-cpp parses and gives the
// positions; nothing is re-emitted.
//
// New keys go before the first key of the block map they belong to, new list items before the
// first item, at that key's or item's column. What is already there and equal is kept (a patched
// file patches to itself); what contradicts it, or cannot be edited in place (flow style, an
// empty value, an alias), is kInvalidArgument "FILE:LINE:COL: what; what to change".
#pragma once

#include <string>

#include "common/status.h"
#include "pod/pod_options.h"

namespace kmps::pod {

struct PatchResult {
  std::string text;
  int pod_templates = 0;  // how many Pod templates were found (patched or already patched)
};

// `file` names the text in messages ("-" reads as "<stdin>").
StatusOr<PatchResult> PatchManifests(const std::string& text, const std::string& file, const PodMps& mps);

}  // namespace kmps::pod
