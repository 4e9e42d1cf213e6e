"""Shape, dtype and device checks of every op, for the fake (meta) kernels.

The Python twin of csrc/classic/checks.cpp: the same checks in the same order, the
same exception types (``ValueError`` for shapes and devices, ``TypeError``
for dtypes) and the same messages, so a bad input fails the same way on real
tensors, on ``meta`` tensors and under ``torch.compile``. tests/unit/test_checks.py
runs every case of both sides and compares type and message.

Checks that read data (parents ordering, index ranges) need real values; the
fake kernels cannot run them, so they stay in C++ only.

Plain ``raise`` (not ``torch._check*``): Dynamo traces these in the compiled
wrappers, and a raise keeps the eager exception and message there.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["check_fk_inputs", "check_fk_backward_inputs", "check_joint_inputs",
           "check_joint_backward_inputs", "check_skin_inputs",
           "check_skin_backward_inputs", "scalar_type_name"]

# c10::ScalarType names, as the C++ messages print dtypes.
_SCALAR_TYPE = {
    torch.uint8: "Byte", torch.int8: "Char", torch.int16: "Short", torch.int32: "Int",
    torch.int64: "Long", torch.float16: "Half", torch.float32: "Float", torch.float64: "Double",
    torch.complex64: "ComplexFloat", torch.complex128: "ComplexDouble", torch.bool: "Bool",
    torch.bfloat16: "BFloat16",
}


def scalar_type_name(dtype: torch.dtype) -> str:
    """``torch.float32`` -> ``"Float"`` (what ``c10::ScalarType`` prints)."""
    return _SCALAR_TYPE.get(dtype, str(dtype).removeprefix("torch."))


# Messages print sizes as f"{int(n)}": under torch.compile(dynamic=True) they are SymInts,
# which Dynamo cannot put through str() (fullgraph: "Failed to trace builtin operator str")
# nor a bare f-string ("sequence item 1: expected str instance, int found").

def _shape(t: Tensor) -> str:
    return _sizes(t.shape)


def _sizes(sizes: Sequence[int]) -> str:
    return "[" + ", ".join([f"{int(s)}" for s in sizes]) + "]"


def _value(cond, msg) -> None:
    if not cond:
        raise ValueError(msg() if callable(msg) else msg)


def _type(cond, msg) -> None:
    if not cond:
        raise TypeError(msg())


def check_tensor_types(**args: object) -> None:
    """A TypeError naming the first argument that is neither a tensor nor None (a list, a
    NumPy array, a number), before torch's argument parser sees it and prints the whole
    value (megabytes for a long list). None is left to the checks (``X is None``)."""
    for name, t in args.items():
        _type(t is None or isinstance(t, Tensor),
              lambda: f"{name} must be a torch.Tensor, got {type(t).__name__}; convert it "
                      f"first, e.g. torch.as_tensor({name})")


def _check_defined(**args: object) -> None:
    for name, t in args.items():
        _value(isinstance(t, Tensor), f"{name} is None; expected a tensor")


def _check_float(t: Tensor, name: str) -> None:
    _type(t.dtype in (torch.float32, torch.float64),
                      lambda: f"{name} must be float32 or float64, got {scalar_type_name(t.dtype)}")


def _check_index(t: Tensor, name: str) -> None:
    _type(t.dtype == torch.int64,
                      lambda: f"{name} must be int64 (torch.long), got {scalar_type_name(t.dtype)}")


def _check_same(t: Tensor, name: str, ref: Tensor, ref_name: str, dtype: bool) -> None:
    _value(t.device == ref.device, lambda: f"{name} is on {t.device} but {ref_name} is on "
                                           f"{ref.device}; move them to the same device")
    if dtype:
        _type(t.dtype == ref.dtype,
                          lambda: f"{name} has dtype {scalar_type_name(t.dtype)} but {ref_name} "
                                  f"has dtype {scalar_type_name(ref.dtype)}; use one floating dtype")


def _check_points(t: Tensor, name: str, letter: str, B: int, N: int) -> bool:
    """``t`` is ``[N, 3]`` (one set for the batch) or ``[B, N, 3]``; returns whether batched.
    ``letter`` names N in the message (offsets: J, rest_vertices: V)."""
    batched = t.dim() == 3
    _value((t.dim() == 2 and t.shape[0] == N and t.shape[1] == 3)
           or (batched and t.shape[0] == B and t.shape[1] == N and t.shape[2] == 3),
           lambda: f"{name} must have shape [{letter}, 3] or [B, {letter}, 3] = [{int(B)}, {int(N)}, 3], "
                   f"got {_shape(t)}")
    return batched


def check_fk_inputs(rotations: Tensor, offsets: Tensor, parents: Tensor) -> tuple[int, int, bool]:
    """``(B, J, batched_offsets)``; raises like ``check_fk_inputs`` in C++."""
    _check_defined(rotations=rotations, offsets=offsets, parents=parents)
    _value(rotations.dim() == 4 and rotations.shape[2] == 3 and rotations.shape[3] == 3,
           lambda: f"rotations must have shape [B, J, 3, 3], got {_shape(rotations)}")
    B, J = rotations.shape[0], rotations.shape[1]
    _value(parents.dim() == 1 and parents.shape[0] == J,
           lambda: f"parents must have shape [J] = [{int(J)}], got {_shape(parents)}")
    batched = _check_points(offsets, "offsets", "J", B, J)
    _check_float(rotations, "rotations")
    _check_index(parents, "parents")
    _check_same(offsets, "offsets", rotations, "rotations", dtype=True)
    _check_same(parents, "parents", rotations, "rotations", dtype=False)
    return B, J, batched


def check_skin_inputs(rest_vertices: Tensor, transforms: Tensor, indices: Tensor,
                      weights: Tensor) -> tuple[int, int, int, int, bool]:
    """``(B, V, J, K, batched_rest)``; raises like ``check_skin_inputs`` in C++."""
    _check_defined(rest_vertices=rest_vertices, transforms=transforms, indices=indices,
                   weights=weights)
    _value(transforms.dim() == 4 and transforms.shape[2] == 3 and transforms.shape[3] == 4,
           lambda: f"transforms must have shape [B, J, 3, 4], got {_shape(transforms)}")
    B, J = transforms.shape[0], transforms.shape[1]
    _value(indices.dim() == 2, lambda: f"indices must have shape [V, K], got {_shape(indices)}")
    V, K = indices.shape
    _value(K >= 1, lambda: f"indices must have K >= 1 influences per vertex, got shape "
                           f"{_shape(indices)}")
    _value(weights.shape == indices.shape,
           lambda: f"weights must have the shape of indices [V, K] = [{int(V)}, {int(K)}], "
                   f"got {_shape(weights)}")
    batched = _check_points(rest_vertices, "rest_vertices", "V", B, V)
    _check_float(transforms, "transforms")
    _check_index(indices, "indices")
    _check_same(rest_vertices, "rest_vertices", transforms, "transforms", dtype=True)
    _check_same(weights, "weights", transforms, "transforms", dtype=True)
    _check_same(indices, "indices", transforms, "transforms", dtype=False)
    # decidable from the shapes: no index lies in [0, 0) (the real kernel's message)
    _value(J > 0 or V == 0, lambda: f"indices must lie in [0, J) = [0, 0): transforms has no "
                                    f"joints for V = {int(V)} vertices")
    return B, V, J, K, batched


def _check_grad(grad: Tensor, name: str, sizes: Sequence[int], like: Tensor) -> None:
    _check_defined(**{name: grad})
    _value(tuple(grad.shape) == tuple(sizes),
           lambda: f"{name} must have shape {_sizes(sizes)}, got {_shape(grad)}")
    _check_same(grad, name, like, "the forward input", dtype=True)


def check_fk_backward_inputs(grad_transforms: Tensor, rotations: Tensor, offsets: Tensor,
                             parents: Tensor, transforms: Tensor) -> tuple[int, int, bool]:
    """The forward's checks, then ``grad_transforms`` and ``transforms [B, J, 3, 4]``."""
    B, J, batched = check_fk_inputs(rotations, offsets, parents)
    _check_grad(grad_transforms, "grad_transforms", (B, J, 3, 4), rotations)
    _check_grad(transforms, "transforms", (B, J, 3, 4), rotations)
    return B, J, batched


def check_skin_backward_inputs(grad_vertices: Tensor, rest_vertices: Tensor, transforms: Tensor,
                               indices: Tensor, weights: Tensor) -> tuple[int, int, int, int, bool]:
    """The forward's checks, then ``grad_vertices [B, V, 3]``."""
    s = check_skin_inputs(rest_vertices, transforms, indices, weights)
    _check_grad(grad_vertices, "grad_vertices", (s[0], s[1], 3), transforms)
    return s


def check_joint_inputs(joint_params: Tensor, offsets: Tensor, parents: Tensor,
                       inverse_bind: Tensor | None) -> tuple[int, int]:
    """``(B, J)``; raises like ``check_joint_inputs`` in C++ (``rules::check_joint``)."""
    _check_defined(joint_params=joint_params, offsets=offsets, parents=parents)
    flat = (joint_params.dim() == 2 and parents.dim() == 1
            and joint_params.shape[1] == 7 * parents.shape[0])
    _value(flat or (joint_params.dim() == 3 and joint_params.shape[2] == 7),
           lambda: "joint_params must have shape [B, J, 7] or [B, 7 * J] (tx, ty, tz, rx, ry, rz, "
                   f"log2 scale per joint; J = len(parents)), got {_shape(joint_params)}")
    B = joint_params.shape[0]
    J = parents.shape[0] if flat else joint_params.shape[1]
    _value(parents.dim() == 1 and parents.shape[0] == J,
           lambda: f"parents must have shape [J] = [{int(J)}], got {_shape(parents)}")
    _value(offsets.dim() == 2 and offsets.shape[0] == J and offsets.shape[1] == 3,
           lambda: f"offsets must have shape [J, 3] = [{int(J)}, 3], got {_shape(offsets)}")
    _value(inverse_bind is None or (inverse_bind.dim() == 3 and inverse_bind.shape[0] == J
                                    and inverse_bind.shape[1] == 3 and inverse_bind.shape[2] == 4),
           lambda: f"inverse_bind must have shape [J, 3, 4] = [{int(J)}, 3, 4], "
                   f"got {_shape(inverse_bind)}")
    _check_float(joint_params, "joint_params")
    _check_index(parents, "parents")
    _check_same(offsets, "offsets", joint_params, "joint_params", dtype=True)
    _check_same(parents, "parents", joint_params, "joint_params", dtype=False)
    if inverse_bind is not None:
        _check_same(inverse_bind, "inverse_bind", joint_params, "joint_params", dtype=True)
    return B, J


def check_joint_backward_inputs(grad_transforms: Tensor, joint_params: Tensor, offsets: Tensor,
                                parents: Tensor, inverse_bind: Tensor | None) -> tuple[int, int]:
    B, J = check_joint_inputs(joint_params, offsets, parents, inverse_bind)
    _check_grad(grad_transforms, "grad_transforms", (B, J, 3, 4), joint_params)
    return B, J
