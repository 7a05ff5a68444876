#include "docker_api/endpoint.h"

#include <cstdlib>
#include <map>
#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace kmps::docker {
namespace {

TEST(ParseDockerHost, UnixSocket) {
  auto e = ParseDockerHost("unix:///run/user/1000/docker.sock");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->kind, Endpoint::Kind::kUnix);
  EXPECT_EQ(e->socket_path, "/run/user/1000/docker.sock");
  EXPECT_EQ(e->Describe(), "/run/user/1000/docker.sock");
  EXPECT_EQ(e->BaseUrl(), "http://localhost");
  EXPECT_EQ(e->original, "unix:///run/user/1000/docker.sock");
}

TEST(ParseDockerHost, TcpWithAndWithoutPort) {
  auto e = ParseDockerHost("tcp://10.0.0.5:2376");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->kind, Endpoint::Kind::kTcp);
  EXPECT_EQ(e->host, "10.0.0.5");
  EXPECT_EQ(e->port, 2376);
  EXPECT_EQ(e->BaseUrl(), "http://10.0.0.5:2376");
  EXPECT_EQ(e->Describe(), "tcp://10.0.0.5:2376");

  auto d = ParseDockerHost("tcp://docker.example/");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->host, "docker.example");
  EXPECT_EQ(d->port, 2375);
}

// A host name or IPv4 address holds letters, digits, '.', '-' and '_' only: curl would decode
// %XX in it, so that the DOCKER_HOST given to kind would name another host (fuzz finds: %31 was
// host "1" here and 0.0.0.1 once kind's DOCKER_HOST was read again).
TEST(ParseDockerHost, AHostThatIsNoNameIsRefused) {
  for (std::string_view bad : {"tcp://\xff\xff%25e8\xff:2", "tcp://h\xc3\xa9te:2375", "tcp://a%25b:2375",
                               "tcp://%31:2", "tcp://%41:2375"}) {
    auto e = ParseDockerHost(bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.status().code(), Code::kInvalidArgument);
    EXPECT_NE(e.status().message().find("malformed host name"), std::string::npos) << e.status().message();
  }
  EXPECT_TRUE(ParseDockerHost("tcp://my_host-1.example:2375").ok());
}

TEST(ParseDockerHost, TcpIpv6) {
  auto e = ParseDockerHost("tcp://[::1]:2375");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->BaseUrl(), "http://[::1]:2375");
}

TEST(ParseDockerHost, UnsupportedSchemesNameTheValue) {
  for (const char* v : {"ssh://me@host", "npipe:////./pipe/docker_engine", "http://host:2375", "fd://"}) {
    auto e = ParseDockerHost(v);
    ASSERT_FALSE(e.ok()) << v;
    EXPECT_EQ(e.status().code(), Code::kInvalidArgument) << v;
    EXPECT_NE(e.status().message().find(v), std::string::npos) << e.status().message();
    EXPECT_NE(e.status().message().find("unsupported scheme"), std::string::npos) << e.status().message();
  }
}

TEST(ParseDockerHost, MalformedValues) {
  for (const char* v : {"", "/var/run/docker.sock", "unix://", "unix://relative.sock", "tcp://", "tcp://host:",
                        "tcp://host:99999", "tcp://host:12ab", "tcp://host:2375/path", "tcp://[::1"}) {
    auto e = ParseDockerHost(v);
    ASSERT_FALSE(e.ok()) << v;
    EXPECT_EQ(e.status().code(), Code::kInvalidArgument) << v;
    EXPECT_NE(e.status().message().find("DOCKER_HOST"), std::string::npos) << e.status().message();
  }
}

// Sets or unsets variables of this process for the life of the object.
class ScopedEnv {
 public:
  void Set(const char* name, const char* value) {
    if (saved_.count(name) == 0) {
      const char* old = std::getenv(name);
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
    }
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

TEST(EndpointFromEnvironment, DefaultAndOverride) {
  ScopedEnv env;
  // No config file, no context: the default (docker_context_test.cc has the other rules).
  env.Set("DOCKER_CONFIG", "/nonexistent/kmps-docker-config");
  for (const char* v : {"DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_TLS", "DOCKER_HOST"}) env.Set(v, nullptr);
  auto d = EndpointFromEnvironment();
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->socket_path, "/var/run/docker.sock");
  EXPECT_EQ(d->origin, Endpoint::Origin::kDefault);
  env.Set("DOCKER_HOST", "");
  EXPECT_EQ(EndpointFromEnvironment()->socket_path, "/var/run/docker.sock");
  env.Set("DOCKER_HOST", "unix:///tmp/x.sock");
  EXPECT_EQ(EndpointFromEnvironment()->socket_path, "/tmp/x.sock");
  EXPECT_EQ(EndpointFromEnvironment()->source, "DOCKER_HOST");
  env.Set("DOCKER_HOST", "ssh://host");
  EXPECT_EQ(EndpointFromEnvironment().status().code(), Code::kInvalidArgument);
  env.Set("DOCKER_HOST", nullptr);
  env.Set("DOCKER_CONTEXT", "kmps-no-such-context");
  auto missing = EndpointFromEnvironment();
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/kmps-docker-config/contexts/meta/"), std::string::npos)
      << missing.status().message();
}

// What libcurl's URL API is lenient about stays refused, and what it decodes comes out right.
TEST(ParseDockerHost, TcpThroughTheUrlApi) {
  for (const char* v : {"tcp:///p", "tcp://h:0", "tcp://u@h", "tcp://u:p@h:2375", "tcp://h?x=1", "tcp://h#f",
                        "tcp://h/./", "tcp://h:/", "tcp://[::1]:", "tcp://h o", "tcp://h:+5", "tcp://:2375",
                        "tcp://[v1.x]"}) {
    auto e = ParseDockerHost(v);
    ASSERT_FALSE(e.ok()) << v << " -> " << e->Describe();
    EXPECT_EQ(e.status().code(), Code::kInvalidArgument) << v;
    EXPECT_EQ(e.status().message().rfind(std::string("DOCKER_HOST \"") + v + "\": ", 0), 0u) << e.status().message();
  }
  auto nul = ParseDockerHost(std::string_view("tcp://h\0x", 9));
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.status().message(), "DOCKER_HOST \"tcp://h\\x00x\": a NUL byte in the host");
  EXPECT_EQ(ParseDockerHost("tcp://h:0").status().message(),
            "DOCKER_HOST \"tcp://h:0\": the port is not a number from 1 to 65535");
  EXPECT_EQ(ParseDockerHost("tcp://u@h").status().message(),
            "DOCKER_HOST \"tcp://u@h\": a user name or password is not supported for tcp://");

  auto slashes = ParseDockerHost("tcp://h:65535//");
  ASSERT_TRUE(slashes.ok()) << slashes.status().message();
  EXPECT_EQ(slashes->port, 65535);
  auto zone = ParseDockerHost("tcp://[fe80::1%25eth0]:2375");
  ASSERT_TRUE(zone.ok()) << zone.status().message();
  EXPECT_EQ(zone->host, "fe80::1%25eth0");
  EXPECT_EQ(zone->BaseUrl(), "http://[fe80::1%25eth0]:2375");
  auto leading_zero = ParseDockerHost("tcp://Docker.Example:02376");
  ASSERT_TRUE(leading_zero.ok()) << leading_zero.status().message();
  EXPECT_EQ(leading_zero->host, "Docker.Example");
  EXPECT_EQ(leading_zero->port, 2376);
}

// curl's URL API would read unix:///var/run/docker.sock as host "var": unix:// paths are taken as
// they are, spaces and '%' included.
TEST(ParseDockerHost, UnixPathsAreTakenAsTheyAre) {
  auto e = ParseDockerHost("unix:///tmp/a b/%20.sock");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->socket_path, "/tmp/a b/%20.sock");
}

}  // namespace
}  // namespace kmps::docker
