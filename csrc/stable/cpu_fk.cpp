// CPU binding of forward kinematics over the stable ABI: the checks of
// binding.h, contiguous inputs, then ../kernels/fk.h in parallel over the
// batch (torch::stable::parallel_for). Mirrors ../cpu/fk_cpu.cpp.
#include "../kernels/fk.h"
#include "binding.h"

namespace torchrig::stable {
namespace {

constexpr int64_t kBatchGrain = 16;

Tensor fk_cpu(Tensor rotations, Tensor offsets, Tensor parents) {
  const FkShape s = check_fk_inputs(rotations, offsets, parents);
  const Tensor rot = as_contiguous(rotations), off = as_contiguous(offsets), par = as_contiguous(parents);
  const int64_t off_bs = s.batched_offsets ? s.J * 3 : 0;
  Tensor out = alloc(rot, {s.B, s.J, 3, 4});
  dispatch_floating(rot.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    const scalar_t* R = rot.const_data_ptr<scalar_t>();
    const scalar_t* t = off.const_data_ptr<scalar_t>();
    const int64_t* p = par.const_data_ptr<int64_t>();
    scalar_t* G = out.mutable_data_ptr<scalar_t>();
    torch::stable::parallel_for(0, s.B, kBatchGrain, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b)
        kernels::fk_forward_one(R + b * s.J * 9, t + b * off_bs, p, s.J, G + b * s.J * 12);
    });
  });
  return out;
}

std::tuple<Tensor, Tensor> fk_backward_cpu(Tensor grad_transforms, Tensor rotations,
                                           Tensor offsets, Tensor parents, Tensor transforms) {
  const FkShape s =
      check_fk_backward_inputs(grad_transforms, rotations, offsets, parents, transforms);
  const Tensor rot = as_contiguous(rotations), off = as_contiguous(offsets), par = as_contiguous(parents);
  const Tensor G = as_contiguous(transforms);
  Tensor adj = torch::stable::clone(as_contiguous(grad_transforms));  // consumed by the reverse pass
  const int64_t off_bs = s.batched_offsets ? s.J * 3 : 0;
  Tensor grad_rot = alloc(rot, {s.B, s.J, 3, 3}), grad_off = alloc(rot, {s.B, s.J, 3});
  dispatch_floating(rot.scalar_type(), [&](auto zero) {
    using scalar_t = decltype(zero);
    const scalar_t* R = rot.const_data_ptr<scalar_t>();
    const scalar_t* t = off.const_data_ptr<scalar_t>();
    const int64_t* p = par.const_data_ptr<int64_t>();
    const scalar_t* Gp = G.const_data_ptr<scalar_t>();
    scalar_t* A = adj.mutable_data_ptr<scalar_t>();
    scalar_t* dR = grad_rot.mutable_data_ptr<scalar_t>();
    scalar_t* dt = grad_off.mutable_data_ptr<scalar_t>();
    torch::stable::parallel_for(0, s.B, kBatchGrain, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b)
        kernels::fk_backward_one(R + b * s.J * 9, t + b * off_bs, p, Gp + b * s.J * 12, s.J,
                                 A + b * s.J * 12, dR + b * s.J * 9, dt + b * s.J * 3);
    });
  });
  return {grad_rot, s.batched_offsets ? grad_off : sum0(grad_off)};
}

}  // namespace

STABLE_TORCH_LIBRARY_IMPL(torchrig_kernels, CPU, m) {
  m.impl("forward_kinematics", TORCH_BOX(&fk_cpu));
  m.impl("forward_kinematics_backward", TORCH_BOX(&fk_backward_cpu));
}

}  // namespace torchrig::stable
