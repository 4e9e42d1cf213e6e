// Host-side launch helpers shared by the CUDA bindings (ATen side).
#pragma once

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>
#include <cstdint>

#include "batch_lanes.cuh"

namespace torchrig::gpu {

/// Plans a batch-in-lanes launch on the current device (see batch_lanes.cuh).
inline LanePlan plan_lanes_here(int64_t B, int64_t V, int64_t J, int tiles,
                                size_t elem, int max_warps) {
  const cudaDeviceProp* prop = at::cuda::getCurrentDeviceProperties();
  return plan_lanes(B, V, J, tiles, elem, prop->sharedMemPerBlockOptin,
                    max_warps, prop->multiProcessorCount);
}

/// Launches `kernel` with the plan's shape on the current stream; kernels
/// above the 48 KiB default opt in to more dynamic shared memory.
template <typename Kernel, typename... Args>
void launch_lanes(Kernel kernel, const LanePlan& p, Args... args) {
  if (p.smem_bytes > 48 * 1024) {
    C10_CUDA_CHECK(cudaFuncSetAttribute(
        kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(p.smem_bytes)));
  }
  const dim3 grid(unsigned(p.splits), unsigned(std::min<int64_t>(p.groups, 65535)));
  kernel<<<grid, p.warps * kWarp, p.smem_bytes, at::cuda::getCurrentCUDAStream()>>>(
      args...);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace torchrig::gpu
