#include "docker_api/docker_context.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "common/file_util.h"
#include "common/text.h"

namespace kmps::docker {

namespace {

using nlohmann::json;

constexpr std::string_view kDefaultHost = "unix:///var/run/docker.sock";
constexpr size_t kMaxConfigBytes = 4u << 20;  // config.json may hold many registries' auths
constexpr size_t kMaxMetaBytes = 1u << 20;
constexpr std::string_view kNoTls = "kindmps-api speaks unix:// and tcp:// without TLS";
constexpr std::string_view kUseInstead =
    "set DOCKER_HOST to a unix socket (unix:///var/run/docker.sock) or a tcp:// address without TLS";

bool Set(const EndpointEnvironment& env, const std::string& name) { return !env.getenv(name).value_or("").empty(); }

// A JSON document of a file: "<path>:LINE:COLUMN: invalid JSON: why" when it is none.
StatusOr<json> ParseJsonFile(std::string_view text, std::string_view path, std::string_view prefix) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    return InvalidArgument(fmt::format("{}{}:{}", prefix, path, JsonParseErrorAt(text, e.byte, e.what())));
  } catch (const json::exception& e) {  // a number too large for a double (1e400), ...
    std::string_view what = e.what();
    return InvalidArgument(fmt::format("{}{}: invalid JSON: {}", prefix, path, what.substr(what.find("] ") + 2)));
  }
}

// The default context: DOCKER_HOST (already read: `docker_host`, may be empty), and the docker
// CLI's TLS switches, which apply to it alone (a tcp:// host, or, with none, tcp://localhost:2376).
StatusOr<Endpoint> DefaultContext(const EndpointEnvironment& env, Endpoint::Origin origin, std::string source,
                                  std::string context, const std::string& docker_host) {
  StatusOr<Endpoint> e = docker_host.empty() ? ParseDockerHost(kDefaultHost) : ParseDockerHost(docker_host);
  if (!e.ok()) return e;
  for (const char* tls : {"DOCKER_TLS_VERIFY", "DOCKER_TLS"}) {
    if (e->kind == Endpoint::Kind::kUnix && !docker_host.empty()) break;  // sockets take no TLS
    if (!Set(env, tls)) continue;
    std::string host = docker_host.empty() ? "tcp://localhost:2376 (DOCKER_HOST is unset)" : TerminalSafe(docker_host);
    return InvalidArgument(fmt::format("{}; with {} set the docker CLI uses TLS to {}; unset {}, or {}", kNoTls, tls,
                                       host, tls, kUseInstead));
  }
  e->origin = origin;
  e->source = std::move(source);
  e->context = std::move(context);
  return e;
}

// Whether a context keeps TLS material for its docker endpoint (contexts/tls/<id>/docker/).
std::string TlsFileOf(const std::string& config_dir, const std::string& id) {
  for (const char* name : {"ca.pem", "cert.pem", "key.pem"}) {
    std::string path = fmt::format("{}/contexts/tls/{}/docker/{}", config_dir, id, name);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return path;
  }
  return "";
}

StatusOr<Endpoint> NamedContext(const EndpointEnvironment& env, const std::string& config_dir,
                                const std::string& name, Endpoint::Origin origin, std::string_view fix) {
  std::string source = origin == Endpoint::Origin::kDockerContext
                           ? fmt::format("context \"{}\" (from DOCKER_CONTEXT)", TerminalSafe(name))
                           : fmt::format("context \"{}\" (currentContext in {}/config.json)", TerminalSafe(name),
                                         TerminalSafe(config_dir));
  if (name == "default") return DefaultContext(env, origin, source, name, "");
  std::string id = ContextDirName(name);
  std::string path = fmt::format("{}/contexts/meta/{}/meta.json", config_dir, id);
  auto text = ReadRegularFile(path, kMaxMetaBytes);
  if (!text.ok() && text.status().code() == Code::kNotFound) {
    return InvalidArgument(fmt::format("{}: no such docker context (no {}); \"docker context ls\" lists them; {}",
                                       source, TerminalSafe(path), fix));
  }
  if (!text.ok()) return InvalidArgument(fmt::format("{}: {}", source, text.status().message()));
  KMPS_ASSIGN_OR_RETURN(ContextEndpointMeta meta, ParseContextMeta(*text, path, source));
  std::string host = meta.host.empty() ? std::string(kDefaultHost) : meta.host;
  bool unix = host.starts_with("unix://"), tcp = host.starts_with("tcp://");
  if (!unix && !tcp) {
    return InvalidArgument(fmt::format("{}; {} uses {}; {}, or pick another context (\"docker context ls\")", kNoTls,
                                       source, TerminalSafe(host), kUseInstead));
  }
  if (tcp) {  // the docker CLI uses no TLS for a socket, whatever the context keeps
    std::string tls = meta.skip_tls_verify ? "SkipTLSVerify in " + path : TlsFileOf(config_dir, id);
    if (!tls.empty()) {
      return InvalidArgument(fmt::format("{}; {} uses {} with TLS ({}); {}, or pick another context (\"docker "
                                         "context ls\")",
                                         kNoTls, source, TerminalSafe(host), TerminalSafe(tls), kUseInstead));
    }
  }
  KMPS_ASSIGN_OR_RETURN(Endpoint e, ParseEngineHost(host, fmt::format("{}, {}: host", source, TerminalSafe(path))));
  e.origin = origin;
  e.source = std::move(source);
  e.context = name;
  return e;
}

}  // namespace

EndpointEnvironment EndpointEnvironment::OfProcess() {
  EndpointEnvironment env;
  env.getenv = [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
  env.home = [] {
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return std::string(home);
    if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) return std::string(pw->pw_dir);
    return std::string();
  };
  return env;
}

std::string DockerConfigDir(const EndpointEnvironment& env) {
  std::string dir = env.getenv("DOCKER_CONFIG").value_or("");
  if (!dir.empty()) return dir;
  std::string home = env.home();
  // As Go's filepath.Join: no home at all is ".docker" in the working directory.
  return home.empty() ? ".docker" : home + "/.docker";
}

std::string ContextDirName(std::string_view context) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(context.data(), context.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    throw std::bad_alloc();  // libcrypto's SHA-256 fails only for want of memory
  }
  std::string hex;
  for (unsigned i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

StatusOr<std::string> CurrentContextOf(std::string_view config_json, std::string_view path) {
  KMPS_ASSIGN_OR_RETURN(json j, ParseJsonFile(config_json, path, ""));
  if (!j.is_object()) return InvalidArgument(fmt::format("{}: not a JSON object", TerminalSafe(path)));
  auto it = j.find("currentContext");
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return InvalidArgument(fmt::format("{}: currentContext is not a string", TerminalSafe(path)));
  return it->get<std::string>();
}

StatusOr<ContextEndpointMeta> ParseContextMeta(std::string_view meta_json, std::string_view path,
                                               std::string_view source) {
  std::string prefix = fmt::format("{}: ", source);
  KMPS_ASSIGN_OR_RETURN(json j, ParseJsonFile(meta_json, path, prefix));
  auto malformed = [&](std::string_view why) {
    return InvalidArgument(fmt::format("{}{}: {}; \"docker context inspect\" shows it", prefix, TerminalSafe(path), why));
  };
  if (!j.is_object()) return malformed("not a JSON object");
  auto endpoints = j.find("Endpoints");
  if (endpoints == j.end() || !endpoints->is_object()) return malformed("no Endpoints object");
  auto docker = endpoints->find("docker");
  if (docker == endpoints->end() || !docker->is_object()) return malformed("no docker endpoint (Endpoints.docker)");
  ContextEndpointMeta meta;
  if (auto host = docker->find("Host"); host != docker->end() && !host->is_null()) {
    if (!host->is_string()) return malformed("Endpoints.docker.Host is not a string");
    meta.host = host->get<std::string>();
  }
  if (auto skip = docker->find("SkipTLSVerify"); skip != docker->end() && !skip->is_null()) {
    if (!skip->is_boolean()) return malformed("Endpoints.docker.SkipTLSVerify is not true or false");
    meta.skip_tls_verify = skip->get<bool>();
  }
  return meta;
}

StatusOr<Endpoint> ResolveEndpoint(const EndpointEnvironment& env) {
  std::string docker_host = env.getenv("DOCKER_HOST").value_or("");
  if (!docker_host.empty()) return DefaultContext(env, Endpoint::Origin::kDockerHost, "DOCKER_HOST", "", docker_host);
  std::string config_dir = DockerConfigDir(env);
  if (std::string name = env.getenv("DOCKER_CONTEXT").value_or(""); !name.empty()) {
    return NamedContext(env, config_dir, name, Endpoint::Origin::kDockerContext,
                        "unset DOCKER_CONTEXT or set it to one of them");
  }
  std::string path = config_dir + "/config.json";
  auto text = ReadRegularFile(path, kMaxConfigBytes);
  std::string current;
  if (text.ok()) {
    KMPS_ASSIGN_OR_RETURN(current, CurrentContextOf(*text, path));
  } else if (text.status().code() != Code::kNotFound) {
    return InvalidArgument(text.status().message());
  }
  if (!current.empty()) {
    return NamedContext(env, config_dir, current, Endpoint::Origin::kCurrentContext,
                        "\"docker context use default\" (or another of them) sets it");
  }
  return DefaultContext(env, Endpoint::Origin::kDefault, "default", "", "");
}

std::vector<std::string> KindEnvironment(const Endpoint& endpoint) {
  if (endpoint.origin != Endpoint::Origin::kExplicit) return {};
  if (endpoint.kind == Endpoint::Kind::kUnix) return {"DOCKER_HOST=unix://" + endpoint.socket_path};
  std::string host = endpoint.host.find(':') != std::string::npos ? "[" + endpoint.host + "]" : endpoint.host;
  return {fmt::format("DOCKER_HOST=tcp://{}:{}", host, endpoint.port), "DOCKER_TLS_VERIFY=", "DOCKER_TLS="};
}

}  // namespace kmps::docker
