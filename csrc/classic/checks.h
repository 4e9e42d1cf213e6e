// Input validation for every torchrig op, in one place (the rules themselves
// are plain C++ in check_rules.h, shared with the stable-ABI binding).
//
// Each op's binding (CPU and CUDA) calls these before touching data, so bad
// input becomes a Python ValueError / TypeError / RuntimeError naming the
// argument and the expected shape - never a crash or an out-of-bounds read.
// Checks that read data (parents ordering, index ranges) run on any device.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>

#include "shapes.h"

namespace torchrig {

/// rotations [B,J,3,3], offsets [J,3] or [B,J,3], parents [J] int64 with
/// parents[j] in [-1, j).
FkShape check_fk_inputs(const at::Tensor& rotations, const at::Tensor& offsets,
                        const at::Tensor& parents);

/// rest_vertices [V,3] or [B,V,3], transforms [B,J,3,4], indices [V,K] int64
/// in [0, J), weights [V,K]; K >= 1.
SkinShape check_skin_inputs(const at::Tensor& rest_vertices,
                            const at::Tensor& transforms,
                            const at::Tensor& indices,
                            const at::Tensor& weights);

/// forward_kinematics_backward: the forward checks, plus grad_transforms and
/// transforms [B,J,3,4] like rotations.
FkShape check_fk_backward_inputs(const at::Tensor& grad_transforms,
                                 const at::Tensor& rotations,
                                 const at::Tensor& offsets,
                                 const at::Tensor& parents,
                                 const at::Tensor& transforms);

/// skin_backward: the forward checks, plus grad_vertices [B,V,3].
SkinShape check_skin_backward_inputs(const at::Tensor& grad_vertices,
                                     const at::Tensor& rest_vertices,
                                     const at::Tensor& transforms,
                                     const at::Tensor& indices,
                                     const at::Tensor& weights);

/// joint_params [B,J,7], offsets [J,3], parents [J] int64 with parents[j] in [-1, j),
/// inverse_bind [J,3,4] or undefined.
FkShape check_joint_inputs(const at::Tensor& joint_params, const at::Tensor& offsets,
                           const at::Tensor& parents, const at::Tensor& inverse_bind);

/// joint_transforms_backward: the forward checks, plus grad_transforms [B,J,3,4].
FkShape check_joint_backward_inputs(const at::Tensor& grad_transforms,
                                    const at::Tensor& joint_params, const at::Tensor& offsets,
                                    const at::Tensor& parents, const at::Tensor& inverse_bind);

/// `grad` (named `name`) must have exactly `sizes`, the dtype and device of
/// `like`.
void check_grad(const at::Tensor& grad, const char* name,
                at::IntArrayRef sizes, const at::Tensor& like);

}  // namespace torchrig
