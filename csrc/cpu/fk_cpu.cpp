// CPU binding of forward kinematics: checks (checks.h), contiguous layout
// (layout.h), then csrc/kernels/fk.h in parallel over the batch.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>

#include "../checks.h"
#include "../kernels/fk.h"
#include "../layout.h"

namespace torchrig {
namespace {

// Batch elements per parallel task: at least kJointGrain joints of work (some
// 30 us), below which waking the thread pool costs more than it saves.
constexpr int64_t kJointGrain = 8192;

int64_t batch_grain(int64_t J) { return std::max<int64_t>(kJointGrain / std::max<int64_t>(J, 1), 1); }

at::Tensor fk_cpu(const at::Tensor& rotations, const at::Tensor& offsets,
                  const at::Tensor& parents) {
  const FkShape s = check_fk_inputs(rotations, offsets, parents);
  const FkTensors in = fk_tensors(s, rotations, offsets, parents);
  at::Tensor out = at::empty({s.B, s.J, 3, 4}, in.rot.options());
  AT_DISPATCH_FLOATING_TYPES(in.rot.scalar_type(), "torchrig::forward_kinematics", [&] {
    const scalar_t* R = in.rot.const_data_ptr<scalar_t>();
    const scalar_t* t = in.off.const_data_ptr<scalar_t>();
    const int64_t* p = in.par.const_data_ptr<int64_t>();
    scalar_t* G = out.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, s.B, batch_grain(s.J), [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b)
        kernels::fk_forward_one(R + b * s.J * 9, t + b * in.off_bs, p, s.J,
                                G + b * s.J * 12);
    });
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
    const scalar_t* R = in.rot.const_data_ptr<scalar_t>();
    const scalar_t* t = in.off.const_data_ptr<scalar_t>();
    const int64_t* p = in.par.const_data_ptr<int64_t>();
    const scalar_t* G = g.G.const_data_ptr<scalar_t>();
    scalar_t* A = g.adj.mutable_data_ptr<scalar_t>();
    scalar_t* dR = g.grad_rot.mutable_data_ptr<scalar_t>();
    scalar_t* dt = g.grad_off.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, s.B, batch_grain(s.J), [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b)
        kernels::fk_backward_one(R + b * s.J * 9, t + b * in.off_bs, p,
                                 G + b * s.J * 12, s.J, A + b * s.J * 12,
                                 dR + b * s.J * 9, dt + b * s.J * 3);
    });
  });
  return fk_grads(s, g);
}

}  // namespace

TORCH_LIBRARY_IMPL(torchrig, CPU, m) {
  m.impl("forward_kinematics", &fk_cpu);
  m.impl("forward_kinematics_backward", &fk_backward_cpu);
}

}  // namespace torchrig
