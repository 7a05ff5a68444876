// mps_client: one client of the GPU sharing benchmark (bench/gpu/README in docs/gpu-e2e.md).
// Launches many SMALL kernels (a few blocks that busy-wait a few microseconds each, leaving most
// of the GPU idle) back to back, one at a time: launch, then wait for it. Each launch+wait is one
// latency sample. K copies run at once, each in its own container; with MPS their kernels can run
// side by side on the GPU, without it the driver time-slices between the K contexts.
//
// All K clients set up their CUDA context first, then wait for the same wall-clock instant so that
// the measured windows overlap: either --start-at UNIX_SECONDS, or --barrier-dir DIR (a directory
// shared by the K containers): each client creates DIR/ready.<label> once set up, then waits for
// DIR/go, which holds the start time in Unix seconds (the harness writes it once all are ready).
//
// Prints one JSON line:
//   {"label":..,"kernels":..,"seconds":..,"kps":..,"mean_us":..,"p50_us":..,"p90_us":..,
//    "p99_us":..,"max_us":..,"late_ms":..,"setup_ms":..,"device":..,"sms":..,"ok":true}
// ("sms": the multiprocessors the client is given: under MPS with
// CUDA_MPS_ACTIVE_THREAD_PERCENTAGE, fewer than the GPU has)
// Exit 0 on success, 1 on a CUDA error (printed with cudaGetErrorString), 2 on bad usage,
// 3 if the GPU did not run every launched kernel, 4 if the barrier never opened.
//
//   nvcc -O2 -arch=sm_90 -cudart static -o mps_client mps_client.cu
//   mps_client --seconds 5 --blocks 2 --threads 128 --spin-us 20 --start-at 1764166182.5
#include <cuda_runtime.h>

#include <algorithm>
#include <fstream>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#define CHECK(call)                                                                          \
  do {                                                                                       \
    cudaError_t err_ = (call);                                                               \
    if (err_ != cudaSuccess) {                                                               \
      std::fprintf(stderr, "mps_client: %s failed: %s (%s)\n", #call, cudaGetErrorString(err_), \
                   cudaGetErrorName(err_));                                                  \
      return 1;                                                                              \
    }                                                                                        \
  } while (0)

namespace {

__device__ __forceinline__ unsigned long long GlobalTimerNs() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

// Every thread busy-waits `spin_ns` of wall time; thread 0 of each block counts the block done.
__global__ void Spin(unsigned long long spin_ns, unsigned long long* done) {
  const unsigned long long t0 = GlobalTimerNs();
  while (GlobalTimerNs() - t0 < spin_ns) {
  }
  if (threadIdx.x == 0) atomicAdd(done, 1ull);
}

struct Options {
  double seconds = 5.0;
  int blocks = 2;
  int threads = 128;
  double spin_us = 20.0;
  double start_at = 0.0;  // Unix seconds; 0 = start at once
  int warmup = 200;
  std::string label = "client";
  std::string barrier_dir;  // empty: no barrier
  double barrier_timeout = 120.0;
};

void Usage() {
  std::fprintf(stderr,
               "usage: mps_client [--seconds S] [--blocks B] [--threads T] [--spin-us U]\n"
               "                  [--start-at UNIX_SECONDS | --barrier-dir DIR] [--warmup N]\n"
               "                  [--label TEXT]\n");
}

bool Parse(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") return false;
    if (i + 1 >= argc) {
      std::fprintf(stderr, "mps_client: %s needs a value\n", a.c_str());
      return false;
    }
    const char* v = argv[++i];
    char* end = nullptr;
    const double d = std::strtod(v, &end);
    const bool numeric = end != v && *end == '\0';
    if (a == "--label") {
      o->label = v;
      continue;
    }
    if (a == "--barrier-dir") {
      o->barrier_dir = v;
      continue;
    }
    if (!numeric) {
      std::fprintf(stderr, "mps_client: %s: not a number: %s\n", a.c_str(), v);
      return false;
    }
    if (a == "--seconds") o->seconds = d;
    else if (a == "--blocks") o->blocks = static_cast<int>(d);
    else if (a == "--threads") o->threads = static_cast<int>(d);
    else if (a == "--spin-us") o->spin_us = d;
    else if (a == "--start-at") o->start_at = d;
    else if (a == "--warmup") o->warmup = static_cast<int>(d);
    else {
      std::fprintf(stderr, "mps_client: unknown option %s\n", a.c_str());
      return false;
    }
  }
  if (o->seconds <= 0 || o->blocks < 1 || o->threads < 1 || o->threads > 1024 || o->spin_us < 0 ||
      o->warmup < 0) {
    std::fprintf(stderr, "mps_client: out-of-range option\n");
    return false;
  }
  return true;
}

double NowUnix() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  const size_t idx = static_cast<size_t>(std::ceil(p * sorted.size())) - (p > 0 ? 1 : 0);
  return sorted[std::min(idx, sorted.size() - 1)];
}

// JSON-escapes the few characters a label or device name could hold.
std::string Json(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"";
}

// Announces this client ready in the barrier directory, then waits for the go file and returns
// the start time it holds (Unix seconds), or a negative value on timeout or a bad go file.
double WaitAtBarrier(const Options& o) {
  const std::string ready = o.barrier_dir + "/ready." + o.label;
  {
    std::ofstream f(ready);
    f << "ready\n";
    if (!f) {
      std::fprintf(stderr, "mps_client: cannot write %s\n", ready.c_str());
      return -1;
    }
  }
  const std::string go = o.barrier_dir + "/go";
  const double give_up = NowUnix() + o.barrier_timeout;
  while (NowUnix() < give_up) {
    std::ifstream f(go);
    double start = 0;
    if (f && (f >> start) && start > 0) return start;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::fprintf(stderr, "mps_client: no %s within %.0f s\n", go.c_str(), o.barrier_timeout);
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!Parse(argc, argv, &o)) {
    Usage();
    return 2;
  }
  using Clock = std::chrono::steady_clock;
  const auto setup_begin = Clock::now();
  int device = 0;
  CHECK(cudaGetDevice(&device));
  cudaDeviceProp prop{};
  CHECK(cudaGetDeviceProperties(&prop, device));
  CHECK(cudaFree(nullptr));  // creates the context (through MPS when a daemon is reachable)
  unsigned long long* done = nullptr;
  CHECK(cudaMalloc(&done, sizeof(*done)));
  CHECK(cudaMemset(done, 0, sizeof(*done)));
  cudaStream_t stream;
  CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  const unsigned long long spin_ns = static_cast<unsigned long long>(o.spin_us * 1000.0);
  for (int i = 0; i < o.warmup; ++i) {
    Spin<<<o.blocks, o.threads, 0, stream>>>(spin_ns, done);
    CHECK(cudaGetLastError());
    CHECK(cudaStreamSynchronize(stream));
  }
  const double setup_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - setup_begin).count();

  double late_ms = 0.0;
  if (!o.barrier_dir.empty()) {
    o.start_at = WaitAtBarrier(o);
    if (o.start_at < 0) return 4;
  }
  if (o.start_at > 0) {
    const double wait = o.start_at - NowUnix();
    if (wait > 0) std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    else late_ms = -wait * 1000.0;
  }

  std::vector<double> lat_us;
  lat_us.reserve(1 << 20);
  const auto begin = Clock::now();
  const auto stop = begin + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(o.seconds));
  auto now = begin;
  while (now < stop) {
    const auto t0 = now;
    Spin<<<o.blocks, o.threads, 0, stream>>>(spin_ns, done);
    CHECK(cudaGetLastError());
    CHECK(cudaStreamSynchronize(stream));
    now = Clock::now();
    lat_us.push_back(std::chrono::duration<double, std::micro>(now - t0).count());
  }
  const double seconds = std::chrono::duration<double>(now - begin).count();

  unsigned long long blocks_done = 0;
  CHECK(cudaMemcpy(&blocks_done, done, sizeof(blocks_done), cudaMemcpyDeviceToHost));
  CHECK(cudaFree(done));
  CHECK(cudaStreamDestroy(stream));
  const unsigned long long launched =
      (static_cast<unsigned long long>(lat_us.size()) + o.warmup) * o.blocks;
  const bool ok = blocks_done == launched;

  const size_t kernels = lat_us.size();
  double sum = 0;
  for (double v : lat_us) sum += v;
  std::sort(lat_us.begin(), lat_us.end());
  std::printf(
      "{\"label\":%s,\"kernels\":%zu,\"seconds\":%.4f,\"kps\":%.1f,\"mean_us\":%.2f,"
      "\"p50_us\":%.2f,\"p90_us\":%.2f,\"p99_us\":%.2f,\"max_us\":%.2f,\"late_ms\":%.2f,"
      "\"setup_ms\":%.1f,\"blocks\":%d,\"threads\":%d,\"spin_us\":%.2f,\"device\":%s,"
      "\"sms\":%d,\"ok\":%s}\n",
      Json(o.label).c_str(), kernels, seconds, kernels / seconds,
      kernels ? sum / kernels : 0.0, Percentile(lat_us, 0.50), Percentile(lat_us, 0.90),
      Percentile(lat_us, 0.99), lat_us.empty() ? 0.0 : lat_us.back(), late_ms, setup_ms,
      o.blocks, o.threads, o.spin_us, Json(prop.name).c_str(), prop.multiProcessorCount,
      ok ? "true" : "false");
  std::fflush(stdout);
  if (!ok) {
    std::fprintf(stderr, "mps_client: the GPU ran %llu blocks, %llu were launched\n", blocks_done,
                 launched);
    return 3;
  }
  return 0;
}
