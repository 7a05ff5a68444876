// Helpers shared by the replay tests: picking interactions out of a recorded cassette, building
// small responses, and a DockerClient pointed at a ReplayServer.
#pragma once

#include <chrono>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "docker_api/docker_client.h"
#include "support/cassette.h"
#include "support/replay_server.h"

namespace kmps::testing {

// The cassette at KMPS_SOURCE_DIR/fixtures/cassettes/<name>.
StatusOr<Cassette> LoadCommittedCassette(std::string_view name);

// The interactions of `cassette` whose label starts with one of `prefixes`, in cassette order,
// bytes untouched. The replay server does not compare request bodies, so a test that runs one
// exec of a recording serves only that exec's create/start/inspect.
Cassette Select(const Cassette& cassette, std::initializer_list<std::string_view> prefixes);

// An interaction answering `method path` with `raw` (status checked against the framing).
Interaction MakeInteraction(std::string label, std::string method, std::string path, std::string raw);
// "HTTP/1.1 <status> <reason>" with Api-Version, JSON content type and Content-Length.
std::string JsonResponse(int status, std::string_view reason, std::string_view body);
// A close-delimited exec start response carrying `frames` (see ExecFrame).
std::string ExecStreamResponse(std::string_view frames);
// One multiplexed exec frame: 8-byte header (stream, 0, 0, 0, big-endian size) and payload.
std::string ExecFrame(int stream, std::string_view payload);

// A DockerClient on server.socket_path(); the API version is negotiated from /_ping.
StatusOr<std::unique_ptr<docker::DockerClient>> ClientFor(
    const ReplayServer& server, std::chrono::milliseconds call_timeout = std::chrono::seconds(10));

}  // namespace kmps::testing
