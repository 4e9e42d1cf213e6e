// Classic CPU binding of joint_transforms (joint parameters to global or
// skinning transforms): checks (checks.h), contiguous layout (layout.h), then
// the launch plan of ../launch/cpu_joint.h on ATen's thread pool.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <optional>

#include "checks.h"
#include "launch/cpu_joint.h"
#include "layout.h"
#include "pool.h"

namespace torchrig {
namespace {

at::Tensor joint_cpu(const at::Tensor& joint_params, const at::Tensor& offsets,
                     const at::Tensor& parents, const std::optional<at::Tensor>& inverse_bind) {
  const at::Tensor ib = inverse_bind.value_or(at::Tensor());
  const FkShape s = check_joint_inputs(joint_params, offsets, parents, ib);
  const JointTensors in = joint_tensors(joint_params, offsets, parents, ib);
  at::Tensor out = at::empty({s.B, s.J, 3, 4}, in.jp.options());
  AT_DISPATCH_FLOATING_TYPES(in.jp.scalar_type(), "torchrig::joint_transforms", [&] {
    launch::joint_forward<scalar_t>(AtenPool{}, s, in, out);
  });
  return out;
}

at::Tensor joint_backward_cpu(const at::Tensor& grad_transforms, const at::Tensor& joint_params,
                              const at::Tensor& offsets, const at::Tensor& parents,
                              const std::optional<at::Tensor>& inverse_bind) {
  const at::Tensor ib = inverse_bind.value_or(at::Tensor());
  const FkShape s = check_joint_backward_inputs(grad_transforms, joint_params, offsets, parents, ib);
  const JointTensors in = joint_tensors(joint_params, offsets, parents, ib);
  const at::Tensor g = grad_transforms.contiguous();
  at::Tensor grad_jp = at::empty(in.jp.sizes(), in.jp.options());
  AT_DISPATCH_FLOATING_TYPES(in.jp.scalar_type(), "torchrig::joint_transforms_backward", [&] {
    launch::joint_backward<scalar_t>(AtenPool{}, s, g, in, grad_jp);
  });
  return grad_jp;
}

}  // namespace

TORCH_LIBRARY_IMPL(torchrig, CPU, m) {
  m.impl("joint_transforms", &joint_cpu);
  m.impl("joint_transforms_backward", &joint_backward_cpu);
}

}  // namespace torchrig
