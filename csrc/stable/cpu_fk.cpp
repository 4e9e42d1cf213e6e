// Stable-ABI CPU binding of forward kinematics: the checks of binding.h,
// contiguous inputs, then the launch plan of ../launch/cpu_fk.h on torch's
// thread pool (pool.h).
#include "binding.h"
#include "launch/cpu_fk.h"
#include "launch/dims.h"
#include "pool.h"

namespace torchrig::stable {
namespace {

Tensor fk_cpu(Tensor rotations, Tensor offsets, Tensor parents) {
  const FkShape s = check_fk_inputs(rotations, offsets, parents);
  const Tensor rot = as_contiguous(rotations), off = as_contiguous(offsets);
  const Tensor par = as_contiguous(parents);
  Tensor out = alloc(rot, {s.B, s.J, 3, 4});
  dispatch_floating(rot.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    launch::fk_forward(StablePool{}, s.B, s.J, rot.const_data_ptr<scalar_t>(),
                       off.const_data_ptr<scalar_t>(), launch::fk_offset_stride(s),
                       par.const_data_ptr<int64_t>(), out.mutable_data_ptr<scalar_t>());
  });
  return out;
}

std::tuple<Tensor, Tensor> fk_backward_cpu(Tensor grad_transforms, Tensor rotations,
                                           Tensor offsets, Tensor parents, Tensor transforms) {
  const FkShape s =
      check_fk_backward_inputs(grad_transforms, rotations, offsets, parents, transforms);
  const Tensor rot = as_contiguous(rotations), off = as_contiguous(offsets);
  const Tensor par = as_contiguous(parents), G = as_contiguous(transforms);
  Tensor adj = torch::stable::clone(as_contiguous(grad_transforms));  // consumed by the reverse pass
  Tensor grad_rot = alloc(rot, {s.B, s.J, 3, 3}), grad_off = alloc(rot, {s.B, s.J, 3});
  dispatch_floating(rot.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    launch::fk_backward(StablePool{}, s.B, s.J, rot.const_data_ptr<scalar_t>(),
                        off.const_data_ptr<scalar_t>(), launch::fk_offset_stride(s),
                        par.const_data_ptr<int64_t>(), G.const_data_ptr<scalar_t>(),
                        adj.mutable_data_ptr<scalar_t>(), grad_rot.mutable_data_ptr<scalar_t>(),
                        grad_off.mutable_data_ptr<scalar_t>());
  });
  return {grad_rot, s.batched_offsets ? grad_off : sum0(grad_off)};
}

}  // namespace

STABLE_TORCH_LIBRARY_IMPL(torchrig_kernels, CPU, m) {
  m.impl("forward_kinematics", TORCH_BOX(&fk_cpu));
  m.impl("forward_kinematics_backward", TORCH_BOX(&fk_backward_cpu));
}

}  // namespace torchrig::stable
