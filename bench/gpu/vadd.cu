// vadd: the smallest useful CUDA client. Adds two vectors on the GPU, checks every element on the
// host, prints "vadd ok value=1.0 n=<N> device=<name>" and exits 0; on any CUDA error prints the
// failing call with cudaGetErrorString and exits 1; on a wrong result exits 2.
// Used by tools/device/gpu-e2e.sh to prove that a pod reaches the node's MPS server.
//   nvcc -O2 -arch=sm_90 -cudart static -o vadd vadd.cu
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CHECK(call)                                                                   \
  do {                                                                                \
    cudaError_t err_ = (call);                                                        \
    if (err_ != cudaSuccess) {                                                        \
      std::fprintf(stderr, "vadd: %s failed: %s (%s)\n", #call, cudaGetErrorString(err_), \
                   cudaGetErrorName(err_));                                           \
      return 1;                                                                       \
    }                                                                                 \
  } while (0)

__global__ void Add(const float* a, const float* b, float* c, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) c[i] = a[i] + b[i];
}

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : (1 << 20);
  if (n <= 0) {
    std::fprintf(stderr, "vadd: usage: vadd [N>0]\n");
    return 2;
  }
  int device = 0;
  CHECK(cudaGetDevice(&device));
  cudaDeviceProp prop{};
  CHECK(cudaGetDeviceProperties(&prop, device));

  std::vector<float> a(n, 0.25f), b(n, 0.75f), c(n, 0.0f);
  const size_t bytes = sizeof(float) * static_cast<size_t>(n);
  float *da = nullptr, *db = nullptr, *dc = nullptr;
  CHECK(cudaMalloc(&da, bytes));
  CHECK(cudaMalloc(&db, bytes));
  CHECK(cudaMalloc(&dc, bytes));
  CHECK(cudaMemcpy(da, a.data(), bytes, cudaMemcpyHostToDevice));
  CHECK(cudaMemcpy(db, b.data(), bytes, cudaMemcpyHostToDevice));
  Add<<<(n + 255) / 256, 256>>>(da, db, dc, n);
  CHECK(cudaGetLastError());
  CHECK(cudaDeviceSynchronize());
  CHECK(cudaMemcpy(c.data(), dc, bytes, cudaMemcpyDeviceToHost));
  CHECK(cudaFree(da));
  CHECK(cudaFree(db));
  CHECK(cudaFree(dc));

  for (int i = 0; i < n; ++i) {
    if (std::fabs(c[i] - 1.0f) > 1e-6f) {
      std::fprintf(stderr, "vadd: wrong result c[%d]=%f, expected 1.0\n", i, c[i]);
      return 2;
    }
  }
  std::printf("vadd ok value=%.1f n=%d device=%s\n", c[0], n, prop.name);
  return 0;
}
