// Stable-ABI CPU binding of joint_transforms: the checks of binding.h,
// contiguous layout (layout.h), then the launch plan of ../launch/cpu_joint.h on
// torch's thread pool (pool.h).
#include <optional>

#include "binding.h"
#include "launch/cpu_joint.h"
#include "layout.h"
#include "pool.h"

namespace torchrig::stable {
namespace {

Tensor joint_cpu(Tensor joint_params, Tensor offsets, Tensor parents,
                 std::optional<Tensor> inverse_bind) {
  const Tensor ib = inverse_bind.value_or(Tensor());
  const FkShape s = check_joint_inputs(joint_params, offsets, parents, ib);
  const JointTensors in = joint_tensors(joint_params, offsets, parents, ib);
  Tensor out = alloc(in.jp, {s.B, s.J, 3, 4});
  dispatch_floating(in.jp.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    launch::joint_forward<scalar_t>(StablePool{}, s, in, out);
  });
  return out;
}

Tensor joint_backward_cpu(Tensor grad_transforms, Tensor joint_params, Tensor offsets,
                          Tensor parents, std::optional<Tensor> inverse_bind) {
  const Tensor ib = inverse_bind.value_or(Tensor());
  const FkShape s = check_joint_backward_inputs(grad_transforms, joint_params, offsets, parents, ib);
  const JointTensors in = joint_tensors(joint_params, offsets, parents, ib);
  const Tensor g = as_contiguous(grad_transforms);
  Tensor grad_jp = in.jp.dim() == 2 ? alloc(in.jp, {s.B, s.J * 7}) : alloc(in.jp, {s.B, s.J, 7});
  dispatch_floating(in.jp.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    launch::joint_backward<scalar_t>(StablePool{}, s, g, in, grad_jp);
  });
  return grad_jp;
}

}  // namespace

STABLE_TORCH_LIBRARY_IMPL(torchrig_kernels, CPU, m) {
  m.impl("joint_transforms", TORCH_BOX(&joint_cpu));
  m.impl("joint_transforms_backward", TORCH_BOX(&joint_backward_cpu));
}

}  // namespace torchrig::stable
