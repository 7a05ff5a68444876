// kmps-recorder: records Docker Engine API exchanges into a cassette (docs/fixtures.md).
//   kmps-recorder --listen /tmp/rec.sock --out fixtures/cassettes/x.json [--upstream SOCK]
//                 [--scrub FROM=TO]... [--no-scrub] [--description TEXT]
//   kmps-recorder --convert-jsonl exchanges.jsonl --out x.json [--description TEXT]
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "recorder/convert.h"
#include "recorder/proxy.h"

namespace {
std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }
}  // namespace

int main(int argc, char** argv) {
  using namespace kmps::testing;
  CLI::App app{"Records Docker Engine API exchanges into a kmps cassette"};
  ProxyOptions opts;
  std::string convert_in;
  std::vector<std::string> scrubs;
  bool no_scrub = false;
  app.add_option("--listen", opts.listen_path, "Unix socket to listen on");
  app.add_option("--upstream", opts.upstream_path, "The real daemon's socket")->capture_default_str();
  app.add_option("--out", opts.out, "Cassette file to write")->required();
  app.add_option("--description", opts.description, "Cassette description");
  app.add_option("--scrub", scrubs, "Same-length replacement FROM=TO (e.g. a container name)");
  app.add_flag("--no-scrub", no_scrub, "Keep real IDs and dates");
  app.add_option("--convert-jsonl", convert_in, "Convert a JSON Lines exchange log instead of recording");
  CLI11_PARSE(app, argc, argv);

  if (!convert_in.empty()) {
    std::ifstream in(convert_in, std::ios::binary);
    if (!in) {
      std::cerr << "kmps-recorder: cannot read " << convert_in << "\n";
      return 3;
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto cassette = ConvertExchangeLog(text.str(), convert_in);
    if (!cassette.ok()) {
      std::cerr << "kmps-recorder: " << cassette.status().message() << "\n";
      return 2;
    }
    cassette->description = opts.description;
    kmps::Status s = SaveCassette(*cassette, opts.out);
    if (!s.ok()) {
      std::cerr << "kmps-recorder: " << s.message() << "\n";
      return 1;
    }
    std::cerr << "kmps-recorder: wrote " << cassette->interactions.size() << " interactions to " << opts.out.string() << "\n";
    return 0;
  }
  if (opts.listen_path.empty()) {
    std::cerr << "kmps-recorder: --listen is required when recording\n";
    return 2;
  }
  Scrubber scrubber;
  for (const auto& s : scrubs) {
    std::size_t eq = s.find('=');
    kmps::Status st = eq == std::string::npos ? kmps::InvalidArgument("--scrub wants FROM=TO, got " + s)
                                              : scrubber.AddReplacement(s.substr(0, eq), s.substr(eq + 1));
    if (!st.ok()) {
      std::cerr << "kmps-recorder: " << st.message() << "\n";
      return 2;
    }
  }
  opts.scrub = !no_scrub;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  RecordingProxy proxy(opts, std::move(scrubber));
  std::cerr << "kmps-recorder: listening on " << opts.listen_path << ", upstream " << opts.upstream_path << "\n";
  kmps::Status s = proxy.Run(g_stop);
  if (!s.ok()) {
    std::cerr << "kmps-recorder: " << s.message() << "\n";
    return s.code() == kmps::Code::kInvalidArgument ? 2 : 1;
  }
  std::cerr << "kmps-recorder: wrote " << proxy.recorded() << " interactions to " << opts.out.string() << "\n";
  return 0;
}
