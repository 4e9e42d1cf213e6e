// Launch plan of forward kinematics on a CUDA device, for both bindings: one
// thread per batch element (../cuda/fk_kernels.cuh) on the binding's stream.
// Arguments as in cpu_fk.h.
#pragma once

#include <cstdint>

#include "../cuda/fk_kernels.cuh"
#include "cuda.cuh"
#include "tensors.h"

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

/// The same over a binding's layout (tensors.h): `in` FkTensors, `out` [B, J, 3, 4].
template <typename T, class In, class Tensor>
void fk_forward_cuda(cudaStream_t stream, const FkShape& s, const In& in, const Tensor& out) {
  fk_forward_cuda(stream, s.B, s.J, in_ptr<T>(in.rot), in_ptr<T>(in.off), in.off_bs,
                  in_ptr<int64_t>(in.par), out_ptr<T>(out));
}

/// The same over a binding's layout (tensors.h): `in` FkTensors, `g` FkGradTensors.
template <typename T, class In, class Grads>
void fk_backward_cuda(cudaStream_t stream, const FkShape& s, const In& in, const Grads& g) {
  fk_backward_cuda(stream, s.B, s.J, in_ptr<T>(in.rot), in_ptr<T>(in.off), in.off_bs,
                   in_ptr<int64_t>(in.par), in_ptr<T>(g.G), out_ptr<T>(g.adj),
                   out_ptr<T>(g.grad_rot), out_ptr<T>(g.grad_off));
}

}  // namespace torchrig::launch
