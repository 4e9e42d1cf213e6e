"""Print how torchrig was built, the running torch, whether they match, and devices.

Exit status 0 when the build matches the running torch, 1 otherwise (then the
library is not loaded: the build record, the running torch and the problems
the import guard found are printed instead).
"""
from __future__ import annotations

import sys

import torch

from . import _guard

__all__ = ["cpu_isa", "main"]


def _declared_requirement() -> str:
    try:
        from importlib.metadata import requires
        pins = [r for r in requires("torchrig") or [] if r.startswith("torch")]
    except Exception:  # not installed through pip metadata (e.g. a source tree)
        pins = []
    return ", ".join(pins) or "(none recorded)"


def cpu_isa() -> str:
    """Instruction set of the CPU skinning kernels the loaded build runs on this machine
    (baseline, avx2, avx512; ``TORCHRIG_CPU_ISA`` caps it), from either build."""
    from . import _stable

    if _stable.loaded():
        return _stable.cpu_isa()
    from . import _C

    return _C.cpu_isa()


def main(refusal: _guard.GuardRefusal | _guard.MissingBuildRecord | None = None) -> int:
    """``refusal``: the guard's, when ``import torchrig`` kept it (the library is not loaded)."""
    if isinstance(refusal, _guard.MissingBuildRecord):
        print(f"python -m torchrig info: {refusal}", file=sys.stderr)
        return 1
    info = refusal.info if refusal else _guard.load_build_info()
    torch_env = refusal.torch_env if refusal else _guard.TorchEnv.running()
    found = refusal.problems if refusal else _guard.problems(info, torch_env)
    print("torchrig build:")
    for key in sorted(info):
        print(f"  {key:<22} {info[key]}")
    if refusal is None and info.get("abi") == "stable":  # no Python module: the ops' registrations tell
        from . import _stable

        print(f"  {'library':<22} {_stable.LIBRARY.name} (torch stable ABI)")
        cuda = _stable.loaded_cuda_library()
        held = ", ".join(f"CUDA {m}" for m in sorted(info.get("cuda_libraries") or {}, key=int)) or "none"
        print(f"  {'cuda libraries':<22} {held}")
        print(f"  {'cuda kernels':<22} {cuda.name if cuda else 'not loaded (none for this torch)'}")
    elif refusal is None:
        from . import _C

        print(f"  {'library torch (macro)':<22} {_C.compiled_torch_version()}")
        print(f"  {'cuda kernels':<22} {_C.compiled_with_cuda()}")
    if refusal is None:
        print(f"  {'cpu kernels':<22} {cpu_isa()}")
    else:
        print(f"  {'library':<22} not loaded (the import guard refused this torch)")
    print(f"  {'declared requirement':<22} {_declared_requirement()}")
    print("running:")
    print(f"  {'torch':<22} {torch_env.version} (cuda {torch_env.cuda})")
    print(f"  {'match':<22} {'yes' if not found else 'NO: ' + '; '.join(p.message for p in found)}")
    devices = ["cpu"] + [f"cuda:{i} {torch.cuda.get_device_name(i)}"
                         for i in range(torch.cuda.device_count())]
    print(f"  {'devices':<22} {', '.join(devices)}")
    if found:
        print("\n" + _guard.format_problems(info, torch_env, found))
    return 0 if not found else 1
