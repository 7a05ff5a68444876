#include "docker_api/docker_context.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "support/fake_host.h"

namespace kmps::docker {
namespace {

// sha256("foo"), as `docker context create foo` names its directories.
constexpr const char* kFooId = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

class DockerContextTest : public ::testing::Test {
 protected:
  DockerContextTest() : config_(tmp_.path() + "/home/.docker") { vars_["HOME"] = tmp_.path() + "/home"; }

  // The seam over vars_ and a home of tmp_/home (never the real HOME).
  EndpointEnvironment Env() {
    EndpointEnvironment env;
    env.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = vars_.find(name);
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
    env.home = [this] { return vars_.count("HOME") != 0 ? vars_["HOME"] : std::string(); };
    return env;
  }
  void Write(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
  }
  std::string MetaPath(const std::string& name) {
    return config_ + "/contexts/meta/" + ContextDirName(name) + "/meta.json";
  }
  void Context(const std::string& name, const std::string& host, const std::string& extra = "") {
    Write(MetaPath(name), R"({"Name":")" + name + R"(","Metadata":{},"Endpoints":{"docker":{"Host":")" + host +
                              "\"" + extra + "}}}");
  }
  void CurrentContext(const std::string& name) { Write(config_ + "/config.json", R"({"currentContext":")" + name + "\"}"); }
  StatusOr<Endpoint> Resolve() { return ResolveEndpoint(Env()); }
  // An error's one line.
  std::string Error() {
    auto e = Resolve();
    EXPECT_FALSE(e.ok()) << e->Describe();
    if (e.ok()) return "";
    EXPECT_EQ(e.status().code(), Code::kInvalidArgument) << e.status().message();
    EXPECT_EQ(e.status().message().find('\n'), std::string::npos) << e.status().message();
    return e.status().message();
  }

  kmps::testing::TempDir tmp_{"kmps-docker-context"};
  std::map<std::string, std::string> vars_;
  std::string config_;
};

TEST(DockerContextDirName, IsTheSha256HexOfTheName) {
  EXPECT_EQ(ContextDirName("foo"), kFooId);
  EXPECT_EQ(ContextDirName(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ContextDirName("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(DockerContextTest, DockerHostBeatsDockerContextBeatsCurrentContextBeatsDefault) {
  Context("ctx", "unix:///ctx.sock");
  Context("cur", "unix:///cur.sock");
  CurrentContext("cur");
  vars_["DOCKER_HOST"] = "unix:///host.sock";
  vars_["DOCKER_CONTEXT"] = "ctx";

  auto e = Resolve();
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->socket_path, "/host.sock");
  EXPECT_EQ(e->origin, Endpoint::Origin::kDockerHost);
  EXPECT_EQ(e->source, "DOCKER_HOST");

  for (bool empty : {true, false}) {  // DOCKER_HOST empty counts as unset
    if (empty) vars_["DOCKER_HOST"] = "";
    if (!empty) vars_.erase("DOCKER_HOST");
    e = Resolve();
    ASSERT_TRUE(e.ok()) << e.status().message();
    EXPECT_EQ(e->socket_path, "/ctx.sock");
    EXPECT_EQ(e->origin, Endpoint::Origin::kDockerContext);
    EXPECT_EQ(e->source, "context \"ctx\" (from DOCKER_CONTEXT)");
    EXPECT_EQ(e->context, "ctx");
    EXPECT_EQ(e->original, "unix:///ctx.sock");
  }

  for (bool empty : {true, false}) {
    if (empty) vars_["DOCKER_CONTEXT"] = "";
    if (!empty) vars_.erase("DOCKER_CONTEXT");
    e = Resolve();
    ASSERT_TRUE(e.ok()) << e.status().message();
    EXPECT_EQ(e->socket_path, "/cur.sock");
    EXPECT_EQ(e->origin, Endpoint::Origin::kCurrentContext);
    EXPECT_EQ(e->source, "context \"cur\" (currentContext in " + config_ + "/config.json)");
  }

  std::filesystem::remove(config_ + "/config.json");
  e = Resolve();
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->socket_path, "/var/run/docker.sock");
  EXPECT_EQ(e->origin, Endpoint::Origin::kDefault);
  EXPECT_EQ(e->source, "default");

  Write(config_ + "/config.json", R"({"auths":{},"currentContext":""})");
  EXPECT_EQ(Resolve()->origin, Endpoint::Origin::kDefault);
}

TEST_F(DockerContextTest, TheContextNamedDefaultIsTheDefaultSocket) {
  Context("default", "unix:///not-this.sock");  // never read: "default" is not in the store
  vars_["DOCKER_CONTEXT"] = "default";
  auto e = Resolve();
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->socket_path, "/var/run/docker.sock");
  EXPECT_EQ(e->source, "context \"default\" (from DOCKER_CONTEXT)");
  vars_.erase("DOCKER_CONTEXT");
  CurrentContext("default");
  e = Resolve();
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->socket_path, "/var/run/docker.sock");
  EXPECT_EQ(e->origin, Endpoint::Origin::kCurrentContext);
}

TEST_F(DockerContextTest, DockerConfigIsHonouredOverHome) {
  CurrentContext("cur");
  Context("cur", "unix:///home.sock");
  std::string other = tmp_.path() + "/other";
  Write(other + "/config.json", R"({"currentContext":"foo"})");
  Write(other + "/contexts/meta/" + std::string(kFooId) + "/meta.json",
        R"({"Name":"foo","Endpoints":{"docker":{"Host":"tcp://10.1.2.3:2375","SkipTLSVerify":false}}})");
  auto e = Resolve();
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->socket_path, "/home.sock");

  vars_["DOCKER_CONFIG"] = other;
  e = Resolve();
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->kind, Endpoint::Kind::kTcp);
  EXPECT_EQ(e->host, "10.1.2.3");
  EXPECT_EQ(e->port, 2375);
  EXPECT_EQ(e->source, "context \"foo\" (currentContext in " + other + "/config.json)");
  EXPECT_EQ(DockerConfigDir(Env()), other);

  vars_["DOCKER_CONFIG"] = "";  // empty: ~/.docker
  EXPECT_EQ(DockerConfigDir(Env()), config_);
}

TEST_F(DockerContextTest, AContextThatDoesNotExistSaysWhatToDo) {
  vars_["DOCKER_CONTEXT"] = "nope";
  std::string m = Error();
  EXPECT_NE(m.find("context \"nope\" (from DOCKER_CONTEXT)"), std::string::npos) << m;
  EXPECT_NE(m.find(MetaPath("nope")), std::string::npos) << m;
  EXPECT_NE(m.find("\"docker context ls\""), std::string::npos) << m;
  EXPECT_NE(m.find("unset DOCKER_CONTEXT"), std::string::npos) << m;

  vars_.erase("DOCKER_CONTEXT");
  CurrentContext("gone");
  m = Error();
  EXPECT_NE(m.find("context \"gone\" (currentContext in " + config_ + "/config.json)"), std::string::npos) << m;
  EXPECT_NE(m.find("docker context use default"), std::string::npos) << m;
}

TEST_F(DockerContextTest, MalformedFilesNameFileLineAndColumn) {
  vars_["DOCKER_CONTEXT"] = "foo";
  Write(MetaPath("foo"), "{\n  \"Endpoints\": {,}\n}\n");
  std::string m = Error();
  EXPECT_EQ(m.rfind("context \"foo\" (from DOCKER_CONTEXT): " + MetaPath("foo") + ":2:17: invalid JSON: ", 0), 0u)
      << m;

  for (const char* meta : {R"([])", R"({"Endpoints":{}})", R"({"Endpoints":{"docker":{"Host":5}}})",
                           R"({"Endpoints":{"docker":{"Host":"tcp://h","SkipTLSVerify":"yes"}}})"}) {
    Write(MetaPath("foo"), meta);
    m = Error();
    EXPECT_EQ(m.rfind("context \"foo\" (from DOCKER_CONTEXT): " + MetaPath("foo") + ": ", 0), 0u) << meta << ": " << m;
  }

  Context("foo", "tcp://h:0");
  m = Error();
  EXPECT_NE(m.find(MetaPath("foo")), std::string::npos) << m;
  EXPECT_NE(m.find("\"tcp://h:0\""), std::string::npos) << m;

  vars_.erase("DOCKER_CONTEXT");
  Write(config_ + "/config.json", "{\"currentContext\": \"foo\",\n}");
  m = Error();
  EXPECT_EQ(m.rfind(config_ + "/config.json:2:1: invalid JSON: ", 0), 0u) << m;
  Write(config_ + "/config.json", R"({"currentContext": ["foo"]})");
  EXPECT_EQ(Error(), config_ + "/config.json: currentContext is not a string");
}

TEST_F(DockerContextTest, SshAndNpipeContextsAreRefusedInOneLine) {
  vars_["DOCKER_CONTEXT"] = "foo";
  Context("foo", "ssh://me@build-box");
  EXPECT_EQ(Error(),
            "kindmps-api speaks unix:// and tcp:// without TLS; context \"foo\" (from DOCKER_CONTEXT) uses "
            "ssh://me@build-box; set DOCKER_HOST to a unix socket (unix:///var/run/docker.sock) or a tcp:// address "
            "without TLS, or pick another context (\"docker context ls\")");
  Context("foo", "npipe:////./pipe/docker_engine");
  EXPECT_NE(Error().find("uses npipe:////./pipe/docker_engine;"), std::string::npos);
}

TEST_F(DockerContextTest, TlsContextsAreRefusedForTcpOnly) {
  vars_["DOCKER_CONTEXT"] = "foo";
  Context("foo", "tcp://10.0.0.5:2376", R"(,"SkipTLSVerify":true)");
  std::string m = Error();
  EXPECT_EQ(m.rfind("kindmps-api speaks unix:// and tcp:// without TLS; context \"foo\" (from DOCKER_CONTEXT) uses "
                    "tcp://10.0.0.5:2376 with TLS (SkipTLSVerify in " + MetaPath("foo") + ")", 0), 0u) << m;

  Context("foo", "tcp://10.0.0.5:2376");
  std::string ca = config_ + "/contexts/tls/" + kFooId + "/docker/ca.pem";
  Write(ca, "-----BEGIN CERTIFICATE-----\n");
  m = Error();
  EXPECT_NE(m.find("with TLS (" + ca + ")"), std::string::npos) << m;

  // The docker CLI uses no TLS for a socket: neither does the rule.
  Context("foo", "unix:///run/foo.sock", R"(,"SkipTLSVerify":true)");
  auto e = Resolve();
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->socket_path, "/run/foo.sock");

  std::filesystem::remove(ca);
  Context("foo", "tcp://10.0.0.5:2376");
  e = Resolve();
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->port, 2376);
}

TEST_F(DockerContextTest, AContextWithoutHostIsTheDefaultSocket) {
  vars_["DOCKER_CONTEXT"] = "foo";
  Write(MetaPath("foo"), R"({"Name":"foo","Endpoints":{"docker":{"SkipTLSVerify":false}}})");
  auto e = Resolve();
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->socket_path, "/var/run/docker.sock");
  EXPECT_EQ(e->context, "foo");
}

TEST_F(DockerContextTest, TlsSwitchesOfTheDefaultContextAreRefusedUnlessASocket) {
  vars_["DOCKER_TLS_VERIFY"] = "1";
  std::string m = Error();
  EXPECT_NE(m.find("with DOCKER_TLS_VERIFY set the docker CLI uses TLS to tcp://localhost:2376"), std::string::npos)
      << m;
  vars_["DOCKER_HOST"] = "tcp://10.0.0.5:2376";
  EXPECT_NE(Error().find("uses TLS to tcp://10.0.0.5:2376"), std::string::npos);
  vars_["DOCKER_HOST"] = "unix:///run/d.sock";
  EXPECT_TRUE(Resolve().ok());
  vars_.erase("DOCKER_TLS_VERIFY");
  vars_["DOCKER_TLS"] = "1";
  vars_["DOCKER_HOST"] = "tcp://10.0.0.5:2376";
  EXPECT_NE(Error().find("with DOCKER_TLS set"), std::string::npos);
  vars_["DOCKER_TLS"] = "";  // empty is off, as in the docker CLI
  EXPECT_TRUE(Resolve().ok());
}

TEST(DockerContextKindEnvironment, OnlyAnExplicitEndpointNeedsAdditions) {
  for (auto origin : {Endpoint::Origin::kDockerHost, Endpoint::Origin::kDockerContext,
                      Endpoint::Origin::kCurrentContext, Endpoint::Origin::kDefault}) {
    Endpoint e;
    e.origin = origin;
    EXPECT_TRUE(KindEnvironment(e).empty());
  }
  auto unix = ParseDockerHost("unix:///run/x.sock");
  ASSERT_TRUE(unix.ok());
  EXPECT_EQ(KindEnvironment(*unix), std::vector<std::string>{"DOCKER_HOST=unix:///run/x.sock"});
  auto tcp = ParseDockerHost("tcp://[::1]:2375");
  ASSERT_TRUE(tcp.ok());
  EXPECT_EQ(KindEnvironment(*tcp),
            (std::vector<std::string>{"DOCKER_HOST=tcp://[::1]:2375", "DOCKER_TLS_VERIFY=", "DOCKER_TLS="}));
}

TEST(DockerContextProcess, HomeUnsetFallsBackToThePasswdEntry) {
  const char* old = std::getenv("HOME");
  std::string saved = old ? old : "";
  unsetenv("HOME");
  std::string home = EndpointEnvironment::OfProcess().home();
  const passwd* pw = getpwuid(getuid());
  ASSERT_NE(pw, nullptr);
  EXPECT_EQ(home, pw->pw_dir);
  setenv("HOME", "/tmp/kmps-home", 1);
  EXPECT_EQ(EndpointEnvironment::OfProcess().home(), "/tmp/kmps-home");
  if (old) {
    setenv("HOME", saved.c_str(), 1);
  } else {
    unsetenv("HOME");
  }
}

}  // namespace
}  // namespace kmps::docker
