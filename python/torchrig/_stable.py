"""Stable-ABI build (the one pip wheel): load the op libraries and give the public ops kernels.

The stable libraries hold no Python module: :func:`load` loads them with
``torch.ops.load_library``. ``libtorchrig_stable.so`` (csrc/stable/) defines the
``torchrig::*`` schemas and the ``torchrig_kernels::*`` CPU kernels (same schemas);
it links no CUDA library and loads beside any torch >= the stable target. The CUDA
kernels lie in one library per CUDA major (``libtorchrig_stable_cuda13.so``, ...,
listed by the build record's ``cuda_libraries``): the one of the running torch's
``torch.version.cuda`` major is loaded, none for a CPU torch (bitsandbytes picks its
CUDA library the same way). Where none fits (a CUDA major the wheel has no library for,
a ROCm or XPU torch) the CPU ops work and a GPU tensor gets :class:`NoKernelsError`,
which says what to install (:func:`missing_kernels_message`), never a loader error.
The public ops' CPU/CUDA kernels registered here call the C++ ones and
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

__all__ = ["LIBRARY", "NoKernelsError", "OPS", "RELEASED_CUDA_MAJORS", "TAGS", "bound",
           "compiled_with_cuda", "cpu_isa", "cuda_library", "eager", "load", "loaded",
           "loaded_cuda_library", "missing_kernels_message"]

LIBRARY = pathlib.Path(__file__).with_name("libtorchrig_stable.so")
# The CUDA majors whose kernel library the released wheel holds: the `cuda` legs of
# .github/workflows/wheels.yml (tests/packaging/test_wheels_workflow.py checks they agree).
RELEASED_CUDA_MAJORS = ("12", "13")
# Device keys torch may put a GPU tensor under that a wheel may have no kernels for.
GPU_KEYS = ("CUDA", "XPU", "MPS")
OPS = ("forward_kinematics", "forward_kinematics_backward", "skin", "skin_backward",
       "joint_transforms", "joint_transforms_backward")
# ops whose last argument is an optional tensor (None: the plain path all the same)
_OPTIONAL_LAST = ("joint_transforms", "joint_transforms_backward")
# kValueErrorTag / kTypeErrorTag in csrc/stable/binding.h
TAGS: dict[str, type[Exception]] = {"ValueError: ": ValueError, "TypeError: ": TypeError}

_registrations: list[torch.library.Library] = []
_path = LIBRARY  # the library load() loaded
_cuda_path: pathlib.Path | None = None  # the CUDA kernel library load() loaded, if any


class NoKernelsError(RuntimeError):
    """A torchrig op got a tensor on a device this installation has no kernels for."""


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


def cuda_library(info: dict, torch_cuda: str | None, folder: pathlib.Path) -> pathlib.Path | None:
    """The CUDA kernel library for a torch of CUDA version ``torch_cuda`` ('13.0'; None: a CPU
    or ROCm torch) among the build record's ``cuda_libraries``, in ``folder``; None if none fits."""
    if not torch_cuda:
        return None
    entry = (info.get("cuda_libraries") or {}).get(str(torch_cuda).split(".")[0])
    return folder / entry["library"] if entry else None


def missing_kernels_message(op: str, device: str, info: dict, torch_version: str,
                            torch_cuda: str | None, hip: str | None) -> str:
    """Why ``op`` has no kernel for a tensor on ``device`` ('CUDA', 'XPU', ...), and what to install."""
    have = sorted(info.get("cuda_libraries") or {}, key=int)
    held = ("CUDA " + ", ".join(have) + " kernels") if have else "no CUDA kernels"
    head = (f"torchrig.{op}: no {device} kernels for this torch ({torch_version}); this torchrig holds "
            f"CPU kernels and {held}. The CPU ops work: move the tensors to the CPU (tensor.cpu()).")
    released = " and ".join(RELEASED_CUDA_MAJORS)
    if device == "CUDA" and hip:
        return (f"{head} torchrig has no ROCm (HIP {hip}) kernels. For GPU tensors use a CUDA build of "
                f"torch (CUDA {released}) with `pip install torchrig`.")
    if device == "CUDA" and torch_cuda:
        major = str(torch_cuda).split(".")[0]
        if major in RELEASED_CUDA_MAJORS:
            return (f"{head} This torch uses CUDA {torch_cuda}; the torchrig wheel on PyPI holds CUDA "
                    f"{released} kernels, this installation was built without CUDA {major} ones. "
                    "Install the released wheel:  pip install --force-reinstall --no-deps torchrig")
        newest = RELEASED_CUDA_MAJORS[-1]
        return (f"{head} This torch uses CUDA {torch_cuda}; torchrig releases hold CUDA {released} "
                f"kernels. Install a torch of one of those majors, e.g.  pip install 'torch>=2.10' "
                f"--index-url https://download.pytorch.org/whl/cu{newest}0  or build torchrig against "
                "this torch:  TORCHRIG_ABI=stable TORCHRIG_CUDA=ON pip install --no-build-isolation .")
    if device == "CUDA":  # a CPU build of torch
        return (f"{head} This torch is a CPU build; for GPU tensors install a CUDA build of torch "
                f"(CUDA {released}):  pip install 'torch>=2.10'")
    return (f"{head} torchrig has {device} kernels in no release; only CPU and CUDA ({released}) "
            "tensors run on their device.")


def _no_kernels(op: str, device: str, info: dict) -> Callable:
    def kernel(*args):
        raise NoKernelsError(missing_kernels_message(op, device, info, torch.__version__,
                                                     torch.version.cuda, torch.version.hip))
    return kernel


def loaded_cuda_library() -> pathlib.Path | None:
    """The CUDA kernel library :func:`load` loaded (None: none, e.g. a CPU torch)."""
    return _cuda_path


def load(info: dict, path: pathlib.Path = LIBRARY) -> None:
    """Load the CPU library, the CUDA kernel library of the running torch's CUDA major when
    ``info`` (the build record) lists one, and register the public ops' kernels (once)."""
    if _registrations:
        return
    global _path, _cuda_path
    torch.ops.load_library(str(path))
    _path = pathlib.Path(path)
    cuda = cuda_library(info, torch.version.cuda, _path.parent)
    if cuda is not None:
        torch.ops.load_library(str(cuda))
        _cuda_path = cuda
    lib = torch.library.Library("torchrig", "IMPL")
    with_cuda = compiled_with_cuda()
    for op in OPS:
        kernel = getattr(torch.ops.torchrig_kernels, op).default
        lib.impl(op, _typed(kernel), "CPU")
        for key in GPU_KEYS:
            if key == "CUDA" and with_cuda:
                lib.impl(op, _typed(kernel), key)
            else:
                lib.impl(op, _no_kernels(op, key, info), key)
    _registrations.append(lib)
