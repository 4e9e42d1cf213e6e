// Host-side CUDA launch helpers shared by both bindings (../classic/cuda_*.cu,
// ../stable/cuda_*.cu): error checks, device attributes and the
// batch-in-lanes launch, over the CUDA runtime only (no torch header). A
// binding passes the device index and torch's current stream.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "../cuda/batch_lanes.cuh"

namespace torchrig::launch {

/// Throws std::runtime_error (RuntimeError in Python, from either binding).
[[noreturn]] inline void cuda_fail(cudaError_t err, const char* what, const char* file, int line) {
  throw std::runtime_error(std::string("CUDA error: ") + cudaGetErrorString(err) + " (" +
                           cudaGetErrorName(err) + ") in " + what + " at " + file + ":" +
                           std::to_string(line));
}

#define TORCHRIG_CUDA_CHECK(EXPR)                                                    \
  do {                                                                               \
    const cudaError_t torchrig_err_ = (EXPR);                                        \
    if (torchrig_err_ != cudaSuccess)                                                \
      ::torchrig::launch::cuda_fail(torchrig_err_, #EXPR, __FILE__, __LINE__);       \
  } while (0)

/// After a kernel launch: a bad launch configuration, reported now.
#define TORCHRIG_CUDA_LAUNCH_CHECK() TORCHRIG_CUDA_CHECK(cudaGetLastError())

inline int device_attribute(cudaDeviceAttr attr, int device) {
  int value = 0;
  TORCHRIG_CUDA_CHECK(cudaDeviceGetAttribute(&value, attr, device));
  return value;
}

inline int multiprocessors(int device) {
  return device_attribute(cudaDevAttrMultiProcessorCount, device);
}

/// Plans a batch-in-lanes launch on `device` (see ../cuda/batch_lanes.cuh).
inline gpu::LanePlan plan_lanes_on(int device, int64_t B, int64_t V, int64_t J, int tiles,
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
    TORCHRIG_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                             int(p.smem_bytes)));
  }
  const dim3 grid(unsigned(p.splits), unsigned(std::min<int64_t>(p.groups, 65535)));
  kernel<<<grid, p.warps * gpu::kWarp, p.smem_bytes, stream>>>(args...);
  TORCHRIG_CUDA_LAUNCH_CHECK();
}

}  // namespace torchrig::launch
