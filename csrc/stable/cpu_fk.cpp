// Stable-ABI CPU binding of forward kinematics: the checks of binding.h,
// contiguous layout (layout.h), then the launch plan of ../launch/cpu_fk.h on
// torch's thread pool (pool.h).
#include "binding.h"
#include "launch/cpu_fk.h"
#include "layout.h"
#include "pool.h"

namespace torchrig::stable {
namespace {

Tensor fk_cpu(Tensor rotations, Tensor offsets, Tensor parents) {
  const FkShape s = check_fk_inputs(rotations, offsets, parents);
  const FkTensors in = fk_tensors(s, rotations, offsets, parents);
  Tensor out = alloc(in.rot, {s.B, s.J, 3, 4});
  dispatch_floating(in.rot.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    launch::fk_forward<scalar_t>(StablePool{}, s, in, out);
  });
  return out;
}

std::tuple<Tensor, Tensor> fk_backward_cpu(Tensor grad_transforms, Tensor rotations,
                                           Tensor offsets, Tensor parents, Tensor transforms) {
  const FkShape s =
      check_fk_backward_inputs(grad_transforms, rotations, offsets, parents, transforms);
  const FkTensors in = fk_tensors(s, rotations, offsets, parents);
  const FkGradTensors g = fk_grad_tensors(s, grad_transforms, transforms);
  dispatch_floating(in.rot.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    launch::fk_backward<scalar_t>(StablePool{}, s, in, g);
  });
  return fk_grads(s, g);
}

}  // namespace

STABLE_TORCH_LIBRARY_IMPL(torchrig_kernels, CPU, m) {
  m.impl("forward_kinematics", TORCH_BOX(&fk_cpu));
  m.impl("forward_kinematics_backward", TORCH_BOX(&fk_backward_cpu));
}

}  // namespace torchrig::stable
