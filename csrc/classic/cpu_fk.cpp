// Classic CPU binding of forward kinematics: checks (checks.h), contiguous
// layout (layout.h), then the launch plan of ../launch/cpu_fk.h on ATen's
// thread pool.
#include <ATen/ATen.h>
#include <torch/library.h>

#include "checks.h"
#include "launch/cpu_fk.h"
#include "layout.h"
#include "pool.h"

namespace torchrig {
namespace {

at::Tensor fk_cpu(const at::Tensor& rotations, const at::Tensor& offsets,
                  const at::Tensor& parents) {
  const FkShape s = check_fk_inputs(rotations, offsets, parents);
  const FkTensors in = fk_tensors(s, rotations, offsets, parents);
  at::Tensor out = at::empty({s.B, s.J, 3, 4}, in.rot.options());
  AT_DISPATCH_FLOATING_TYPES(in.rot.scalar_type(), "torchrig::forward_kinematics", [&] {
    launch::fk_forward<scalar_t>(AtenPool{}, s, in, out);
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor> fk_backward_cpu(
    const at::Tensor& grad_transforms, const at::Tensor& rotations,
    const at::Tensor& offsets, const at::Tensor& parents,
    const at::Tensor& transforms) {
  const FkShape s = check_fk_backward_inputs(grad_transforms, rotations, offsets,
                                             parents, transforms);
  const FkTensors in = fk_tensors(s, rotations, offsets, parents);
  FkGradTensors g = fk_grad_tensors(s, grad_transforms, transforms);
  AT_DISPATCH_FLOATING_TYPES(in.rot.scalar_type(), "torchrig::forward_kinematics_backward", [&] {
    launch::fk_backward<scalar_t>(AtenPool{}, s, in, g);
  });
  return fk_grads(s, g);
}

}  // namespace

TORCH_LIBRARY_IMPL(torchrig, CPU, m) {
  m.impl("forward_kinematics", &fk_cpu);
  m.impl("forward_kinematics_backward", &fk_backward_cpu);
}

}  // namespace torchrig
