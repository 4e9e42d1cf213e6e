// Small device-side helpers shared by the CUDA kernels (no torch types).
//
// The kernel headers (fk_kernels.cuh, skin_kernels.cuh, batch_lanes.cuh) use
// only what is declared here plus CUDA built-ins (threadIdx, __syncthreads,
// __syncwarp, atomicAdd), so they stay plain CUDA C++ over raw pointers,
// launched by csrc/launch/cuda_*.cuh for both bindings.
#pragma once

#include <cstdint>

#include "../kernels/macros.h"

namespace torchrig::gpu {

constexpr int kWarp = 32;

TORCHRIG_HOST_DEVICE inline int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

TORCHRIG_HOST_DEVICE inline int64_t min64(int64_t a, int64_t b) {
  return a < b ? a : b;
}

/// The block's dynamic shared memory, viewed as T (16-byte aligned).
template <typename T>
__device__ __forceinline__ T* dynamic_smem() {
  extern __shared__ __align__(16) unsigned char torchrig_dynamic_smem[];
  return reinterpret_cast<T*>(torchrig_dynamic_smem);
}

}  // namespace torchrig::gpu
