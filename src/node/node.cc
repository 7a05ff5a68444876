#include "node/node.h"

#include <algorithm>
#include <atomic>
#include <system_error>
#include <thread>

namespace kmps::node {

std::vector<Status> ParallelFor(size_t count, const std::function<Status(size_t)>& fn) {
  std::vector<Status> results(count);
  if (count == 0) return results;
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < count; i = next++) results[i] = fn(i);
  };
  // With fewer threads than wanted (none could be had) the others take the remaining items.
  std::vector<std::thread> threads;
  for (size_t w = 1; w < std::min(count, kMaxParallel); ++w) {
    try {
      threads.emplace_back(work);
    } catch (const std::system_error&) {
      break;
    }
  }
  work();
  for (auto& t : threads) t.join();
  return results;
}

}  // namespace kmps::node
