// Every torchrig op schema, written once: csrc/classic/ops.cpp (classic TORCH_LIBRARY)
// and csrc/stable/library.cpp (STABLE_TORCH_LIBRARY) both register this list.
// Plain C++, no torch types.
#pragma once

namespace torchrig {

inline constexpr const char* kOpSchemas[] = {
    "forward_kinematics(Tensor rotations, Tensor offsets, Tensor parents) -> Tensor",
    "forward_kinematics_backward(Tensor grad_transforms, Tensor rotations, "
    "Tensor offsets, Tensor parents, Tensor transforms) -> (Tensor, Tensor)",
    "skin(Tensor rest_vertices, Tensor transforms, Tensor indices, Tensor weights) -> Tensor",
    "skin_backward(Tensor grad_vertices, Tensor rest_vertices, Tensor transforms, "
    "Tensor indices, Tensor weights, bool[3] output_mask) -> (Tensor, Tensor, Tensor)",
    "joint_transforms(Tensor joint_params, Tensor offsets, Tensor parents, "
    "Tensor? inverse_bind) -> Tensor",
    "joint_transforms_backward(Tensor grad_transforms, Tensor joint_params, Tensor offsets, "
    "Tensor parents, Tensor? inverse_bind) -> Tensor",
};

}  // namespace torchrig
