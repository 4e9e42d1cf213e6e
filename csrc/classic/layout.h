// The binding layer's second step, shared by the CPU and CUDA bindings: after
// the checks of checks.h, lay the inputs out contiguously and allocate the
// buffers each op's launch plan (../launch) writes, so that a binding is checks
// + layout + launch (the stable twin: ../stable/layout.h). The CUDA bindings
// put their device guard between checks and layout.
#pragma once

#include <ATen/core/Tensor.h>

#include <tuple>

#include "checks.h"
#include "kernels/skin.h"

namespace torchrig {

/// forward_kinematics inputs, contiguous.
struct FkTensors {
  at::Tensor rot, off, par;
  int64_t off_bs;  // batch stride of offsets in elements: 0 when [J, 3] is shared
};

/// forward_kinematics_backward buffers: the saved output, the adjoint scratch
/// (a copy of the incoming gradient, consumed by the reverse pass) and the
/// per-batch gradients [B,J,3,3] and [B,J,3].
struct FkGradTensors {
  at::Tensor G, adj, grad_rot, grad_off;
};

/// skin inputs, contiguous, and their sizes as the kernels take them.
struct SkinTensors {
  kernels::SkinDims d;
  at::Tensor rest, tf, idx, w;
};

/// skin_backward outputs, zero-filled where launch::skin_grad_zeros says.
struct SkinGradTensors {
  at::Tensor rest, tf, w;
};

/// joint_transforms inputs, contiguous; `ib` undefined when has_ib is false.
struct JointTensors {
  at::Tensor jp, off, par, ib;
  bool has_ib;
};

JointTensors joint_tensors(const at::Tensor& joint_params, const at::Tensor& offsets,
                           const at::Tensor& parents, const at::Tensor& inverse_bind);

FkTensors fk_tensors(const FkShape& s, const at::Tensor& rotations,
                     const at::Tensor& offsets, const at::Tensor& parents);

FkGradTensors fk_grad_tensors(const FkShape& s, const at::Tensor& grad_transforms,
                              const at::Tensor& transforms);

/// (grad_rotations, grad_offsets): grad_offsets summed over the batch when the
/// offsets were shared.
std::tuple<at::Tensor, at::Tensor> fk_grads(const FkShape& s, FkGradTensors& t);

SkinTensors skin_tensors(const SkinShape& s, const at::Tensor& rest_vertices,
                         const at::Tensor& transforms, const at::Tensor& indices,
                         const at::Tensor& weights);
SkinGradTensors skin_grad_tensors(const SkinShape& s, const SkinTensors& in, bool want_rest,
                                  bool want_weights);

}  // namespace torchrig
