"""Python surface of the torchrig ops: wrappers, fake kernels, autograd.

The schemas are declared once in csrc/classic/ops.cpp; CPU/CUDA kernels register in
C++. Here: typed wrappers, ``register_fake`` kernels so ``torch.compile`` can
trace the ops, and autograd for every op, the backward ops included, so
derivatives of any order are exact (formulas in ``_derivatives``). The classic
build registers the forward ops' autograd in C++ (csrc/classic/autograd.cpp, the same
first-order formulas, no Python on a call); the Python ones registered below
serve the stable build.

The fake kernels run the checks of csrc/classic/checks.cpp (their Python twin,
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

__all__ = ["forward_kinematics", "joint_transforms", "skin"]

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
    if not (isinstance(rotations, Tensor) and isinstance(offsets, Tensor)
            and isinstance(parents, Tensor)):
        _checks.check_tensor_types(rotations=rotations, offsets=offsets, parents=parents)
    return D.forward_kinematics(rotations, offsets, parents)


def joint_transforms(joint_params: Tensor, offsets: Tensor, parents: Tensor,
                     inverse_bind: Tensor | None = None) -> Tensor:
    """Joint parameters to global (or skinning) joint transforms, in one op.

    Joint parameters as pymomentum takes them, 7 per joint: translation
    ``(tx, ty, tz)``, Euler angles ``(rx, ry, rz)`` in radians and a log2 scale
    ``sc``. Joint j's local transform is ``[2^sc Rz(rz) Ry(ry) Rx(rx) | offsets_j +
    (tx, ty, tz)]`` (the root's translation parameters move the whole body) and
    ``G_j = G_parent(j) @ local_j``.

    Args:
        joint_params: ``[B, J, 7]``, or ``[B, 7 * J]`` as pymomentum takes them
            (float32/float64).
        offsets: ``[J, 3]`` joint offsets from the parent (the root's: its position).
        parents: ``[J]`` int64, ``parents[j] in [-1, j)``; -1 marks a root.
        inverse_bind: ``[J, 3, 4]`` or None. Given, the result is ``G_j @ inverse_bind_j``,
            the skinning transforms :func:`skin` takes.

    Returns:
        ``[B, J, 3, 4]``.

    Differentiable in ``joint_params`` (first order, reverse mode: autograd,
    ``torch.func.grad`` / ``jacrev`` / ``vmap``, ``torch.compile``); ``offsets`` and
    ``inverse_bind`` are constants (a gradient asked of them raises).
    """
    if not (isinstance(joint_params, Tensor) and isinstance(offsets, Tensor)
            and isinstance(parents, Tensor) and (inverse_bind is None
                                                 or isinstance(inverse_bind, Tensor))):
        _checks.check_tensor_types(joint_params=joint_params, offsets=offsets, parents=parents,
                                   inverse_bind=inverse_bind)
    return D.joint_transforms(joint_params, offsets, parents, inverse_bind)


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
    if not (isinstance(rest_vertices, Tensor) and isinstance(transforms, Tensor)
            and isinstance(indices, Tensor) and isinstance(weights, Tensor)):
        _checks.check_tensor_types(rest_vertices=rest_vertices, transforms=transforms,
                                   indices=indices, weights=weights)
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


@torch.library.register_fake("torchrig::joint_transforms")
def _joint_fake(joint_params, offsets, parents, inverse_bind):
    B, J = _checks.check_joint_inputs(joint_params, offsets, parents, inverse_bind)
    return joint_params.new_empty((B, J, 3, 4))


@torch.library.register_fake("torchrig::joint_transforms_backward")
def _joint_backward_fake(grad_transforms, joint_params, offsets, parents, inverse_bind):
    _checks.check_joint_backward_inputs(grad_transforms, joint_params, offsets, parents,
                                        inverse_bind)
    return joint_params.new_empty(joint_params.shape)


# --- autograd of the ops (reverse mode, any order) -------------------------
# The formulas (setup_<op>, backward_<op>) live in _derivatives, whose
# autograd.Function classes (forward mode, torch.func) share them.

def _has_cpp_autograd(op: str) -> bool:
    """Whether ``torchrig::op`` has an autograd kernel yet (asked before registering one).

    The classic build registers the forward ops' autograd in C++
    (csrc/classic/autograd.cpp: no Python on a call, the same first-order formulas as
    ``_derivatives``); the stable build has no C++ autograd, so the Python ones serve it.
    """
    return torch._C._dispatch_has_kernel_for_dispatch_key(f"torchrig::{op}", "Autograd")


if not _has_cpp_autograd("forward_kinematics"):
    torch.library.register_autograd("torchrig::forward_kinematics", D.backward_fk,
                                    setup_context=D.setup_fk)
if not _has_cpp_autograd("skin"):
    torch.library.register_autograd("torchrig::skin", D.backward_skin, setup_context=D.setup_skin)
if not _has_cpp_autograd("joint_transforms"):
    torch.library.register_autograd("torchrig::joint_transforms", D.backward_joint,
                                    setup_context=D.setup_joint)


def _joint_second_order(ctx, grad):
    raise NotImplementedError(D._JOINT_SECOND)


torch.library.register_autograd("torchrig::joint_transforms_backward", _joint_second_order,
                                setup_context=lambda ctx, inputs, output: None)
torch.library.register_autograd("torchrig::forward_kinematics_backward", D.backward_fk_backward,
                                setup_context=D.setup_fk_backward)
torch.library.register_autograd("torchrig::skin_backward", D.backward_skin_backward,
                                setup_context=D.setup_skin_backward)


# --- vmap rules ------------------------------------------------------------
# torch.vmap (and jacrev/jacfwd/vmap(grad), which vmap the ops) folds the vmapped
# dimension into B where the op allows it: one kernel call. Anything else
# (vmapped parents, indices or weights; the backward ops) runs one call per
# sample, which is exact, just not batched.

def _front(t: Tensor, dim: int | None, n: int) -> Tensor:
    """``t`` with its vmapped dim first, or expanded to ``n`` there if not vmapped."""
    return t.movedim(dim, 0) if dim is not None else t.expand(n, *t.shape)


def _per_sample(op, n_out: int):
    def rule(info, in_dims, *args):
        # in_dims of a non-tensor argument (skin_backward's bool[3] mask) is None or a list
        outs = [op(*[a.select(d, i) if isinstance(a, Tensor) and isinstance(d, int) else a
                     for a, d in zip(args, in_dims)])
                for i in range(info.batch_size)]
        if n_out == 1:
            return torch.stack(outs), 0
        return tuple(torch.stack(o) for o in zip(*outs)), (0,) * n_out
    return rule


_fk_per_sample = _per_sample(_ops.forward_kinematics.default, 1)
_skin_per_sample = _per_sample(_ops.skin.default, 1)


@torch.library.register_vmap("torchrig::forward_kinematics")
def _fk_vmap(info, in_dims, rotations, offsets, parents):
    r_dim, o_dim, p_dim = in_dims
    n = info.batch_size
    rot = _front(rotations, r_dim, n)
    if p_dim is not None or rot.dim() != 5 or offsets.dim() - (o_dim is not None) not in (2, 3):
        return _fk_per_sample(info, in_dims, rotations, offsets, parents)  # the op's own errors
    B, J = rot.shape[1], rot.shape[2]
    if o_dim is None and offsets.dim() == 2:
        off = offsets  # shared by every pose
    else:
        off = _front(offsets, o_dim, n)
        off = (off[:, None].expand(n, B, *off.shape[1:]) if off.dim() == 3 else off)
        off = off.reshape(n * B, *off.shape[2:])
    out = _ops.forward_kinematics.default(rot.reshape(n * B, *rot.shape[2:]), off, parents)
    return out.view(n, B, J, 3, 4), 0


@torch.library.register_vmap("torchrig::skin")
def _skin_vmap(info, in_dims, rest_vertices, transforms, indices, weights):
    x_dim, t_dim, i_dim, w_dim = in_dims
    n = info.batch_size
    tf = _front(transforms, t_dim, n)
    x_rank = rest_vertices.dim() - (x_dim is not None)
    if i_dim is not None or w_dim is not None or tf.dim() != 5 or x_rank not in (2, 3):
        return _skin_per_sample(info, in_dims, rest_vertices, transforms, indices, weights)
    B = tf.shape[1]
    if x_dim is None and x_rank == 2:
        rest = rest_vertices  # shared by every pose
    else:
        rest = _front(rest_vertices, x_dim, n)
        rest = rest[:, None].expand(n, B, *rest.shape[1:]) if x_rank == 2 else rest
        rest = rest.reshape(n * B, *rest.shape[2:])
    out = _ops.skin.default(rest, tf.reshape(n * B, *tf.shape[2:]), indices, weights)
    return out.view(n, B, *out.shape[1:]), 0


torch.library.register_vmap("torchrig::forward_kinematics_backward",
                            _per_sample(_ops.forward_kinematics_backward.default, 2))
torch.library.register_vmap("torchrig::skin_backward", _per_sample(_ops.skin_backward.default, 3))
