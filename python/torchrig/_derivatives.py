"""Derivative formulas of the ops: first order, forward mode, second order.

First order (reverse) calls the C++ backward ops. Higher orders are built
from differentiable pieces, so every order composes:

* ``skin`` is linear in each of ``transforms``, ``weights`` and the
  homogeneous rest point ``[x; 1]``. Its tangent is three ``skin`` calls
  (:func:`skin_jvp`); the derivative of ``skin_backward`` is ``skin`` and
  ``skin_backward`` calls again (:func:`skin_backward_vjp`).
* ``forward_kinematics``: the tangent follows the tree,
  ``dG_j = dG_p @ L_j + G_p @ dL_j``
  (:func:`fk_jvp`, pure torch, by pointer jumping: ceil(log2 J) vectorised
  steps, independent of the tree's values). The derivative of ``forward_kinematics_backward``
  is the reverse derivative of that tangent (:func:`fk_backward_vjp`).

Shapes: ``rotations [B,J,3,3]``, ``offsets [J,3] | [B,J,3]``, ``parents [J]``,
``transforms [B,J,3,4]``, ``rest [V,3] | [B,V,3]``, ``indices/weights [V,K]``.
"""
from __future__ import annotations

import torch
import torch.autograd.forward_ad as fwAD
from torch import Tensor

from . import _checks, _stable

__all__ = ["joint_transforms", "joint_transforms_backward", "setup_joint", "backward_joint",
           "fk_jvp", "fk_backward_vjp", "fk_vjp", "skin_jvp", "skin_vjp", "skin_backward_vjp",
           "forward_kinematics", "forward_kinematics_backward", "skin", "skin_backward",
           "setup_fk", "backward_fk", "setup_fk_backward", "backward_fk_backward",
           "setup_skin", "backward_skin", "setup_skin_backward", "backward_skin_backward"]

_ops = torch.ops.torchrig


class _EagerOps:
    """The ops as this module's eager paths call them: ``torch.ops.torchrig.<op>.default``,
    or in the stable build :func:`torchrig._stable.eager`'s shortcut (the C++ kernel when no
    autograd is wanted, without the Python hops of the stable build's public op). Under
    ``torch.compile`` the functions below call ``_ops`` itself."""

    def __init__(self, stable: bool):
        for op in _stable.OPS:
            setattr(self, op, _stable.eager(op) if stable
                    else _stable.bound(getattr(_ops, op).default))


# The stable build has no C++ autograd (torch's stable C API has none): its ops' autograd is
# Python either way. The reverse-only Functions of _Reverse (below) cost less than half of
# the ops' register_autograd kernel: no redispatch, no Python bridge of the public op, and
# no setup_context, for which Function.apply binds forward's signature with inspect on
# every call (python -m torchrig bench --compare-abi).
_PY_AUTOGRAD = _stable.loaded()
_eager = _EagerOps(stable=_PY_AUTOGRAD)


# --- the four ops, differentiable in every mode ------------------------------
# Plain calls and reverse mode (any order) use the ops themselves: their
# register_autograd formulas (ops.py) call these functions again; in the stable build,
# reverse mode goes through _Reverse's Functions instead (_PY_AUTOGRAD). Forward mode
# (a dual level is open) and torch.func transforms need autograd.Function
# classes with setup_context, jvp and a generated vmap rule: those go through
# the classes below. Compiling: the ops, after traced input checks (Dynamo
# does not trace a custom jvp, and a raise keeps the eager error).

def _needs_function() -> bool:
    """A forward-mode level or a torch.func transform is active (two cheap reads)."""
    return fwAD._current_level >= 0 or torch._C._functorch.peek_interpreter_stack() is not None


_NESTED_FORWARD = ("torchrig: forward-mode AD of forward-mode AD (jvp of jvp, jacfwd of jacfwd, "
                   "a third directional derivative) is not supported: it would give zeros. Use "
                   "reverse mode for the outer derivatives (jacrev(jacfwd(f)), hessian, "
                   "torch.autograd.grad with create_graph=True).")
_COMPILED_FORWARD = ("torchrig: forward-mode AD (torch.func.jvp / jacfwd, forward_ad dual "
                     "tensors) inside torch.compile is not supported: it would give zeros. Call "
                     "the jvp outside the compiled function, or use reverse mode.")


def _forward_levels() -> int:
    """Forward-mode levels active now: open dual levels, or torch.func jvp transforms (each
    of which opens a dual level too), whichever is more."""
    levels = fwAD._current_level + 1
    if torch._C._functorch.peek_interpreter_stack() is None:
        return levels
    from torch._functorch.pyfunctorch import retrieve_all_functorch_interpreters
    jvp = torch._C._functorch.TransformType.Jvp
    return max(levels, sum(1 for i in retrieve_all_functorch_interpreters() if i.key() == jvp))


def _check_forward_mode() -> None:
    """A clear error where forward mode would silently give zeros (nested levels: the ops'
    forward-mode rules are one level deep)."""
    if _forward_levels() > 1:
        raise NotImplementedError(_NESTED_FORWARD)



def _wants_grad(*tensors: Tensor) -> bool:
    return torch.is_grad_enabled() and any(isinstance(t, Tensor) and t.requires_grad
                                           for t in tensors)


def forward_kinematics(rotations: Tensor, offsets: Tensor, parents: Tensor) -> Tensor:
    if torch.compiler.is_compiling():
        # traced Python checks: a bad input leaves the graph and raises the eager
        # ValueError / TypeError (from the fake kernel it would become TorchRuntimeError)
        _checks.check_fk_inputs(rotations, offsets, parents)
        if fwAD._current_level >= 0:  # a dual level: the op has no forward-mode rule here
            raise NotImplementedError(_COMPILED_FORWARD)
        return _ops.forward_kinematics.default(rotations, offsets, parents)
    if _needs_function():
        _check_forward_mode()
        return _ForwardKinematics.apply(rotations, offsets, parents)
    if _PY_AUTOGRAD and _wants_grad(rotations, offsets):
        return _Reverse.forward_kinematics.apply(rotations, offsets, parents)
    return _eager.forward_kinematics(rotations, offsets, parents)


def forward_kinematics_backward(grad: Tensor, rotations: Tensor, offsets: Tensor, parents: Tensor,
                                transforms: Tensor) -> tuple[Tensor, Tensor]:
    if torch.compiler.is_compiling():
        return _ops.forward_kinematics_backward.default(grad, rotations, offsets, parents,
                                                        transforms)
    if _needs_function():
        _check_forward_mode()
        return _ForwardKinematicsBackward.apply(grad, rotations, offsets, parents, transforms)
    if _PY_AUTOGRAD and _wants_grad(grad, rotations, offsets, transforms):
        return _Reverse.forward_kinematics_backward.apply(grad, rotations, offsets, parents,
                                                          transforms)
    return _eager.forward_kinematics_backward(grad, rotations, offsets, parents, transforms)


def skin(rest: Tensor, transforms: Tensor, indices: Tensor, weights: Tensor) -> Tensor:
    if torch.compiler.is_compiling():
        _checks.check_skin_inputs(rest, transforms, indices, weights)
        if fwAD._current_level >= 0:  # a dual level: the op has no forward-mode rule here
            raise NotImplementedError(_COMPILED_FORWARD)
        return _ops.skin.default(rest, transforms, indices, weights)
    if _needs_function():
        _check_forward_mode()
        return _Skin.apply(rest, transforms, indices, weights)
    if _PY_AUTOGRAD and _wants_grad(rest, transforms, weights):
        return _Reverse.skin.apply(rest, transforms, indices, weights)
    return _eager.skin(rest, transforms, indices, weights)


def skin_backward(grad: Tensor, rest: Tensor, transforms: Tensor, indices: Tensor,
                  weights: Tensor, mask: list[bool]) -> tuple[Tensor, Tensor, Tensor]:
    if torch.compiler.is_compiling():
        return _ops.skin_backward.default(grad, rest, transforms, indices, weights, mask)
    if _needs_function():
        _check_forward_mode()
        bits = int(mask[0]) | int(mask[1]) << 1 | int(mask[2]) << 2  # one leaf, not a pytree
        return _SkinBackward.apply(grad, rest, transforms, indices, weights, bits)
    if _PY_AUTOGRAD and _wants_grad(grad, rest, transforms, weights):
        return _Reverse.skin_backward.apply(grad, rest, transforms, indices, weights, list(mask))
    return _eager.skin_backward(grad, rest, transforms, indices, weights, list(mask))


# joint_transforms differentiates its joint parameters only (first order, reverse mode:
# torch.autograd, torch.func.grad / jacrev / vmap); the C++ autograd kernel of the classic
# build (csrc/classic/autograd.cpp) refuses the constants with this same message.
JOINT_CONSTANTS = ("torchrig.joint_transforms differentiates joint_params only; offsets and "
                   "inverse_bind need requires_grad=False. For gradients w.r.t. the offsets, use "
                   "forward_kinematics on rotation matrices.")
_JOINT_FORWARD = ("torchrig.joint_transforms has no forward-mode derivative (torch.func.jvp / "
                  "jacfwd, forward_ad): use reverse mode (torch.autograd.grad, torch.func.jacrev).")
_JOINT_SECOND = ("torchrig.joint_transforms has first derivatives only (no create_graph=True "
                 "through its backward, no hessian): for higher orders, convert the joint "
                 "parameters to rotation matrices in torch and use forward_kinematics.")


def _check_joint_constants(offsets: Tensor, inverse_bind: Tensor | None) -> None:
    if torch.is_grad_enabled() and (offsets.requires_grad or (
            inverse_bind is not None and inverse_bind.requires_grad)):
        raise ValueError(JOINT_CONSTANTS)


def joint_transforms(joint_params: Tensor, offsets: Tensor, parents: Tensor,
                     inverse_bind: Tensor | None) -> Tensor:
    if torch.compiler.is_compiling():
        _checks.check_joint_inputs(joint_params, offsets, parents, inverse_bind)
        if fwAD._current_level >= 0:
            raise NotImplementedError(_JOINT_FORWARD)
        return _ops.joint_transforms.default(joint_params, offsets, parents, inverse_bind)
    if _needs_function():
        if fwAD._current_level >= 0:
            raise NotImplementedError(_JOINT_FORWARD)
        _check_joint_constants(offsets, inverse_bind)
        return _JointTransforms.apply(joint_params, offsets, parents, inverse_bind)
    # the one-pose hot path (Rig.global_transforms, Rig.pose_params): the tests inlined
    if _PY_AUTOGRAD and torch.is_grad_enabled() and (
            joint_params.requires_grad or offsets.requires_grad
            or (inverse_bind is not None and inverse_bind.requires_grad)):
        _check_joint_constants(offsets, inverse_bind)
        return _Reverse.joint_transforms.apply(joint_params, offsets, parents, inverse_bind)
    return _eager.joint_transforms(joint_params, offsets, parents, inverse_bind)  # classic: C++ autograd


def joint_transforms_backward(grad: Tensor, joint_params: Tensor, offsets: Tensor,
                              parents: Tensor, inverse_bind: Tensor | None) -> Tensor:
    if torch.compiler.is_compiling():
        return _ops.joint_transforms_backward.default(grad, joint_params, offsets, parents,
                                                      inverse_bind)
    if _needs_function():  # torch.func: a Function (vmap rule) whose backward raises
        return _JointTransformsBackward.apply(grad, joint_params, offsets, parents, inverse_bind)
    if _wants_grad(grad, joint_params):
        # create_graph=True: the public op, whose autograd kernel (ops.py) raises on a
        # second order
        return _ops.joint_transforms_backward.default(grad, joint_params, offsets, parents,
                                                      inverse_bind)
    return _eager.joint_transforms_backward(grad, joint_params, offsets, parents, inverse_bind)


def _mask_of(bits: int) -> tuple[bool, bool, bool]:
    """skin_backward's output mask from the bits :func:`skin_backward` packs it into."""
    return bool(bits & 1), bool(bits & 2), bool(bits & 4)


def _add(a: Tensor | None, b: Tensor | None) -> Tensor | None:
    if a is None:
        return b
    return a if b is None else a + b


def _drop_translation(t: Tensor) -> Tensor:
    """``[..., 3, 4] -> [..., 3, 4]`` with the translation column zeroed."""
    return t * t.new_tensor([1.0, 1.0, 1.0, 0.0])


# --- skin ------------------------------------------------------------------

def skin_vjp(grad: Tensor, rest: Tensor, transforms: Tensor, indices: Tensor, weights: Tensor,
             mask: tuple[bool, bool, bool]) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """``(d rest, d transforms, d weights)`` of ``<grad, skin(...)>``; ``None`` where not in mask."""
    if not any(mask):
        return None, None, None
    g_rest, g_tf, g_w = skin_backward(grad.contiguous(), rest, transforms, indices, weights,
                                      list(mask))
    return (g_rest if mask[0] else None, g_tf if mask[1] else None, g_w if mask[2] else None)


def skin_jvp(rest: Tensor, transforms: Tensor, indices: Tensor, weights: Tensor,
             d_rest: Tensor | None, d_tf: Tensor | None, d_w: Tensor | None) -> Tensor:
    """Tangent ``[B, V, 3]`` of ``skin`` for tangents of rest, transforms, weights (or None)."""
    out = None
    if d_rest is not None:  # the rest point enters as [x; 1]: its tangent is [dx; 0]
        out = skin(d_rest, _drop_translation(transforms), indices, weights)
    if d_tf is not None:
        out = _add(out, skin(rest, d_tf, indices, weights))
    if d_w is not None:
        out = _add(out, skin(rest, transforms, indices, d_w))
    if out is None:
        out = transforms.new_zeros(transforms.shape[0], indices.shape[0], 3)
    return out


def skin_backward_vjp(grad: Tensor, rest: Tensor, transforms: Tensor, indices: Tensor,
                      weights: Tensor, u_rest: Tensor | None, u_tf: Tensor | None,
                      u_w: Tensor | None, needs: tuple[bool, bool, bool, bool]):
    """Reverse derivative of ``skin_backward``: cotangents ``u_*`` of its three outputs.

    ``skin_backward = d/d(x, T, w) <g, S(x, T, w)>`` and
    ``<u, skin_backward> = <g, skin_jvp(u)>``, so
    ``d/dg = skin_jvp(u)`` and each other argument collects the mixed terms:
    ``d/dx = S_x^T(g; u_T) + S_x^T(g; u_w)``, and so on, every one a ``skin``
    backward call. ``needs``: (grad, rest, transforms, weights).
    """
    d_g = d_rest = d_tf = d_w = None
    if needs[0]:
        d_g = skin_jvp(rest, transforms, indices, weights, u_rest, u_tf, u_w)
    if needs[1]:  # x enters through <g, S(x, u_T, w)> and <g, S(x, T, u_w)>
        if u_tf is not None:
            d_rest = _add(d_rest, skin_vjp(grad, rest, u_tf, indices, weights, (True, False, False))[0])
        if u_w is not None:
            d_rest = _add(d_rest, skin_vjp(grad, rest, transforms, indices, u_w, (True, False, False))[0])
    if needs[2]:  # T enters through <g, S(u_x, T0, w)> and <g, S(x, T, u_w)>
        if u_rest is not None:
            d_tf = _drop_translation(skin_vjp(grad, u_rest, transforms, indices, weights,
                                              (False, True, False))[1])
        if u_w is not None:
            d_tf = _add(d_tf, skin_vjp(grad, rest, transforms, indices, u_w, (False, True, False))[1])
    if needs[3]:  # w enters through <g, S(u_x, T0, w)> and <g, S(x, u_T, w)>
        if u_rest is not None:
            d_w = skin_vjp(grad, u_rest, _drop_translation(transforms), indices, weights,
                           (False, False, True))[2]
        if u_tf is not None:
            d_w = _add(d_w, skin_vjp(grad, rest, u_tf, indices, weights, (False, False, True))[2])
    return d_g, d_rest, d_tf, d_w


# --- forward kinematics -------------------------------------------------------

def fk_vjp(grad: Tensor, rotations: Tensor, offsets: Tensor, parents: Tensor, transforms: Tensor,
           mask: tuple[bool, bool]) -> tuple[Tensor | None, Tensor | None]:
    """``(d rotations, d offsets)`` of ``<grad, forward_kinematics(...)>`` (C++ backward op)."""
    if not any(mask):
        return None, None
    g_rot, g_off = forward_kinematics_backward(grad.contiguous(), rotations, offsets, parents,
                                               transforms)
    return (g_rot if mask[0] else None, g_off if mask[1] else None)


def fk_jvp(rotations: Tensor, offsets: Tensor, parents: Tensor, transforms: Tensor,
           d_rot: Tensor | None, d_off: Tensor | None) -> Tensor:
    """Tangent ``[B, J, 3, 4]`` of ``forward_kinematics`` (pure torch, log2(J) steps).

    ``transforms`` is the forward's output ``G``. Differentiable in every
    argument, which :func:`fk_backward_vjp` relies on.
    """
    B, J = rotations.shape[:2]
    off = offsets.expand(B, J, 3) if offsets.dim() == 2 else offsets
    root = (parents < 0).view(1, J, 1, 1)
    parent_rot = transforms[:, parents.clamp(min=0), :, :3]  # R of G_parent(j)
    eye = torch.eye(3, dtype=rotations.dtype, device=rotations.device).expand_as(parent_rot)
    parent_rot = torch.where(root, eye, parent_rot)
    # C_j = [R_p dR_j | R_p do_j]: the tangent of L_j seen through the parent.
    c_rot = parent_rot @ d_rot if d_rot is not None else rotations.new_zeros(B, J, 3, 3)
    if d_off is not None:
        d_off = d_off.expand(B, J, 3) if d_off.dim() == 2 else d_off
        c_t = (parent_rot @ d_off[..., None]).squeeze(-1)
    else:
        c_t = rotations.new_zeros(B, J, 3)
    # Pointer jumping keeps Y_j = Y_a(j) @ P_j + Q_j (4x4, Y_-1 = 0): a(j) starts
    # at the parent with P = L, Q = C; each step jumps a(j) to a(a(j)), so after
    # ceil(log2 J) steps every a(j) is -1 and Y_j = Q_j. The step count depends on
    # J only, never on the values in parents: no host sync, traceable.
    p_rot, p_t = rotations, off
    q_rot, q_t = c_rot, c_t
    anc = parents
    reach = 1
    while reach < J:
        has = anc >= 0
        a = anc.clamp(min=0)
        m4, m3 = has.view(1, J, 1, 1), has.view(1, J, 1)
        qa_rot, qa_t, pa_rot, pa_t = q_rot[:, a], q_t[:, a], p_rot[:, a], p_t[:, a]
        q_rot = q_rot + torch.where(m4, qa_rot @ p_rot, 0.0)
        q_t = q_t + torch.where(m3, (qa_rot @ p_t[..., None]).squeeze(-1) + qa_t, 0.0)
        p_rot = torch.where(m4, pa_rot @ p_rot, p_rot)
        p_t = torch.where(m3, (pa_rot @ p_t[..., None]).squeeze(-1) + pa_t, p_t)
        anc = torch.where(has, anc[a], anc)
        reach *= 2
    y_rot, y_t = q_rot, q_t
    return torch.cat([y_rot, y_t[..., None]], dim=-1)


def fk_backward_vjp(grad: Tensor, rotations: Tensor, offsets: Tensor, parents: Tensor,
                    u_rot: Tensor | None, u_off: Tensor | None, needs: tuple[bool, bool, bool]):
    """Reverse derivative of ``forward_kinematics_backward`` for output cotangents ``u_*``.

    ``<u, fk_backward(g)> = <g, fk_jvp(u)>``: its derivative in ``g`` is
    ``fk_jvp(u)``; in rotations and offsets it is the reverse derivative of
    ``<g, fk_jvp(u)>``, taken by ``torch.func.vjp`` through :func:`fk_jvp` and
    the forward op (whose backward is again differentiable, so any order
    works). ``needs``: (grad, rotations, offsets). The ``transforms`` argument
    of the backward op gets no gradient: it is recomputed here from rotations
    and offsets, so the result is the total derivative when ``transforms`` is
    ``forward_kinematics(rotations, offsets, parents)`` (as in every autograd
    graph), not a partial one for an unrelated ``transforms``.
    """
    if u_rot is None and u_off is None:
        return None, None, None

    def tangent_of(rot, off):
        return fk_jvp(rot, off, parents, forward_kinematics(rot, off, parents), u_rot, u_off)

    tangent, pullback = torch.func.vjp(tangent_of, rotations, offsets)
    d_rot, d_off = pullback(grad) if (needs[1] or needs[2]) else (None, None)
    return (tangent if needs[0] else None, d_rot if needs[1] else None,
            d_off if needs[2] else None)


# --- reverse-mode autograd of the four ops: setup_<op>, backward_<op> ----------
# The one owner of the first- and second-order backward paths: ops.py registers
# these with torch.library.register_autograd, and the autograd.Function classes
# below use the same functions (their setup_context also saves for forward mode).

def setup_fk(ctx, inputs, output):
    rotations, offsets, parents = inputs
    ctx.save_for_backward(rotations, offsets, parents, output)


def backward_fk(ctx, grad):
    rotations, offsets, parents, output = ctx.saved_tensors
    g_rot, g_off = fk_vjp(grad, rotations, offsets, parents, output, ctx.needs_input_grad[:2])
    return g_rot, g_off, None


def setup_fk_backward(ctx, inputs, output):
    grad, rotations, offsets, parents, _ = inputs
    ctx.save_for_backward(grad, rotations, offsets, parents)


def backward_fk_backward(ctx, u_rot, u_off):
    grad, rotations, offsets, parents = ctx.saved_tensors
    n = ctx.needs_input_grad
    d_g, d_rot, d_off = fk_backward_vjp(grad, rotations, offsets, parents, u_rot, u_off,
                                        (n[0], n[1], n[2]))
    return d_g, d_rot, d_off, None, None


def setup_joint(ctx, inputs, output):
    joint_params, offsets, parents, inverse_bind = inputs
    ctx.save_for_backward(joint_params, offsets, parents, inverse_bind)


def backward_joint(ctx, grad):
    n = ctx.needs_input_grad
    if n[1] or (len(n) > 3 and n[3]):
        raise ValueError(JOINT_CONSTANTS)
    if not n[0]:
        return None, None, None, None
    joint_params, offsets, parents, ib = ctx.saved_tensors
    g = joint_transforms_backward(grad.contiguous(), joint_params, offsets, parents, ib)
    return g, None, None, None


def setup_skin(ctx, inputs, output):
    ctx.save_for_backward(*inputs)


def backward_skin(ctx, grad):
    rest, transforms, indices, weights = ctx.saved_tensors
    n = ctx.needs_input_grad
    g_rest, g_tf, g_w = skin_vjp(grad, rest, transforms, indices, weights, (n[0], n[1], n[3]))
    return g_rest, g_tf, None, g_w


def setup_skin_backward(ctx, inputs, output):
    grad, rest, transforms, indices, weights, mask = inputs
    ctx.mask = tuple(mask)
    ctx.save_for_backward(grad, rest, transforms, indices, weights)


def backward_skin_backward(ctx, u_rest, u_tf, u_w):
    grad, rest, transforms, indices, weights = ctx.saved_tensors
    # outputs left out of the mask are constant zeros: their cotangents do not count
    u = [c if m else None for c, m in zip((u_rest, u_tf, u_w), ctx.mask)]
    n = ctx.needs_input_grad
    d_g, d_rest, d_tf, d_w = skin_backward_vjp(grad, rest, transforms, indices, weights, *u,
                                               (n[0], n[1], n[2], n[4]))
    return d_g, d_rest, d_tf, None, d_w, None


# --- reverse mode only, for the stable build (_PY_AUTOGRAD) -------------------

def _reverse_function(op: str, setup, backward) -> type[torch.autograd.Function]:
    """An old-style Function (forward takes ctx) calling ``_eager.<op>`` with the setup_<op> /
    backward_<op> formulas above: reverse mode of any order, nothing else."""
    def forward(ctx, *inputs):
        output = getattr(_eager, op)(*inputs)
        setup(ctx, inputs, output)
        return output

    return type(f"_{op}_reverse", (torch.autograd.Function,),
                {"forward": staticmethod(forward), "backward": staticmethod(backward),
                 "__doc__": f"torchrig's {op}, reverse mode (stable build)"})


class _Reverse:
    forward_kinematics = _reverse_function("forward_kinematics", setup_fk, backward_fk)
    forward_kinematics_backward = _reverse_function("forward_kinematics_backward",
                                                    setup_fk_backward, backward_fk_backward)
    skin = _reverse_function("skin", setup_skin, backward_skin)
    skin_backward = _reverse_function("skin_backward", setup_skin_backward,
                                      backward_skin_backward)
    joint_transforms = _reverse_function("joint_transforms", setup_joint, backward_joint)


# --- autograd.Function classes (eager mode) ----------------------------------
# Only forward mode and torch.func reach them (see _needs_function).

class _ForwardKinematics(torch.autograd.Function):
    """torchrig.forward_kinematics: reverse, forward mode and vmap."""

    generate_vmap_rule = True

    @staticmethod
    def forward(rotations, offsets, parents):
        return _ops.forward_kinematics.default(rotations, offsets, parents)

    @staticmethod
    def setup_context(ctx, inputs, output):
        setup_fk(ctx, inputs, output)
        ctx.save_for_forward(*inputs, output)

    backward = staticmethod(backward_fk)

    @staticmethod
    def jvp(ctx, d_rot, d_off, _d_parents):
        rotations, offsets, parents, output = ctx.saved_tensors
        return fk_jvp(rotations, offsets, parents, output, d_rot, d_off)


class _ForwardKinematicsBackward(torch.autograd.Function):
    """torchrig's forward_kinematics_backward: reverse mode (second order) and vmap."""

    generate_vmap_rule = True

    @staticmethod
    def forward(grad, rotations, offsets, parents, transforms):
        return _ops.forward_kinematics_backward.default(grad, rotations, offsets, parents,
                                                        transforms)

    @staticmethod
    def setup_context(ctx, inputs, output):
        setup_fk_backward(ctx, inputs, output)
        ctx.save_for_forward(*inputs[:4])  # grad, rotations, offsets, parents

    backward = staticmethod(backward_fk_backward)

    @staticmethod
    def jvp(ctx, d_grad, d_rot, d_off, _d_parents, _d_transforms):
        # Linear in grad; in (rotations, offsets) its derivative is the Hessian of
        # <grad, FK>, symmetric, so the tangent along (d_rot, d_off) is the reverse
        # derivative fk_backward_vjp computes for cotangents (d_rot, d_off).
        grad, rotations, offsets, parents = ctx.saved_tensors
        t_rot = t_off = None
        if d_grad is not None:
            G = _ops.forward_kinematics.default(rotations, offsets, parents)
            t_rot, t_off = _ops.forward_kinematics_backward.default(
                d_grad.contiguous(), rotations, offsets, parents, G)
        if d_rot is not None or d_off is not None:
            _, h_rot, h_off = fk_backward_vjp(grad, rotations, offsets, parents, d_rot, d_off,
                                              (False, True, True))
            t_rot, t_off = _add(t_rot, h_rot), _add(t_off, h_off)
        return (torch.zeros_like(rotations) if t_rot is None else t_rot,
                torch.zeros_like(offsets) if t_off is None else t_off)


class _Skin(torch.autograd.Function):
    """torchrig.skin: reverse, forward mode and vmap."""

    generate_vmap_rule = True

    @staticmethod
    def forward(rest, transforms, indices, weights):
        return _ops.skin.default(rest, transforms, indices, weights)

    @staticmethod
    def setup_context(ctx, inputs, output):
        setup_skin(ctx, inputs, output)
        ctx.save_for_forward(*inputs)

    backward = staticmethod(backward_skin)

    @staticmethod
    def jvp(ctx, d_rest, d_tf, _d_indices, d_w):
        rest, transforms, indices, weights = ctx.saved_tensors
        return skin_jvp(rest, transforms, indices, weights, d_rest, d_tf, d_w)


class _SkinBackward(torch.autograd.Function):
    """torchrig's skin_backward: reverse mode (second order), forward mode and vmap."""

    generate_vmap_rule = True

    @staticmethod
    def forward(grad, rest, transforms, indices, weights, bits):
        return _ops.skin_backward.default(grad, rest, transforms, indices, weights,
                                          list(_mask_of(bits)))

    @staticmethod
    def setup_context(ctx, inputs, output):
        *tensors, bits = inputs
        setup_skin_backward(ctx, (*tensors, _mask_of(bits)), output)
        ctx.save_for_forward(*tensors)

    backward = staticmethod(backward_skin_backward)

    @staticmethod
    def jvp(ctx, d_grad, d_rest, d_tf, _d_indices, d_w, _d_mask):
        # linear in grad and in each of rest [x; 1], transforms, weights given the
        # others: the tangent sums the single-argument changes, each a backward call.
        grad, rest, transforms, indices, weights = ctx.saved_tensors
        m = ctx.mask
        t_rest = t_tf = t_w = None
        if d_grad is not None:
            t_rest, t_tf, t_w = skin_vjp(d_grad, rest, transforms, indices, weights, m)
        if d_rest is not None:  # g_T sees [dx; 0], g_w sees dx through the rotations only
            t_tf = _add(t_tf, _drop_translation(skin_vjp(grad, d_rest, transforms, indices,
                                                         weights, (False, True, False))[1])
                        if m[1] else None)
            t_w = _add(t_w, skin_vjp(grad, d_rest, _drop_translation(transforms), indices, weights,
                                     (False, False, True))[2] if m[2] else None)
        if d_tf is not None:  # g_x sees dT's rotations, g_w sees dT
            a, _, c = skin_vjp(grad, rest, d_tf, indices, weights, (m[0], False, m[2]))
            t_rest, t_w = _add(t_rest, a), _add(t_w, c)
        if d_w is not None:
            a, b, _ = skin_vjp(grad, rest, transforms, indices, d_w, (m[0], m[1], False))
            t_rest, t_tf = _add(t_rest, a), _add(t_tf, b)
        zeros = (torch.zeros_like(rest), torch.zeros_like(transforms), torch.zeros_like(weights))
        return tuple(z if t is None else t for t, z in zip((t_rest, t_tf, t_w), zeros))


class _JointTransforms(torch.autograd.Function):
    """torchrig.joint_transforms under torch.func (grad, jacrev, vmap): reverse mode only."""

    generate_vmap_rule = True

    @staticmethod
    def forward(joint_params, offsets, parents, inverse_bind):
        return _ops.joint_transforms.default(joint_params, offsets, parents, inverse_bind)

    setup_context = staticmethod(setup_joint)
    backward = staticmethod(backward_joint)

    @staticmethod
    def jvp(ctx, *tangents):
        raise NotImplementedError(_JOINT_FORWARD)


class _JointTransformsBackward(torch.autograd.Function):
    """torchrig's joint_transforms_backward under torch.func: first order only."""

    generate_vmap_rule = True

    @staticmethod
    def forward(grad, joint_params, offsets, parents, inverse_bind):
        return _ops.joint_transforms_backward.default(grad, joint_params, offsets, parents,
                                                      inverse_bind)

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass

    @staticmethod
    def backward(ctx, _):
        raise NotImplementedError(_JOINT_SECOND)

    @staticmethod
    def jvp(ctx, *tangents):
        raise NotImplementedError(_JOINT_FORWARD)
