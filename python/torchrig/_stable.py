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

import pathlib
from collections.abc import Callable

import torch

__all__ = ["LIBRARY", "OPS", "TAGS", "compiled_with_cuda", "load"]

LIBRARY = pathlib.Path(__file__).with_name("libtorchrig_stable.so")
OPS = ("forward_kinematics", "forward_kinematics_backward", "skin", "skin_backward")
# kValueErrorTag / kTypeErrorTag in csrc/stable/binding.h
TAGS: dict[str, type[Exception]] = {"ValueError: ": ValueError, "TypeError: ": TypeError}

_registrations: list[torch.library.Library] = []


def _typed(kernel: Callable) -> Callable:
    """``kernel`` with the checks' tagged errors raised as their own type."""
    def impl(*args):
        try:
            return kernel(*args)
        except (ValueError, RuntimeError) as exc:
            msg = str(exc)
            for tag, kind in TAGS.items():
                if msg.startswith(tag):
                    raise kind(msg[len(tag):]) from None
            raise
    return impl


def compiled_with_cuda() -> bool:
    """Whether the loaded library registered CUDA kernels."""
    return torch._C._dispatch_has_kernel_for_dispatch_key("torchrig_kernels::skin", "CUDA")


def load(path: pathlib.Path = LIBRARY) -> None:
    """Load the library and register the public ops' kernels (once)."""
    if _registrations:
        return
    torch.ops.load_library(str(path))
    lib = torch.library.Library("torchrig", "IMPL")
    keys = ["CPU", "CUDA"] if compiled_with_cuda() else ["CPU"]
    for op in OPS:
        kernel = getattr(torch.ops.torchrig_kernels, op).default
        for key in keys:
            lib.impl(op, _typed(kernel), key)
    _registrations.append(lib)
