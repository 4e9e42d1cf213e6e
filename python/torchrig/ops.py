"""Python surface of the torchrig ops: wrappers, fake kernels, autograd.

The schemas are declared once in csrc/ops.cpp; CPU/CUDA kernels register in
C++. Here: typed wrappers, ``register_fake`` kernels so ``torch.compile`` can
trace the ops, and ``register_autograd`` whose backward is itself a custom op.
Input validation lives in C++ (csrc/checks.cpp); the fake kernels check only
what shapes need, so compiled graphs fail with the same kind of error.
"""
from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["forward_kinematics", "skin"]

_ops = torch.ops.torchrig


def forward_kinematics(rotations: Tensor, offsets: Tensor, parents: Tensor) -> Tensor:
    """Global joint transforms of a batch of poses.

    Args:
        rotations: ``[B, J, 3, 3]`` local joint rotations (float32/float64).
        offsets: ``[J, 3]`` or ``[B, J, 3]`` joint offsets from the parent
            (the root's offset is its position).
        parents: ``[J]`` int64, ``parents[j] in [-1, j)``; -1 marks a root.

    Returns:
        ``[B, J, 3, 4]``: ``[R | t]`` of each joint in world space,
        ``G_j = G_parent(j) @ [R_j | offsets_j]``.
    """
    return _ops.forward_kinematics.default(rotations, offsets, parents)


def skin(rest_vertices: Tensor, transforms: Tensor, indices: Tensor, weights: Tensor) -> Tensor:
    """Sparse linear-blend skinning with K influences per vertex.

    Args:
        rest_vertices: ``[V, 3]`` or ``[B, V, 3]`` rest positions.
        transforms: ``[B, J, 3, 4]`` skinning transforms (global @ inverse bind).
        indices: ``[V, K]`` int64 joint indices in ``[0, J)``.
        weights: ``[V, K]`` influence weights.

    Returns:
        ``[B, V, 3]``: ``sum_k weights[v,k] * transforms[b, indices[v,k]] @ [x; 1]``.
    """
    return _ops.skin.default(rest_vertices, transforms, indices, weights)


# --- fake kernels ----------------------------------------------------------

def _check_same(t: Tensor, name: str, ref: Tensor, ref_name: str, dtype: bool = True) -> None:
    """Same error kinds and wording as check_same in csrc/checks.cpp.

    Every tensor argument is checked: an argument left on another device (e.g.
    ``meta``) would otherwise send the call here and return an uninitialised
    tensor on the device of ``ref``.
    """
    torch._check_value(t.device == ref.device,
                       lambda: f"{name} is on {t.device} but {ref_name} is on {ref.device}; "
                               "move them to the same device")
    if dtype:
        torch._check_type(t.dtype == ref.dtype,
                          lambda: f"{name} has dtype {t.dtype} but {ref_name} has dtype "
                                  f"{ref.dtype}; use one floating dtype")


@torch.library.register_fake("torchrig::forward_kinematics")
def _fk_fake(rotations, offsets, parents):
    torch._check(rotations.dim() == 4, lambda: "rotations must be [B, J, 3, 3]")
    torch._check(offsets.dim() in (2, 3), lambda: "offsets must be [J, 3] or [B, J, 3]")
    _check_same(offsets, "offsets", rotations, "rotations")
    _check_same(parents, "parents", rotations, "rotations", dtype=False)
    B, J = rotations.shape[:2]
    torch._check(parents.shape == (J,), lambda: "parents must be [J]")
    return rotations.new_empty((B, J, 3, 4))


@torch.library.register_fake("torchrig::forward_kinematics_backward")
def _fk_backward_fake(grad_transforms, rotations, offsets, parents, transforms):
    out = _fk_fake(rotations, offsets, parents)  # the forward's checks, as in csrc/checks.cpp
    for t, name in ((grad_transforms, "grad_transforms"), (transforms, "transforms")):
        torch._check(t.shape == out.shape, lambda: f"{name} must have shape [B, J, 3, 4]")
        _check_same(t, name, rotations, "rotations")
    return torch.empty_like(rotations), torch.empty_like(offsets)


@torch.library.register_fake("torchrig::skin")
def _skin_fake(rest_vertices, transforms, indices, weights):
    torch._check(transforms.dim() == 4, lambda: "transforms must be [B, J, 3, 4]")
    torch._check(indices.dim() == 2 and weights.shape == indices.shape,
                 lambda: "indices and weights must both be [V, K]")
    torch._check(rest_vertices.dim() in (2, 3), lambda: "rest_vertices must be [V, 3] or [B, V, 3]")
    _check_same(rest_vertices, "rest_vertices", transforms, "transforms")
    _check_same(weights, "weights", transforms, "transforms")
    _check_same(indices, "indices", transforms, "transforms", dtype=False)
    return transforms.new_empty((transforms.shape[0], indices.shape[0], 3))


@torch.library.register_fake("torchrig::skin_backward")
def _skin_backward_fake(grad_vertices, rest_vertices, transforms, indices, weights, output_mask):
    out = _skin_fake(rest_vertices, transforms, indices, weights)  # the forward's checks
    torch._check(grad_vertices.shape == out.shape, lambda: "grad_vertices must have shape [B, V, 3]")
    _check_same(grad_vertices, "grad_vertices", transforms, "transforms")
    return (torch.empty_like(rest_vertices), torch.empty_like(transforms),
            torch.empty_like(weights))


# --- autograd --------------------------------------------------------------

def _fk_setup_context(ctx, inputs, output):
    rotations, offsets, parents = inputs
    ctx.save_for_backward(rotations, offsets, parents, output)


def _fk_backward(ctx, grad):
    rotations, offsets, parents, output = ctx.saved_tensors
    grad_rot, grad_off = _ops.forward_kinematics_backward.default(
        grad.contiguous(), rotations, offsets, parents, output)
    return grad_rot, grad_off, None


def _skin_setup_context(ctx, inputs, output):
    ctx.save_for_backward(*inputs)


def _skin_backward(ctx, grad):
    rest, transforms, indices, weights = ctx.saved_tensors
    mask = [ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.needs_input_grad[3]]
    grad_rest, grad_tf, grad_w = _ops.skin_backward.default(
        grad.contiguous(), rest, transforms, indices, weights, mask)
    return (grad_rest if mask[0] else None, grad_tf if mask[1] else None, None,
            grad_w if mask[2] else None)


torch.library.register_autograd("torchrig::forward_kinematics", _fk_backward,
                                setup_context=_fk_setup_context)
torch.library.register_autograd("torchrig::skin", _skin_backward,
                                setup_context=_skin_setup_context)
