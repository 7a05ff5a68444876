// What the MPS control daemon answers (mps/mps_control.h, mps/mps_processes.h), any bytes: the
// exit code, stdout and stderr of a control command, get_server_list's PIDs, `-d`'s failure, and
// the node's process table (one row a line, columns split at tabs; the first line the titles).
#include <fuzzer/FuzzedDataProvider.h>

#include <chrono>
#include <string>

#include "fuzz_support.h"
#include "mps/mps_control.h"
#include "mps/mps_processes.h"

namespace {

std::vector<std::string> Split(std::string_view line, char sep) {
  std::vector<std::string> out;
  size_t at = 0;
  for (size_t end; (end = line.find(sep, at)) != std::string_view::npos; at = end + 1) {
    out.emplace_back(line.substr(at, end - at));
  }
  out.emplace_back(line.substr(at));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kmps;
  FuzzedDataProvider in(data, size);
  node::CommandResult r;
  r.exit_code = in.ConsumeIntegral<int>();
  r.out = in.ConsumeRandomLengthString();
  r.err = in.ConsumeRandomLengthString();
  std::string top = in.ConsumeRemainingBytesAsString();

  mps::ReplyKind kind = mps::ClassifyReply(r);
  auto reply = mps::ReplyOf("kind-worker", "get_server_list", r, std::chrono::seconds(20), 2);
  KMPS_FUZZ_CHECK(reply.ok() == (kind == mps::ReplyKind::kOk));
  if (reply.ok()) KMPS_FUZZ_CHECK(*reply == r.out);
  for (int pid : mps::ParseServerList(r.out)) (void)pid;
  KMPS_FUZZ_CHECK(!mps::DaemonStartError("kind-worker", r.exit_code, r.out + r.err).ok());

  ProcessTable table;
  std::vector<std::string> lines = Split(top, '\n');
  table.titles = Split(lines.front(), '\t');
  for (size_t i = 1; i < lines.size(); ++i) table.processes.push_back(Split(lines[i], '\t'));
  mps::MpsProcesses found = mps::FindMpsProcesses(table);
  KMPS_FUZZ_CHECK(found.servers.size() <= table.processes.size());
  return 0;
}
