#include "replay/replay_util.h"

#include "support/http_framing.h"

namespace kmps::testing {

StatusOr<Cassette> LoadCommittedCassette(std::string_view name) {
  return LoadCassette(std::string(KMPS_SOURCE_DIR "/fixtures/cassettes/") + std::string(name));
}

Cassette Select(const Cassette& cassette, std::initializer_list<std::string_view> prefixes) {
  Cassette out;
  out.description = cassette.description;
  for (const auto& it : cassette.interactions) {
    for (std::string_view p : prefixes) {
      if (std::string_view(it.label).substr(0, p.size()) == p) {
        out.interactions.push_back(it);
        break;
      }
    }
  }
  return out;
}

Interaction MakeInteraction(std::string label, std::string method, std::string path, std::string raw) {
  Interaction it;
  it.label = std::move(label);
  it.method = std::move(method);
  it.path = std::move(path);
  it.response_raw = std::move(raw);
  it.status = FrameResponse(it.response_raw, it.method, /*eof=*/true).head.status;
  return it;
}

std::string JsonResponse(int status, std::string_view reason, std::string_view body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
         "\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

std::string ExecStreamResponse(std::string_view frames) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\nApi-Version: 1.41\r\n\r\n" +
         std::string(frames);
}

std::string ExecFrame(int stream, std::string_view payload) {
  std::string f(8, '\0');
  f[0] = static_cast<char>(stream);
  uint32_t n = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) f[4 + i] = static_cast<char>((n >> (8 * (3 - i))) & 0xff);
  return f + std::string(payload);
}

StatusOr<std::unique_ptr<docker::DockerClient>> ClientFor(const ReplayServer& server,
                                                          std::chrono::milliseconds call_timeout) {
  docker::ClientOptions o;
  o.docker_host = "unix://" + server.socket_path();
  o.api_version.clear();
  o.call_timeout = call_timeout;
  return docker::DockerClient::Create(o);
}

}  // namespace kmps::testing
