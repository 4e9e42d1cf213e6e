// Host-side CUDA helpers of the stable-ABI binding (the stable twin of
// ../cuda/launch.cuh): current stream through torch's stable C shim, device
// properties from the CUDA runtime, the batch-in-lanes launch.
#pragma once

#include <cuda_runtime.h>
#include <torch/csrc/inductor/aoti_torch/c/shim.h>
#include <torch/csrc/stable/accelerator.h>
#include <torch/csrc/stable/macros.h>

#include <algorithm>
#include <cstdint>

#include "../cuda/batch_lanes.cuh"

namespace torchrig::stable {

/// torch's current CUDA stream on `device` (what at::cuda::getCurrentCUDAStream gives).
inline cudaStream_t current_stream(int32_t device) {
  void* stream = nullptr;
  STABLE_TORCH_ERROR_CODE_CHECK(aoti_torch_get_current_cuda_stream(device, &stream));
  return static_cast<cudaStream_t>(stream);
}

inline int device_attribute(cudaDeviceAttr attr, int32_t device) {
  int value = 0;
  STD_CUDA_CHECK(cudaDeviceGetAttribute(&value, attr, device));
  return value;
}

inline int multiprocessors(int32_t device) {
  return device_attribute(cudaDevAttrMultiProcessorCount, device);
}

/// Plans a batch-in-lanes launch on `device` (see ../cuda/batch_lanes.cuh).
inline gpu::LanePlan plan_lanes_on(int32_t device, int64_t B, int64_t V, int64_t J, int tiles,
                                   size_t elem, int max_warps) {
  return gpu::plan_lanes(B, V, J, tiles, elem,
                         size_t(device_attribute(cudaDevAttrMaxSharedMemoryPerBlockOptin, device)),
                         max_warps, multiprocessors(device));
}

/// Launches `kernel` with the plan's shape on `stream`; kernels above the
/// 48 KiB default opt in to more dynamic shared memory.
template <typename Kernel, typename... Args>
void launch_lanes(cudaStream_t stream, Kernel kernel, const gpu::LanePlan& p, Args... args) {
  if (p.smem_bytes > 48 * 1024) {
    STD_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        int(p.smem_bytes)));
  }
  const dim3 grid(unsigned(p.splits), unsigned(std::min<int64_t>(p.groups, 65535)));
  kernel<<<grid, p.warps * gpu::kWarp, p.smem_bytes, stream>>>(args...);
  STD_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace torchrig::stable
