// Classic CUDA binding of forward kinematics: checks (checks.h), device guard,
// contiguous layout (layout.h), then ../launch/cuda_fk.cuh on the current stream.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "checks.h"
#include "launch/cuda_fk.cuh"
#include "layout.h"

namespace torchrig {
namespace {

at::Tensor fk_cuda(const at::Tensor& rotations, const at::Tensor& offsets,
                   const at::Tensor& parents) {
  const FkShape s = check_fk_inputs(rotations, offsets, parents);
  const c10::cuda::CUDAGuard guard(rotations.device());
  const FkTensors in = fk_tensors(s, rotations, offsets, parents);
  at::Tensor out = at::empty({s.B, s.J, 3, 4}, in.rot.options());
  AT_DISPATCH_FLOATING_TYPES(in.rot.scalar_type(), "torchrig::forward_kinematics", [&] {
    launch::fk_forward_cuda<scalar_t>(at::cuda::getCurrentCUDAStream(), s, in, out);
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor> fk_backward_cuda(
    const at::Tensor& grad_transforms, const at::Tensor& rotations,
    const at::Tensor& offsets, const at::Tensor& parents,
    const at::Tensor& transforms) {
  const FkShape s = check_fk_backward_inputs(grad_transforms, rotations, offsets,
                                             parents, transforms);
  const c10::cuda::CUDAGuard guard(rotations.device());
  const FkTensors in = fk_tensors(s, rotations, offsets, parents);
  FkGradTensors g = fk_grad_tensors(s, grad_transforms, transforms);
  AT_DISPATCH_FLOATING_TYPES(in.rot.scalar_type(), "torchrig::forward_kinematics_backward", [&] {
    launch::fk_backward_cuda<scalar_t>(at::cuda::getCurrentCUDAStream(), s, in, g);
  });
  return fk_grads(s, g);
}

}  // namespace

TORCH_LIBRARY_IMPL(torchrig, CUDA, m) {
  m.impl("forward_kinematics", &fk_cuda);
  m.impl("forward_kinematics_backward", &fk_backward_cuda);
}

}  // namespace torchrig
