// The stable binding's second step (the twin of ../classic/layout.h), shared by
// its CPU and CUDA kernels: after the checks of binding.h, lay the inputs out
// contiguously and allocate the buffers each op's launch plan writes, so that
// a kernel is checks + layout + launch (../launch).
#pragma once

#include <tuple>

#include "../launch/dims.h"
#include "binding.h"

namespace torchrig::stable {

/// forward_kinematics inputs, contiguous.
struct FkTensors {
  Tensor rot, off, par;
  int64_t off_bs;  // batch stride of offsets in elements: 0 when [J, 3] is shared
};

/// forward_kinematics_backward buffers: the saved output, the adjoint scratch
/// (a copy of the incoming gradient, consumed by the reverse pass) and the
/// per-batch gradients [B,J,3,3] and [B,J,3].
struct FkGradTensors {
  Tensor G, adj, grad_rot, grad_off;
};

/// skin inputs, contiguous, and their sizes as the kernels take them.
struct SkinTensors {
  kernels::SkinDims d;
  Tensor rest, tf, idx, w;
};

/// skin_backward outputs, zero-filled where launch::skin_grad_zeros says.
struct SkinGradTensors {
  Tensor rest, tf, w;
};

/// joint_transforms inputs, contiguous; `ib` undefined when has_ib is false.
struct JointTensors {
  Tensor jp, off, par, ib;
  bool has_ib;
};

JointTensors joint_tensors(const Tensor& joint_params, const Tensor& offsets,
                           const Tensor& parents, const Tensor& inverse_bind);

FkTensors fk_tensors(const FkShape& s, const Tensor& rotations, const Tensor& offsets,
                     const Tensor& parents);
FkGradTensors fk_grad_tensors(const FkShape& s, const Tensor& grad_transforms,
                              const Tensor& transforms);
/// (grad_rotations, grad_offsets): grad_offsets summed over the batch when the
/// offsets were shared.
std::tuple<Tensor, Tensor> fk_grads(const FkShape& s, const FkGradTensors& t);

SkinTensors skin_tensors(const SkinShape& s, const Tensor& rest_vertices, const Tensor& transforms,
                         const Tensor& indices, const Tensor& weights);
SkinGradTensors skin_grad_tensors(const SkinShape& s, const SkinTensors& in, bool want_rest,
                                  bool want_weights);

}  // namespace torchrig::stable
