// Launch plan of forward kinematics on the CPU, for both bindings: the batch
// split over the binding's thread pool (cpu.h) around ../kernels/fk.h.
// Inputs are contiguous; `off_bs` is the batch stride of the offsets (0: one
// [J, 3] for the whole batch, J * 3: batched).
#pragma once

#include <algorithm>
#include <cstdint>

#include "../kernels/fk.h"
#include "cpu.h"
#include "tensors.h"

namespace torchrig::launch {

/// Joints per parallel task (some 30 us of work), below which waking the
/// thread pool costs more than it saves.
constexpr int64_t kJointGrain = 8192;

inline int64_t fk_batch_grain(int64_t J) {
  return std::max<int64_t>(kJointGrain / std::max<int64_t>(J, 1), 1);
}

/// G[b] = global transforms [J, 3, 4] of batch element b, for b < B.
template <typename T, class Pool>
void fk_forward(const Pool& pool, int64_t B, int64_t J, const T* rot, const T* off,
                int64_t off_bs, const int64_t* parents, T* G) {
  run(pool, 0, B, fk_batch_grain(J), [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b)
      kernels::fk_forward_one(rot + b * J * 9, off + b * off_bs, parents, J, G + b * J * 12);
  });
}

/// dL/drot [B, J, 3, 3] and dL/doff per batch element [B, J, 3] from the
/// forward's G; `adj` [B, J, 3, 4] holds dL/dG on entry and is consumed.
template <typename T, class Pool>
void fk_backward(const Pool& pool, int64_t B, int64_t J, const T* rot, const T* off,
                 int64_t off_bs, const int64_t* parents, const T* G, T* adj, T* grad_rot,
                 T* grad_off) {
  run(pool, 0, B, fk_batch_grain(J), [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b)
      kernels::fk_backward_one(rot + b * J * 9, off + b * off_bs, parents, G + b * J * 12, J,
                               adj + b * J * 12, grad_rot + b * J * 9, grad_off + b * J * 3);
  });
}

/// The same over a binding's layout (tensors.h): `in` FkTensors, `out` [B, J, 3, 4].
template <typename T, class Pool, class In, class Tensor>
void fk_forward(const Pool& pool, const FkShape& s, const In& in, const Tensor& out) {
  fk_forward(pool, s.B, s.J, in_ptr<T>(in.rot), in_ptr<T>(in.off), in.off_bs,
             in_ptr<int64_t>(in.par), out_ptr<T>(out));
}

/// The same over a binding's layout (tensors.h): `in` FkTensors, `g` FkGradTensors.
template <typename T, class Pool, class In, class Grads>
void fk_backward(const Pool& pool, const FkShape& s, const In& in, const Grads& g) {
  fk_backward(pool, s.B, s.J, in_ptr<T>(in.rot), in_ptr<T>(in.off), in.off_bs,
              in_ptr<int64_t>(in.par), in_ptr<T>(g.G), out_ptr<T>(g.adj), out_ptr<T>(g.grad_rot),
              out_ptr<T>(g.grad_off));
}

}  // namespace torchrig::launch
