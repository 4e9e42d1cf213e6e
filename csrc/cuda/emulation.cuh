// Runs the CUDA kernels of this directory on CPU threads, for tests on
// machines without a GPU (tests/packaging/test_cuda_build.py). Never compiled by nvcc.
//
// One std::thread per CUDA thread; the blocks of a grid run one after the
// other; __syncthreads() and __syncwarp() are std::barriers over the block and
// over the warp; atomicAdd is std::atomic_ref::fetch_add; dynamic shared memory
// is one buffer, filled with garbage before each block. That is enough for
// kernels that use only these primitives (no shuffles, votes or warp-
// synchronous tricks), which is what the kernels here are written to: their
// index arithmetic, tiling, tail handling and synchronisation all run as on
// the device, and a missing barrier shows up as a data race.
#pragma once

#if defined(__CUDACC__)
#error "emulation.cuh emulates CUDA on the host; do not compile it with nvcc"
#endif

#include <atomic>
#include <barrier>
#include <cstddef>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#define __host__
#define __device__
#define __global__
#define __forceinline__ inline
#define __shared__
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

inline thread_local dim3 threadIdx{0, 0, 0};
inline thread_local dim3 blockIdx{0, 0, 0};
inline dim3 blockDim;
inline dim3 gridDim;

namespace torchrig::gpu::emulation {
inline thread_local std::barrier<>* block_barrier = nullptr;
inline thread_local std::barrier<>* warp_barrier = nullptr;
constexpr size_t kSharedBytes = size_t(1) << 18;
}  // namespace torchrig::gpu::emulation

inline void __syncthreads() { torchrig::gpu::emulation::block_barrier->arrive_and_wait(); }
inline void __syncwarp() { torchrig::gpu::emulation::warp_barrier->arrive_and_wait(); }

template <typename T>
T atomicAdd(T* address, T value) {
  return std::atomic_ref<T>(*address).fetch_add(value);
}

namespace torchrig::gpu {

// What device.cuh's dynamic_smem() declares `extern __shared__`.
alignas(16) inline unsigned char torchrig_dynamic_smem[emulation::kSharedBytes];

namespace emulation {

/// Runs body() as the kernel launch <<<grid, block, smem>>> (x and y only).
template <typename Body>
void launch(dim3 grid, dim3 block, size_t smem, Body body) {
  if (smem > kSharedBytes) throw std::runtime_error("emulated shared memory too small");
  gridDim = grid;
  blockDim = block;
  const unsigned n = block.x;
  for (unsigned by = 0; by < grid.y; ++by) {
    for (unsigned bx = 0; bx < grid.x; ++bx) {
      std::memset(torchrig_dynamic_smem, 0xCD, smem);  // no zeroed shared memory on a GPU
      std::barrier<> block_bar(n);
      std::vector<std::unique_ptr<std::barrier<>>> warp_bars;
      for (unsigned w = 0; w * 32 < n; ++w)
        warp_bars.emplace_back(new std::barrier<>(n - w * 32 < 32 ? n - w * 32 : 32));
      std::vector<std::thread> threads;
      for (unsigned t = 0; t < n; ++t) {
        threads.emplace_back([&, t] {
          threadIdx = dim3(t, 0, 0);
          blockIdx = dim3(bx, by, 0);
          block_barrier = &block_bar;
          warp_barrier = warp_bars[t / 32].get();
          body();
        });
      }
      for (auto& th : threads) th.join();
    }
  }
}

}  // namespace emulation
}  // namespace torchrig::gpu
