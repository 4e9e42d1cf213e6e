// Launch plan of joint_transforms on the CPU, for both bindings: the batch split
// over the binding's thread pool (cpu.h) around ../kernels/joint_params.h, each
// task with its own scratch (on the stack for up to kStackJoints joints).
// Inputs are contiguous; `ib` is null for global transforms.
#pragma once

#include <cstdint>
#include <vector>

#include "../kernels/joint_params.h"
#include "cpu.h"
#include "cpu_fk.h"
#include "tensors.h"

namespace torchrig::launch {

/// Joints whose scratch a task keeps on its stack (64 * 48 doubles: 24 KiB).
constexpr int64_t kStackJoints = 64;

/// f(work) with scratch for J joints of kernels::joint_transforms*_one.
template <typename T, class F>
void with_joint_work(int64_t J, const F& f) {
  if (J <= kStackJoints) {
    T work[kStackJoints * kernels::kJointWork];
    f(work);
    return;
  }
  std::vector<T> work(size_t(J * kernels::kJointWork));
  f(work.data());
}

/// out[b] = global (ib null) or skinning transforms [J, 3, 4] of batch element b.
template <typename T, class Pool>
void joint_forward(const Pool& pool, int64_t B, int64_t J, const T* jp, const T* off,
                   const int64_t* parents, const T* ib, T* out) {
  run(pool, 0, B, fk_batch_grain(J), [&](int64_t begin, int64_t end) {
    with_joint_work<T>(J, [&](T* work) {
      for (int64_t b = begin; b < end; ++b)
        kernels::joint_transforms_one(jp + b * J * 7, off, parents, ib, J, out + b * J * 12,
                                      work);
    });
  });
}

/// grad_jp[b] = d/d(joint parameters) [J, 7] of <grad[b], out[b]>.
template <typename T, class Pool>
void joint_backward(const Pool& pool, int64_t B, int64_t J, const T* grad, const T* jp,
                    const T* off, const int64_t* parents, const T* ib, T* grad_jp) {
  run(pool, 0, B, fk_batch_grain(J), [&](int64_t begin, int64_t end) {
    with_joint_work<T>(J, [&](T* work) {
      for (int64_t b = begin; b < end; ++b)
        kernels::joint_transforms_backward_one(grad + b * J * 12, jp + b * J * 7, off, parents,
                                               ib, J, grad_jp + b * J * 7, work);
    });
  });
}

/// The same over a binding's layout: `in` JointTensors (jp, off, par, ib, has_ib).
template <typename T, class Pool, class In, class Tensor>
void joint_forward(const Pool& pool, const FkShape& s, const In& in, const Tensor& out) {
  joint_forward(pool, s.B, s.J, in_ptr<T>(in.jp), in_ptr<T>(in.off), in_ptr<int64_t>(in.par),
                in.has_ib ? in_ptr<T>(in.ib) : nullptr, out_ptr<T>(out));
}

template <typename T, class Pool, class In, class Tensor>
void joint_backward(const Pool& pool, const FkShape& s, const Tensor& grad, const In& in,
                    const Tensor& grad_jp) {
  joint_backward(pool, s.B, s.J, in_ptr<T>(grad), in_ptr<T>(in.jp), in_ptr<T>(in.off),
                 in_ptr<int64_t>(in.par), in.has_ib ? in_ptr<T>(in.ib) : nullptr,
                 out_ptr<T>(grad_jp));
}

}  // namespace torchrig::launch
