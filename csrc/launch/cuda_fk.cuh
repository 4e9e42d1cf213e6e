// Launch plan of forward kinematics on a CUDA device, for both bindings: one
// thread per batch element (../cuda/fk_kernels.cuh) on the binding's stream.
// Arguments as in cpu_fk.h.
#pragma once

#include <cstdint>

#include "../cuda/fk_kernels.cuh"
#include "cuda.cuh"

namespace torchrig::launch {

inline unsigned fk_blocks(int64_t B) { return unsigned(gpu::ceil_div(B, gpu::kFkThreads)); }

template <typename T>
void fk_forward_cuda(cudaStream_t stream, int64_t B, int64_t J, const T* rot, const T* off,
                     int64_t off_bs, const int64_t* parents, T* G) {
  if (B == 0 || J == 0) return;
  gpu::fk_forward_kernel<T><<<fk_blocks(B), gpu::kFkThreads, 0, stream>>>(B, J, rot, off, off_bs,
                                                                         parents, G);
  TORCHRIG_CUDA_LAUNCH_CHECK();
}

template <typename T>
void fk_backward_cuda(cudaStream_t stream, int64_t B, int64_t J, const T* rot, const T* off,
                      int64_t off_bs, const int64_t* parents, const T* G, T* adj, T* grad_rot,
                      T* grad_off) {
  if (B == 0 || J == 0) return;
  gpu::fk_backward_kernel<T><<<fk_blocks(B), gpu::kFkThreads, 0, stream>>>(
      B, J, rot, off, off_bs, parents, G, adj, grad_rot, grad_off);
  TORCHRIG_CUDA_LAUNCH_CHECK();
}

}  // namespace torchrig::launch
