"""Stable-ABI build: load the op library and give the public ops their kernels.

The stable library (``libtorchrig_stable.so``, csrc/stable/) holds no Python
module: :func:`load` loads it with ``torch.ops.load_library``, which defines
the ``torchrig::*`` schemas and the ``torchrig_kernels::*`` C++ kernels (same
schemas). The public ops' CPU/CUDA kernels registered here call those and
raise the C++ checks' errors as ValueError / TypeError, like the classic
build: only ``std::`` exceptions cross torch's stable C API, and torch decides
what Python sees (ValueError in 2.13/2.14, RuntimeError in 2.15), so
csrc/stable/binding.h starts each check's message with a tag (``TAGS``).
"""
from __future__ import annotations

import ctypes
import pathlib
from collections.abc import Callable

import torch

from . import _checks

__all__ = ["LIBRARY", "OPS", "TAGS", "bound", "compiled_with_cuda", "cpu_isa", "eager", "load",
           "loaded"]

LIBRARY = pathlib.Path(__file__).with_name("libtorchrig_stable.so")
OPS = ("forward_kinematics", "forward_kinematics_backward", "skin", "skin_backward",
       "joint_transforms", "joint_transforms_backward")
# ops whose last argument is an optional tensor (None: the plain path all the same)
_OPTIONAL_LAST = ("joint_transforms", "joint_transforms_backward")
# kValueErrorTag / kTypeErrorTag in csrc/stable/binding.h
TAGS: dict[str, type[Exception]] = {"ValueError: ": ValueError, "TypeError: ": TypeError}

_registrations: list[torch.library.Library] = []
_path = LIBRARY  # the library load() loaded


def _retyped(exc: Exception) -> Exception:
    """A check's tagged error as its own type (ValueError / TypeError), else ``exc``."""
    msg = str(exc)
    for tag, kind in TAGS.items():
        if msg.startswith(tag):
            return kind(msg[len(tag):])
    return exc


def _call_typed(kernel: Callable, args: tuple):
    """``kernel(*args)``, the checks' tagged errors raised as their own type."""
    try:
        return kernel(*args)
    except (ValueError, RuntimeError) as exc:
        raise _retyped(exc) from None


def _typed(kernel: Callable) -> Callable:
    """``kernel`` with the checks' tagged errors raised as their own type."""
    return lambda *args: _call_typed(kernel, args)


def bound(overload: torch._ops.OpOverload) -> Callable:
    """The C++ function an OpOverload's ``__call__`` calls (``overload._op``), one Python frame
    less per call (some 0.3 us); the overload itself where a torch lacks that attribute."""
    return getattr(overload, "_op", overload)


def eager(op: str) -> Callable:
    """``torch.ops.torchrig.<op>`` for torchrig._derivatives' plain eager calls, without the
    Python hops the stable build puts on the public op: its Python autograd kernel
    (``register_autograd``, which runs on every call, even under ``no_grad``) and its Python
    bridge (:func:`_typed`), together some 5 us a call, the whole cost of a small FK call
    (``python -m torchrig bench --compare-abi``). When every tensor is a plain CPU/CUDA tensor
    and no dispatch mode is active, the C++ kernel (``torch.ops.torchrig_kernels.<op>``) runs
    straight away, its tagged errors raised as ValueError / TypeError; otherwise the public op.

    The caller has made sure that no autograd is wanted and no torch.func transform or
    forward-mode level is active (_derivatives sends those elsewhere)."""
    public = getattr(torch.ops.torchrig, op).default
    kernel = bound(getattr(torch.ops.torchrig_kernels, op).default)
    plain, modes, compiling = torch.Tensor, torch._C._len_torch_dispatch_stack, torch.compiler.is_compiling
    check = {"forward_kinematics": _checks.check_fk_inputs,
             "skin": _checks.check_skin_inputs,
             "joint_transforms": _checks.check_joint_inputs}.get(op)
    # skin_backward's last argument is a mask; the joint ops' last may be None
    tensors = slice(-1) if op == "skin_backward" or op in _OPTIONAL_LAST else slice(None)
    optional_last = op in _OPTIONAL_LAST

    def call(*args):
        if compiling():
            # Dynamo compiles this frame when it runs an enclosing one eagerly (after a bad
            # input left the graph): trace the public op after the Python checks, so that a
            # bad input raises the eager error here too (torchrig._derivatives does the same)
            if check is not None:
                check(*args)
            return public(*args)
        if modes():  # a dispatch mode sees the public op
            return public(*args)
        for a in args[tensors]:
            if type(a) is not plain:  # a subclass, or None (the public op's checks name it)
                return public(*args)
        if optional_last and args[-1] is not None and type(args[-1]) is not plain:
            return public(*args)
        if not (args[0].is_cpu or args[0].is_cuda):  # meta, other devices: the fake kernels
            return public(*args)
        try:
            return kernel(*args)
        except NotImplementedError:  # a tensor on a device without a kernel (mixed devices)
            return public(*args)
        except (ValueError, RuntimeError) as exc:
            raise _retyped(exc) from None
    call.__name__ = call.__qualname__ = op
    return call


def loaded() -> bool:
    """Whether this process runs the stable build (:func:`load` has registered its kernels)."""
    return bool(_registrations)


def compiled_with_cuda() -> bool:
    """Whether the loaded library registered CUDA kernels."""
    return torch._C._dispatch_has_kernel_for_dispatch_key("torchrig_kernels::skin", "CUDA")


def cpu_isa() -> str:
    """Instruction set of the CPU skinning kernels on this machine (baseline, avx2, avx512;
    ``TORCHRIG_CPU_ISA`` caps it): the library's plain C function ``torchrig_cpu_isa``
    (csrc/stable/library.cpp), the twin of the classic build's ``_C.cpu_isa()``."""
    fn = ctypes.CDLL(str(_path)).torchrig_cpu_isa
    fn.restype = ctypes.c_char_p
    return fn().decode()


def load(path: pathlib.Path = LIBRARY) -> None:
    """Load the library and register the public ops' kernels (once)."""
    if _registrations:
        return
    global _path
    torch.ops.load_library(str(path))
    _path = pathlib.Path(path)
    lib = torch.library.Library("torchrig", "IMPL")
    keys = ["CPU", "CUDA"] if compiled_with_cuda() else ["CPU"]
    for op in OPS:
        kernel = getattr(torch.ops.torchrig_kernels, op).default
        for key in keys:
            lib.impl(op, _typed(kernel), key)
    _registrations.append(lib)
