// CPU binding of forward kinematics: validates, lays the tensors out
// contiguously and runs csrc/kernels/fk.h in parallel over the batch.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <vector>

#include "../checks.h"
#include "../kernels/fk.h"

namespace torchrig {
namespace {

// Offsets [J,3] are shared by the batch: a batch stride of 0 reads them for
// every element without a copy.
int64_t offsets_batch_stride(const FkShape& s) {
  return s.batched_offsets ? s.J * 3 : 0;
}

at::Tensor fk_cpu(const at::Tensor& rotations, const at::Tensor& offsets,
                  const at::Tensor& parents) {
  const FkShape s = check_fk_inputs(rotations, offsets, parents);
  const at::Tensor rot = rotations.contiguous();
  const at::Tensor off = offsets.contiguous();
  const at::Tensor par = parents.contiguous();
  at::Tensor out = at::empty({s.B, s.J, 3, 4}, rot.options());
  const int64_t off_bs = offsets_batch_stride(s);
  AT_DISPATCH_FLOATING_TYPES(rot.scalar_type(), "torchrig::forward_kinematics", [&] {
    const scalar_t* R = rot.const_data_ptr<scalar_t>();
    const scalar_t* t = off.const_data_ptr<scalar_t>();
    const int64_t* p = par.const_data_ptr<int64_t>();
    scalar_t* G = out.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, s.B, 16, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b)
        kernels::fk_forward_one(R + b * s.J * 9, t + b * off_bs, p, s.J,
                                G + b * s.J * 12);
    });
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor> fk_backward_cpu(
    const at::Tensor& grad_transforms, const at::Tensor& rotations,
    const at::Tensor& offsets, const at::Tensor& parents,
    const at::Tensor& transforms) {
  const FkShape s = check_fk_inputs(rotations, offsets, parents);
  check_grad(grad_transforms, "grad_transforms", {s.B, s.J, 3, 4}, rotations);
  check_grad(transforms, "transforms", {s.B, s.J, 3, 4}, rotations);
  const at::Tensor rot = rotations.contiguous();
  const at::Tensor off = offsets.contiguous();
  const at::Tensor par = parents.contiguous();
  const at::Tensor G = transforms.contiguous();
  // The reverse pass consumes its adjoint buffer: start from a copy.
  at::Tensor adj = grad_transforms.contiguous().clone();
  at::Tensor grad_rot = at::empty({s.B, s.J, 3, 3}, rot.options());
  at::Tensor grad_off = at::empty({s.B, s.J, 3}, rot.options());
  const int64_t off_bs = offsets_batch_stride(s);
  AT_DISPATCH_FLOATING_TYPES(rot.scalar_type(), "torchrig::forward_kinematics_backward", [&] {
    const scalar_t* R = rot.const_data_ptr<scalar_t>();
    const scalar_t* t = off.const_data_ptr<scalar_t>();
    const int64_t* p = par.const_data_ptr<int64_t>();
    const scalar_t* Gp = G.const_data_ptr<scalar_t>();
    scalar_t* A = adj.mutable_data_ptr<scalar_t>();
    scalar_t* dR = grad_rot.mutable_data_ptr<scalar_t>();
    scalar_t* dt = grad_off.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, s.B, 16, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b)
        kernels::fk_backward_one(R + b * s.J * 9, t + b * off_bs, p,
                                 Gp + b * s.J * 12, s.J, A + b * s.J * 12,
                                 dR + b * s.J * 9, dt + b * s.J * 3);
    });
  });
  if (!s.batched_offsets) grad_off = grad_off.sum(0);
  return {grad_rot, grad_off};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchrig, CPU, m) {
  m.impl("forward_kinematics", &fk_cpu);
  m.impl("forward_kinematics_backward", &fk_backward_cpu);
}

}  // namespace torchrig
