// CUDA binding of forward kinematics: the checks of csrc/checks.h, contiguous
// layouts, then csrc/cuda/fk_kernels.cuh (one thread per batch element).
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "../checks.h"
#include "fk_kernels.cuh"

namespace torchrig {
namespace {

int64_t offsets_batch_stride(const FkShape& s) {
  return s.batched_offsets ? s.J * 3 : 0;
}

unsigned fk_blocks(int64_t B) { return unsigned(gpu::ceil_div(B, gpu::kFkThreads)); }

at::Tensor fk_cuda(const at::Tensor& rotations, const at::Tensor& offsets,
                   const at::Tensor& parents) {
  const FkShape s = check_fk_inputs(rotations, offsets, parents);
  const c10::cuda::CUDAGuard guard(rotations.device());
  const at::Tensor rot = rotations.contiguous();
  const at::Tensor off = offsets.contiguous();
  const at::Tensor par = parents.contiguous();
  at::Tensor out = at::empty({s.B, s.J, 3, 4}, rot.options());
  if (out.numel() == 0) return out;
  AT_DISPATCH_FLOATING_TYPES(rot.scalar_type(), "torchrig::forward_kinematics", [&] {
    gpu::fk_forward_kernel<scalar_t>
        <<<fk_blocks(s.B), gpu::kFkThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
            s.B, s.J, rot.const_data_ptr<scalar_t>(), off.const_data_ptr<scalar_t>(),
            offsets_batch_stride(s), par.const_data_ptr<int64_t>(),
            out.mutable_data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor> fk_backward_cuda(
    const at::Tensor& grad_transforms, const at::Tensor& rotations,
    const at::Tensor& offsets, const at::Tensor& parents,
    const at::Tensor& transforms) {
  const FkShape s = check_fk_inputs(rotations, offsets, parents);
  check_grad(grad_transforms, "grad_transforms", {s.B, s.J, 3, 4}, rotations);
  check_grad(transforms, "transforms", {s.B, s.J, 3, 4}, rotations);
  const c10::cuda::CUDAGuard guard(rotations.device());
  const at::Tensor rot = rotations.contiguous();
  const at::Tensor off = offsets.contiguous();
  const at::Tensor par = parents.contiguous();
  const at::Tensor G = transforms.contiguous();
  // The reverse pass consumes its adjoint buffer: start from a copy.
  at::Tensor adj = grad_transforms.contiguous().clone();
  at::Tensor grad_rot = at::empty({s.B, s.J, 3, 3}, rot.options());
  at::Tensor grad_off = at::empty({s.B, s.J, 3}, rot.options());
  if (grad_rot.numel() > 0) {
    AT_DISPATCH_FLOATING_TYPES(rot.scalar_type(), "torchrig::forward_kinematics_backward", [&] {
      gpu::fk_backward_kernel<scalar_t>
          <<<fk_blocks(s.B), gpu::kFkThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
              s.B, s.J, rot.const_data_ptr<scalar_t>(), off.const_data_ptr<scalar_t>(),
              offsets_batch_stride(s), par.const_data_ptr<int64_t>(),
              G.const_data_ptr<scalar_t>(), adj.mutable_data_ptr<scalar_t>(),
              grad_rot.mutable_data_ptr<scalar_t>(), grad_off.mutable_data_ptr<scalar_t>());
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
  }
  if (!s.batched_offsets) grad_off = grad_off.sum(0);
  return {grad_rot, grad_off};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchrig, CUDA, m) {
  m.impl("forward_kinematics", &fk_cuda);
  m.impl("forward_kinematics_backward", &fk_backward_cuda);
}

}  // namespace torchrig
