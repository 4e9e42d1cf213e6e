"""Python surface of the torchrig ops: wrappers, fake kernels, autograd.

The schemas are declared once in csrc/ops.cpp; CPU/CUDA kernels register in
C++. Here: typed wrappers, ``register_fake`` kernels so ``torch.compile`` can
trace the ops, and autograd for every op, the backward ops included, so
derivatives of any order are exact (formulas in ``_derivatives``).

The fake kernels run the checks of csrc/checks.cpp (their Python twin,
``_checks``), raising the same ValueError / TypeError, and return tensors with
the sizes and (contiguous) strides the real kernels return.

Derivatives: ``torch.autograd`` (any order: ``create_graph=True``, hvp,
gradgradcheck) works on the ops themselves. The wrappers below also support
forward mode (``torch.autograd.forward_ad``, ``torch.func.jvp``/``jacfwd``) and
``torch.func`` transforms (``grad``, ``jacrev``, ``vmap``, ``hessian``): while
one of those is active they go through ``torch.autograd.Function`` classes
with ``setup_context``, ``jvp`` and a generated vmap rule; otherwise, and
under ``torch.compile``, they call the ops directly.
"""
from __future__ import annotations

import torch
from torch import Tensor

from . import _checks
from . import _derivatives as D

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
    return D.forward_kinematics(rotations, offsets, parents)


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
    return D.skin(rest_vertices, transforms, indices, weights)


# --- fake kernels ----------------------------------------------------------
# Real kernels return fresh contiguous tensors; so do these (new_empty), for
# the backward ops too, whatever the strides of the inputs.

@torch.library.register_fake("torchrig::forward_kinematics")
def _fk_fake(rotations, offsets, parents):
    B, J, _ = _checks.check_fk_inputs(rotations, offsets, parents)
    return rotations.new_empty((B, J, 3, 4))


@torch.library.register_fake("torchrig::forward_kinematics_backward")
def _fk_backward_fake(grad_transforms, rotations, offsets, parents, transforms):
    _checks.check_fk_backward_inputs(grad_transforms, rotations, offsets, parents, transforms)
    return rotations.new_empty(rotations.shape), offsets.new_empty(offsets.shape)


@torch.library.register_fake("torchrig::skin")
def _skin_fake(rest_vertices, transforms, indices, weights):
    B, V, _, _, _ = _checks.check_skin_inputs(rest_vertices, transforms, indices, weights)
    return transforms.new_empty((B, V, 3))


@torch.library.register_fake("torchrig::skin_backward")
def _skin_backward_fake(grad_vertices, rest_vertices, transforms, indices, weights, output_mask):
    _checks.check_skin_backward_inputs(grad_vertices, rest_vertices, transforms, indices, weights)
    return (rest_vertices.new_empty(rest_vertices.shape), transforms.new_empty(transforms.shape),
            weights.new_empty(weights.shape))


# --- autograd of the ops (reverse mode, any order) -------------------------

def _fk_setup_context(ctx, inputs, output):
    rotations, offsets, parents = inputs
    ctx.save_for_backward(rotations, offsets, parents, output)


def _fk_backward(ctx, grad):
    rotations, offsets, parents, output = ctx.saved_tensors
    g_rot, g_off = D.fk_vjp(grad, rotations, offsets, parents, output, ctx.needs_input_grad[:2])
    return g_rot, g_off, None


def _fk_bwd_setup_context(ctx, inputs, output):
    grad, rotations, offsets, parents, _ = inputs
    ctx.save_for_backward(grad, rotations, offsets, parents)


def _fk_bwd_backward(ctx, u_rot, u_off):
    grad, rotations, offsets, parents = ctx.saved_tensors
    n = ctx.needs_input_grad
    d_g, d_rot, d_off = D.fk_backward_vjp(grad, rotations, offsets, parents, u_rot, u_off,
                                          (n[0], n[1], n[2]))
    return d_g, d_rot, d_off, None, None


def _skin_setup_context(ctx, inputs, output):
    ctx.save_for_backward(*inputs)


def _skin_backward(ctx, grad):
    rest, transforms, indices, weights = ctx.saved_tensors
    n = ctx.needs_input_grad
    g_rest, g_tf, g_w = D.skin_vjp(grad, rest, transforms, indices, weights, (n[0], n[1], n[3]))
    return g_rest, g_tf, None, g_w


def _skin_bwd_setup_context(ctx, inputs, output):
    grad, rest, transforms, indices, weights, mask = inputs
    ctx.mask = tuple(mask)
    ctx.save_for_backward(grad, rest, transforms, indices, weights)


def _skin_bwd_backward(ctx, u_rest, u_tf, u_w):
    grad, rest, transforms, indices, weights = ctx.saved_tensors
    # outputs left out of the mask are constant zeros: their cotangents do not count
    u = [c if m else None for c, m in zip((u_rest, u_tf, u_w), ctx.mask)]
    n = ctx.needs_input_grad
    d_g, d_rest, d_tf, d_w = D.skin_backward_vjp(grad, rest, transforms, indices, weights, *u,
                                                 (n[0], n[1], n[2], n[4]))
    return d_g, d_rest, d_tf, None, d_w, None


torch.library.register_autograd("torchrig::forward_kinematics", _fk_backward,
                                setup_context=_fk_setup_context)
torch.library.register_autograd("torchrig::forward_kinematics_backward", _fk_bwd_backward,
                                setup_context=_fk_bwd_setup_context)
torch.library.register_autograd("torchrig::skin", _skin_backward,
                                setup_context=_skin_setup_context)
torch.library.register_autograd("torchrig::skin_backward", _skin_bwd_backward,
                                setup_context=_skin_bwd_setup_context)
