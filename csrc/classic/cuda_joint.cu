// Classic CUDA binding of joint_transforms: checks (checks.h), device guard,
// contiguous layout (layout.h), scratch, then ../launch/cuda_joint.cuh on the
// current stream.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <optional>

#include "checks.h"
#include "launch/cuda_joint.cuh"
#include "layout.h"

namespace torchrig {
namespace {

at::Tensor joint_cuda(const at::Tensor& joint_params, const at::Tensor& offsets,
                      const at::Tensor& parents, const std::optional<at::Tensor>& inverse_bind) {
  const at::Tensor ib = inverse_bind.value_or(at::Tensor());
  const FkShape s = check_joint_inputs(joint_params, offsets, parents, ib);
  const c10::cuda::CUDAGuard guard(joint_params.device());
  const JointTensors in = joint_tensors(joint_params, offsets, parents, ib);
  at::Tensor out = at::empty({s.B, s.J, 3, 4}, in.jp.options());
  at::Tensor work = at::empty({s.B, s.J * kernels::kJointWork}, in.jp.options());
  AT_DISPATCH_FLOATING_TYPES(in.jp.scalar_type(), "torchrig::joint_transforms", [&] {
    launch::joint_forward_cuda<scalar_t>(at::cuda::getCurrentCUDAStream(), s, in, out, work);
  });
  return out;
}

at::Tensor joint_backward_cuda(const at::Tensor& grad_transforms, const at::Tensor& joint_params,
                               const at::Tensor& offsets, const at::Tensor& parents,
                               const std::optional<at::Tensor>& inverse_bind) {
  const at::Tensor ib = inverse_bind.value_or(at::Tensor());
  const FkShape s = check_joint_backward_inputs(grad_transforms, joint_params, offsets, parents, ib);
  const c10::cuda::CUDAGuard guard(joint_params.device());
  const JointTensors in = joint_tensors(joint_params, offsets, parents, ib);
  const at::Tensor g = grad_transforms.contiguous();
  at::Tensor grad_jp = at::empty(in.jp.sizes(), in.jp.options());
  at::Tensor work = at::empty({s.B, s.J * kernels::kJointWork}, in.jp.options());
  AT_DISPATCH_FLOATING_TYPES(in.jp.scalar_type(), "torchrig::joint_transforms_backward", [&] {
    launch::joint_backward_cuda<scalar_t>(at::cuda::getCurrentCUDAStream(), s, g, in, grad_jp,
                                          work);
  });
  return grad_jp;
}

}  // namespace

TORCH_LIBRARY_IMPL(torchrig, CUDA, m) {
  m.impl("joint_transforms", &joint_cuda);
  m.impl("joint_transforms_backward", &joint_backward_cuda);
}

}  // namespace torchrig
