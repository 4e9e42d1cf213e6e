// CUDA kernels of forward kinematics (no torch types): one thread per batch
// element runs kernels/fk.h's fk_forward_one / fk_backward_one.
//
// Joints are walked serially inside a thread. J is small (55 for SMPL-X) and
// the batch supplies the parallelism; splitting joints of one depth across
// threads would need a per-depth schedule of the tree, and pays only when B
// is too small to fill the GPU, where the op costs a few microseconds anyway.
//
// Layouts as in kernels/fk.h, batched: rot [B, J, 3, 3], off [J, 3] (off_bs
// 0) or [B, J, 3] (off_bs J * 3), parents [J], G / adj [B, J, 3, 4],
// grad_rot [B, J, 3, 3], grad_off [B, J, 3].
#pragma once

#include <cstdint>

#include "../kernels/fk.h"
#include "device.cuh"

namespace torchrig::gpu {

constexpr int kFkThreads = 64;  // small blocks: B = 4096 still spreads over 64 SMs

template <typename T>
__global__ void __launch_bounds__(kFkThreads)
fk_forward_kernel(int64_t B, int64_t J, const T* rot, const T* off,
                  int64_t off_bs, const int64_t* parents, T* G) {
  const int64_t b = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b >= B) return;
  kernels::fk_forward_one(rot + b * J * 9, off + b * off_bs, parents, J,
                          G + b * J * 12);
}

/// `adj` holds a copy of dL/dG and is consumed (see fk_backward_one).
template <typename T>
__global__ void __launch_bounds__(kFkThreads)
fk_backward_kernel(int64_t B, int64_t J, const T* rot, const T* off,
                   int64_t off_bs, const int64_t* parents, const T* G, T* adj,
                   T* grad_rot, T* grad_off) {
  const int64_t b = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b >= B) return;
  kernels::fk_backward_one(rot + b * J * 9, off + b * off_bs, parents,
                           G + b * J * 12, J, adj + b * J * 12,
                           grad_rot + b * J * 9, grad_off + b * J * 3);
}

}  // namespace torchrig::gpu
