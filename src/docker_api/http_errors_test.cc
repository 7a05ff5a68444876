#include "docker_api/http_errors.h"

#include <cerrno>

#include <gtest/gtest.h>

namespace kmps::docker {
namespace {

TEST(HttpError, CodesAndDaemonMessage) {
  Status s = HttpError(404, R"({"message":"No such container: foo"})", "inspect container foo");
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "inspect container foo: No such container: foo (HTTP 404)");
  EXPECT_EQ(HttpError(409, "{}", "x").code(), Code::kConflict);
  EXPECT_EQ(HttpError(400, "", "x").code(), Code::kBadRequest);
  EXPECT_EQ(HttpError(500, "", "x").code(), Code::kServerError);
  EXPECT_EQ(HttpError(503, "", "x").code(), Code::kServerError);
  EXPECT_EQ(HttpError(403, "", "x").code(), Code::kPermissionDenied);
  EXPECT_EQ(HttpError(418, "", "x").code(), Code::kFailed);
}

TEST(HttpError, NonJsonBodies) {
  EXPECT_EQ(DaemonMessage(502, "  Bad gateway\n"), "Bad gateway");
  EXPECT_EQ(DaemonMessage(500, ""), "HTTP 500");
  EXPECT_EQ(DaemonMessage(500, std::string(1000, 'a')).size(), 303u);
}

TEST(CurlError, ConnectFailuresNameTheSocket) {
  TransportFailure f;
  f.code = CURLE_COULDNT_CONNECT;
  f.endpoint = "/var/run/docker.sock";
  f.request = "GET /_ping";
  f.os_errno = ENOENT;
  Status s = CurlError(f);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.message(),
            "cannot connect to the Docker daemon at /var/run/docker.sock: no such file (is dockerd running?)");
  f.os_errno = ECONNREFUSED;
  EXPECT_NE(CurlError(f).message().find("connection refused"), std::string::npos);
  f.os_errno = EACCES;
  EXPECT_EQ(CurlError(f).code(), Code::kPermissionDenied);
  EXPECT_NE(CurlError(f).message().find("/var/run/docker.sock"), std::string::npos);
}

TEST(CurlError, AConnectTimeoutMeansUnreachable) {
  TransportFailure f;
  f.code = CURLE_OPERATION_TIMEDOUT;
  f.unix_socket = false;
  f.endpoint = "tcp://10.9.9.9:2375";
  f.request = "GET /_ping";
  f.connected = false;
  f.connect_timeout = std::chrono::milliseconds(5000);
  Status s = CurlError(f);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(ExitCodeFor(s), 3);
  EXPECT_NE(s.message().find("tcp://10.9.9.9:2375 within 5000 ms"), std::string::npos);
}

TEST(CurlError, TimeoutsAndTruncation) {
  TransportFailure f;
  f.endpoint = "/s";
  f.request = "GET /v1.41/x";
  f.code = CURLE_OPERATION_TIMEDOUT;
  EXPECT_EQ(CurlError(f).code(), Code::kDeadlineExceeded);
  f.code = CURLE_PARTIAL_FILE;
  EXPECT_EQ(CurlError(f).code(), Code::kProtocol);
  f.code = CURLE_GOT_NOTHING;
  EXPECT_EQ(CurlError(f).code(), Code::kProtocol);
  EXPECT_NE(CurlError(f).message().find("GET /v1.41/x"), std::string::npos);
}

}  // namespace
}  // namespace kmps::docker
