#include "docker_api/endpoint.h"

#include <cstdlib>

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

TEST(EndpointFromEnvironment, DefaultAndOverride) {
  const char* old = std::getenv("DOCKER_HOST");
  std::string saved = old ? old : "";
  unsetenv("DOCKER_HOST");
  auto d = EndpointFromEnvironment();
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->socket_path, "/var/run/docker.sock");
  setenv("DOCKER_HOST", "", 1);
  EXPECT_EQ(EndpointFromEnvironment()->socket_path, "/var/run/docker.sock");
  setenv("DOCKER_HOST", "unix:///tmp/x.sock", 1);
  EXPECT_EQ(EndpointFromEnvironment()->socket_path, "/tmp/x.sock");
  setenv("DOCKER_HOST", "ssh://host", 1);
  EXPECT_EQ(EndpointFromEnvironment().status().code(), Code::kInvalidArgument);
  if (old) {
    setenv("DOCKER_HOST", saved.c_str(), 1);
  } else {
    unsetenv("DOCKER_HOST");
  }
}

}  // namespace
}  // namespace kmps::docker
