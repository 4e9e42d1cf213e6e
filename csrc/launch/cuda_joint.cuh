// Launch plan of joint_transforms on a CUDA device, for both bindings: one
// thread per batch element (../cuda/joint_kernels.cuh) on the binding's stream.
// `work` is scratch of B * J * kernels::kJointWork elements (the binding allocates it).
#pragma once

#include <cstdint>

#include "../cuda/joint_kernels.cuh"
#include "cuda.cuh"
#include "tensors.h"

namespace torchrig::launch {

template <typename T, class In, class Tensor>
void joint_forward_cuda(cudaStream_t stream, const FkShape& s, const In& in, const Tensor& out,
                        const Tensor& work) {
  if (s.B == 0 || s.J == 0) return;
  const unsigned blocks = unsigned(gpu::ceil_div(s.B, gpu::kJointThreads));
  gpu::joint_forward_kernel<T><<<blocks, gpu::kJointThreads, 0, stream>>>(
      s.B, s.J, in_ptr<T>(in.jp), in_ptr<T>(in.off), in_ptr<int64_t>(in.par),
      in.has_ib ? in_ptr<T>(in.ib) : nullptr, out_ptr<T>(out), out_ptr<T>(work));
  TORCHRIG_CUDA_LAUNCH_CHECK();
}

template <typename T, class In, class Tensor>
void joint_backward_cuda(cudaStream_t stream, const FkShape& s, const Tensor& grad, const In& in,
                         const Tensor& grad_jp, const Tensor& work) {
  if (s.B == 0 || s.J == 0) return;
  const unsigned blocks = unsigned(gpu::ceil_div(s.B, gpu::kJointThreads));
  gpu::joint_backward_kernel<T><<<blocks, gpu::kJointThreads, 0, stream>>>(
      s.B, s.J, in_ptr<T>(grad), in_ptr<T>(in.jp), in_ptr<T>(in.off), in_ptr<int64_t>(in.par),
      in.has_ib ? in_ptr<T>(in.ib) : nullptr, out_ptr<T>(grad_jp), out_ptr<T>(work));
  TORCHRIG_CUDA_LAUNCH_CHECK();
}

}  // namespace torchrig::launch
