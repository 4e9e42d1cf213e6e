// CUDA kernels of joint_transforms (no torch types): one thread per batch
// element runs kernels/joint_params.h, its scratch a slice of `work`
// [B, J * kJointWork] (as fk_kernels.cuh: J is small, the batch the parallelism).
#pragma once

#include <cstdint>

#include "../kernels/joint_params.h"
#include "device.cuh"

namespace torchrig::gpu {

constexpr int kJointThreads = 64;

template <typename T>
__global__ void __launch_bounds__(kJointThreads)
joint_forward_kernel(int64_t B, int64_t J, const T* jp, const T* off, const int64_t* parents,
                     const T* ib, T* out, T* work) {
  const int64_t b = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b >= B) return;
  kernels::joint_transforms_one(jp + b * J * 7, off, parents, ib, J, out + b * J * 12,
                                work + b * J * kernels::kJointWork);
}

template <typename T>
__global__ void __launch_bounds__(kJointThreads)
joint_backward_kernel(int64_t B, int64_t J, const T* grad, const T* jp, const T* off,
                      const int64_t* parents, const T* ib, T* grad_jp, T* work) {
  const int64_t b = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b >= B) return;
  kernels::joint_transforms_backward_one(grad + b * J * 12, jp + b * J * 7, off, parents, ib, J,
                                         grad_jp + b * J * 7,
                                         work + b * J * kernels::kJointWork);
}

}  // namespace torchrig::gpu
