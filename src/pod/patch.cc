#include "pod/patch.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include "pod/yaml_text.h"

namespace kmps::pod {
namespace {

// The kinds whose Pod template is at spec.template.
const std::set<std::string> kTemplateKinds = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
                                              "ReplicationController", "Job"};

struct Field {
  YAML::Node key;
  YAML::Node value;
};

// `map`'s entry `key` (none when `map` is no map or lacks it). Keys are compared as scalars.
std::optional<Field> Find(const YAML::Node& map, std::string_view key) {
  if (!map.IsMap()) return std::nullopt;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return Field{it->first, it->second};
  }
  return std::nullopt;
}

YAML::Node Get(const YAML::Node& map, std::string_view key) {
  auto f = Find(map, key);
  return f ? f->value : YAML::Node(YAML::NodeType::Undefined);
}

std::string ScalarOr(const YAML::Node& n, std::string fallback) { return n.IsScalar() ? n.Scalar() : fallback; }

// What a node reads as in a message: a scalar's text, else its kind.
std::string Shown(const YAML::Node& n) {
  if (n.IsScalar()) return fmt::format("\"{}\"", n.Scalar());
  if (n.IsMap()) return "a map";
  if (n.IsSequence()) return "a list";
  return "empty";
}

bool HasPodTemplate(const YAML::Node& doc) {
  YAML::Node spec = Get(doc, "spec");
  return Find(Get(Get(spec, "template"), "spec"), "containers") || Find(spec, "jobTemplate") ||
         Find(Get(Get(doc, "template"), "spec"), "containers") || Find(spec, "containers");
}

class Patcher {
 public:
  Patcher(const std::string& text, const std::string& file, const PodMps& mps)
      : text_(text), file_(file == "-" ? "<stdin>" : file), mps_(mps) {}

  StatusOr<PatchResult> Run() {
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(text_);
    } catch (const YAML::Exception& e) {
      return Fail(e.mark, fmt::format("not valid YAML: {}; fix the manifest (kubectl would refuse it too)", e.msg));
    }
    PatchResult result;
    for (const YAML::Node& doc : docs) {
      Status s = Document(doc, result.pod_templates);
      if (!s.ok()) return s;
    }
    result.text = Apply();
    return result;
  }

 private:
  Status Fail(const YAML::Mark& m, const std::string& why) const {
    return InvalidArgument(fmt::format("{}:{}:{}: {}", file_, m.line + 1, m.column + 1, why));
  }

  Status Document(const YAML::Node& doc, int& templates) {
    if (!doc.IsMap()) return Status::Ok();
    auto kind = Find(doc, "kind");
    std::string k = kind ? ScalarOr(kind->value, "") : "";
    if (k == "Pod") {
      ++templates;
      return PodTemplate(doc, "Pod", kind->key);
    }
    if (kTemplateKinds.count(k) || k == "CronJob" || k == "PodTemplate") {
      YAML::Node tmpl = k == "PodTemplate" ? Get(doc, "template")
                        : k == "CronJob"   ? Get(Get(Get(Get(doc, "spec"), "jobTemplate"), "spec"), "template")
                                           : Get(Get(doc, "spec"), "template");
      const char* where = k == "PodTemplate" ? "template" : k == "CronJob" ? "spec.jobTemplate.spec.template" : "spec.template";
      if (!tmpl.IsMap()) {
        return Fail(kind->key.Mark(), fmt::format("this {} has no {} (a map); kindmps-api adds MPS to the Pod "
                                                  "template there",
                                                  k, where));
      }
      ++templates;
      return PodTemplate(tmpl, fmt::format("{}'s {}", k, where), kind->key);
    }
    if (k == "List") {
      YAML::Node items = Get(doc, "items");
      if (items.IsSequence()) {
        for (const auto& item : items) {
          if (item.IsMap() && (HasPodTemplate(item) || ScalarOr(Get(item, "kind"), "") == "Pod")) {
            return Fail(item.Mark(), "a List's items are not patched; put each item in a document of its own "
                                     "(separated by ---)");
          }
        }
      }
      return Status::Ok();
    }
    if (HasPodTemplate(doc)) {
      YAML::Mark at = kind ? kind->key.Mark() : doc.Mark();
      return Fail(at, fmt::format("kind {} has a Pod template, but kindmps-api does not know where its Pods are "
                                  "(it knows Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, "
                                  "ReplicationController, Job, CronJob, PodTemplate); add the MPS settings by hand "
                                  "(docs/pod.md)",
                                  k.empty() ? "(none)" : "\"" + k + "\""));
    }
    return Status::Ok();  // Service, ConfigMap, ...: untouched
  }

  // `tmpl`: the Pod, or a Pod template (metadata + spec).
  Status PodTemplate(const YAML::Node& tmpl, const std::string& what, const YAML::Node& kind_key) {
    if (!tmpl.IsMap() || tmpl.Style() == YAML::EmitterStyle::Flow) return Block(tmpl, what);
    auto spec = Find(tmpl, "spec");
    if (!spec || !spec->value.IsMap()) {
      return Fail(spec ? spec->key.Mark() : kind_key.Mark(),
                  fmt::format("{} has no spec (a map with containers); kindmps-api adds MPS to it", what));
    }
    KMPS_RETURN_IF_ERROR(Visit(spec->value, "this Pod spec"));
    if (!mps_.access.pod_annotations.empty()) {
      std::vector<KeyValue> ann = mps_.access.pod_annotations;
      auto meta = Find(tmpl, "metadata");
      if (!meta) {
        KMPS_RETURN_IF_ERROR(InsertIntoMap(tmpl, Section("metadata", Section("annotations", Entries(ann))), what));
      } else {
        KMPS_RETURN_IF_ERROR(MergeMap(*meta, "annotations", ann, "annotation"));
      }
    }
    const YAML::Node& s = spec->value;
    KMPS_RETURN_IF_ERROR(MergeMap(*spec, "nodeSelector", {mps_.node_selector}, "nodeSelector"));
    KMPS_RETURN_IF_ERROR(MergeSecurityContext(*spec, false));
    std::vector<ListItem> volumes;
    for (const auto& v : mps_.access.volumes) {
      volumes.push_back({v.name, VolumeItem(v), [v, this](const YAML::Node& have) {
                           YAML::Node hp = Get(have, "hostPath");
                           if (ScalarOr(Get(hp, "path"), "") == v.path && ScalarOr(Get(hp, "type"), "") == v.type) {
                             return Status::Ok();
                           }
                           return Fail(have.Mark(), fmt::format("volume {} is already here but is not hostPath {} (type "
                                                                "{}); remove it and run again (kindmps-api adds it)",
                                                                v.name, v.path, v.type));
                         }});
    }
    KMPS_RETURN_IF_ERROR(MergeList(*spec, "volumes", volumes));
    auto containers = Find(s, "containers");
    if (!containers || !containers->value.IsSequence() || containers->value.size() == 0) {
      return Fail(containers ? containers->key.Mark() : spec->key.Mark(),
                  fmt::format("{} has no containers (a non-empty list)", what));
    }
    for (const char* list : {"initContainers", "containers"}) {
      auto f = Find(s, list);
      if (!f) continue;
      if (!f->value.IsSequence()) return Fail(f->key.Mark(), fmt::format("{} is {}, expected a list", list, Shown(f->value)));
      for (const auto& c : f->value) KMPS_RETURN_IF_ERROR(Container(c));
    }
    return Status::Ok();
  }

  Status Container(const YAML::Node& c) {
    if (!c.IsMap() || c.Style() == YAML::EmitterStyle::Flow) return Block(c, "this container");
    KMPS_RETURN_IF_ERROR(Visit(c, "this container"));
    Field self{YAML::Node(), c};
    std::vector<ListItem> env;
    for (const auto& e : ContainerEnv(mps_)) {
      env.push_back({e.name, EnvItem(e), [e, this](const YAML::Node& have) {
                       if (!Find(have, "valueFrom") && ScalarOr(Get(have, "value"), "\x01") == e.value) return Status::Ok();
                       YAML::Node v = Get(have, "value");
                       return Fail(have.Mark(), fmt::format("env {} is already set here ({}), but kindmps-api sets it "
                                                            "to \"{}\"; remove this entry and run again",
                                                            e.name, v ? Shown(v) : "from valueFrom", e.value));
                     }});
    }
    KMPS_RETURN_IF_ERROR(MergeList(self, "env", env));
    if (!mps_.access.container_limits.empty()) {
      auto res = Find(c, "resources");
      if (!res) {
        KMPS_RETURN_IF_ERROR(InsertIntoMap(
            c, Section("resources", Section("limits", Entries(mps_.access.container_limits))), "this container"));
      } else {
        KMPS_RETURN_IF_ERROR(MergeMap(*res, "limits", mps_.access.container_limits, "resource limit"));
      }
    }
    KMPS_RETURN_IF_ERROR(MergeSecurityContext(self, true));
    std::vector<ListItem> mounts;
    for (const auto& m : mps_.access.volume_mounts) {
      mounts.push_back({m.name, MountItem(m), [m, this](const YAML::Node& have) {
                          if (ScalarOr(Get(have, "mountPath"), "") == m.mount_path) return Status::Ok();
                          return Fail(have.Mark(), fmt::format("volumeMount {} is already here but not at {}; remove "
                                                               "it and run again (kindmps-api adds it)",
                                                               m.name, m.mount_path));
                        }});
    }
    KMPS_RETURN_IF_ERROR(MergeList(self, "volumeMounts", mounts));
    return Status::Ok();
  }

  // The Pod's (runAsUser) or a container's (allowPrivilegeEscalation: false; its runAsUser, if
  // any, must be the server's too) securityContext.
  Status MergeSecurityContext(const Field& owner, bool container) {
    const char* owner_what = container ? "this container" : "this Pod spec";
    std::string uid = std::to_string(mps_.run_as_user);
    auto sc = Find(owner.value, "securityContext");
    std::string add = container ? Entry("allowPrivilegeEscalation", "false") : Entry("runAsUser", uid);
    if (!sc) return InsertIntoMap(owner.value, Section("securityContext", add), owner_what);
    const YAML::Node& m = sc->value;
    if (!m.IsMap() || m.Style() == YAML::EmitterStyle::Flow) return Block(m, "securityContext", m.IsMap() ? m.Mark() : sc->key.Mark());
    std::string missing;
    if (auto user = Find(m, "runAsUser")) {
      if (ScalarOr(user->value, "") != uid) {
        return Fail(user->value.Mark(),
                    fmt::format("runAsUser is {}, but the cluster's MPS server runs as uid {} and a client of another "
                                "uid waits forever; remove runAsUser (kindmps-api sets {}), or set mps.serverUid: {} "
                                "in kindmps.yaml and run kindmps-api up",
                                Shown(user->value), uid, uid, ScalarOr(user->value, "N")));
      }
    } else if (!container) {
      missing += Entry("runAsUser", uid);
    }
    if (container) {
      if (auto priv = Find(m, "privileged"); priv && ScalarOr(priv->value, "") == "true") {
        return Fail(priv->key.Mark(), "privileged: true; an MPS client needs no privileges and kindmps-api sets "
                                      "allowPrivilegeEscalation: false, which Kubernetes refuses beside it; remove it");
      }
      if (auto ape = Find(m, "allowPrivilegeEscalation")) {
        if (ScalarOr(ape->value, "") != "false") {
          return Fail(ape->value.Mark(), fmt::format("allowPrivilegeEscalation is {}; an MPS client needs none: "
                                                     "set it to false or remove it",
                                                     Shown(ape->value)));
        }
      } else {
        missing += add;
      }
    }
    if (missing.empty()) return Status::Ok();
    return InsertIntoMap(m, missing, "securityContext");
  }

  // Adds `pairs` to the map owner[key] (made when missing); an entry already there must be equal.
  Status MergeMap(const Field& owner, const char* key, const std::vector<KeyValue>& pairs, const char* what) {
    auto f = Find(owner.value, key);
    if (!f) return InsertIntoMap(owner.value, Section(key, Entries(pairs)), key);
    const YAML::Node& m = f->value;
    if (!m.IsMap() || m.Style() == YAML::EmitterStyle::Flow) return Block(m, key, m.IsMap() ? m.Mark() : f->key.Mark());
    std::vector<KeyValue> missing;
    for (const auto& p : pairs) {
      auto have = Find(m, p.key);
      if (!have) {
        missing.push_back(p);
      } else if (ScalarOr(have->value, "\x01") != p.value) {
        return Fail(have->value.Mark(), fmt::format("{} {} is {}, but kindmps-api sets it to \"{}\"; remove it and "
                                                    "run again",
                                                    what, p.key, Shown(have->value), p.value));
      }
    }
    if (missing.empty()) return Status::Ok();
    return InsertIntoMap(m, Entries(missing), key);
  }

  struct ListItem {
    std::string name;
    std::string text;
    std::function<Status(const YAML::Node&)> same;  // Ok when the entry already there is this one
  };

  // Adds `items` to the list owner[key] of maps with a `name` (made when missing).
  Status MergeList(const Field& owner, const char* key, const std::vector<ListItem>& items) {
    if (items.empty()) return Status::Ok();
    auto f = Find(owner.value, key);
    std::string text;
    if (!f) {
      for (const auto& i : items) text += i.text;
      return InsertIntoMap(owner.value, Section(key, text), key);
    }
    const YAML::Node& seq = f->value;
    if (!seq.IsSequence() || seq.Style() == YAML::EmitterStyle::Flow || seq.size() == 0) {
      return Block(seq, key, seq.IsSequence() && seq.size() > 0 ? seq.Mark() : f->key.Mark());
    }
    for (const auto& i : items) {
      bool found = false;
      for (const auto& have : seq) {
        if (ScalarOr(Get(have, "name"), "") != i.name) continue;
        found = true;
        KMPS_RETURN_IF_ERROR(i.same(have));
        break;
      }
      if (!found) text += i.text;
    }
    if (text.empty()) return Status::Ok();
    return InsertAt(seq, text, '-', key);
  }

  // Why `n` cannot be edited in place.
  Status Block(const YAML::Node& n, const std::string& what, std::optional<YAML::Mark> at = std::nullopt) {
    if ((n.IsMap() || n.IsSequence()) && n.Style() == YAML::EmitterStyle::Flow) {
      return Fail(n.Mark(), fmt::format("{} is in flow style ({}); write it in block style, one entry per line, so "
                                        "that kindmps-api can add to it",
                                        what, n.IsMap() ? "{...}" : "[...]"));
    }
    return Fail(at.value_or(n.Mark()), fmt::format("{} is {} where kindmps-api must add entries; give it at least one entry in "
                                      "block style, or remove it",
                                      what, n.IsSequence() ? "an empty list" : Shown(n)));
  }

  // A Pod spec or container seen twice is one node reached through an alias: editing it would
  // edit every use.
  Status Visit(const YAML::Node& n, const char* what) {
    if (visited_.insert(n.Mark().pos).second) return Status::Ok();
    return Fail(n.Mark(), fmt::format("{} is shared through a YAML alias (*name); write each use out in full so "
                                      "that kindmps-api can patch it",
                                      what));
  }

  Status InsertIntoMap(const YAML::Node& map, const std::string& entries, const std::string& what) {
    if (!map.IsMap() || map.Style() == YAML::EmitterStyle::Flow || map.size() == 0) return Block(map, what);
    return InsertAt(map, entries, 0, what);
  }

  // Inserts `snippet` (lines at column 0) before an entry of `n`, indented to its column, so that
  // the entry itself stays where it was: a map's second key (new keys follow the first, often
  // `name`), else its first; a list's first item.
  Status InsertAt(const YAML::Node& n, const std::string& snippet, char expect, const std::string& what) {
    if (n.Style() == YAML::EmitterStyle::Flow) return Block(n, what);
    YAML::Mark m = n.Mark();
    if (!expect && n.size() >= 2) {
      auto second = std::next(n.begin());
      YAML::Mark k = second->first.Mark();
      if (k.column == m.column && k.line > m.line && Fits(k, 0)) m = k;
    }
    if (!Fits(m, expect)) {
      return Fail(m, "kindmps-api does not edit next to an anchor (&name), a tag (!tag) or a complex key (?); write "
                     "this part without them");
    }
    std::string pad(static_cast<size_t>(m.column), ' ');
    inserts_.push_back({static_cast<size_t>(m.pos), inserts_.size(), IndentRest(snippet, pad.size()) + pad});
    return Status::Ok();
  }

  // Whether an entry can be inserted before `m`: it holds `expect` ('-' for a list item) or, for
  // a key (expect 0), no anchor, tag, alias or '?'; only spaces and "- " precede it on its line.
  bool Fits(const YAML::Mark& m, char expect) const {
    size_t pos = static_cast<size_t>(m.pos), column = static_cast<size_t>(m.column);
    if (pos >= text_.size() || pos < column) return false;
    char at = text_[pos];
    bool ok = expect ? at == expect : (at != '&' && at != '!' && at != '*' && at != '?');
    return ok && OnlyIndentOrDashBefore(pos, column);
  }

  // Whether the line holds only spaces and "- " (sequence entries) before column `column` of `pos`.
  bool OnlyIndentOrDashBefore(size_t pos, size_t column) const {
    for (size_t i = pos - column; i < pos; ++i) {
      if (text_[i] != ' ' && text_[i] != '-') return false;
    }
    return true;
  }

  std::string Apply() {
    std::sort(inserts_.begin(), inserts_.end(),
              [](const Insert& a, const Insert& b) { return std::tie(a.pos, a.order) < std::tie(b.pos, b.order); });
    bool crlf = text_.find("\r\n") != std::string::npos;
    std::string out;
    size_t from = 0;
    for (const auto& in : inserts_) {
      out.append(text_, from, in.pos - from);
      if (crlf) {
        for (char c : in.text) out += c == '\n' ? std::string("\r\n") : std::string(1, c);
      } else {
        out += in.text;
      }
      from = in.pos;
    }
    out.append(text_, from, std::string::npos);
    return out;
  }

  struct Insert {
    size_t pos;
    size_t order;
    std::string text;
  };

  const std::string& text_;
  std::string file_;
  const PodMps& mps_;
  std::vector<Insert> inserts_;
  std::set<int> visited_;
};

}  // namespace

StatusOr<PatchResult> PatchManifests(const std::string& text, const std::string& file, const PodMps& mps) {
  return Patcher(text, file, mps).Run();
}

}  // namespace kmps::pod
