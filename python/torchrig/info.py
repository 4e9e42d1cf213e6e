"""Print how torchrig was built, the running torch, whether they match, and devices.

Exit status 0 when the build matches the running torch, 1 otherwise.
"""
from __future__ import annotations

import torch

from . import _guard

__all__ = ["main"]


def main() -> int:
    info = _guard.load_build_info()
    why = _guard.mismatch(info, torch.__version__, torch.version.cuda,
                          bool(torch._C._GLIBCXX_USE_CXX11_ABI))
    print("torchrig build:")
    for key in sorted(info):
        print(f"  {key:<22} {info[key]}")
    if info.get("abi") == "stable":  # no Python module: the ops' registrations tell
        from . import _stable
        print(f"  {'library':<22} {_stable.LIBRARY.name} (torch stable ABI)")
        print(f"  {'cuda kernels':<22} {_stable.compiled_with_cuda()}")
    else:
        from . import _C
        print(f"  {'library torch (macro)':<22} {_C.compiled_torch_version()}")
        print(f"  {'cuda kernels':<22} {_C.compiled_with_cuda()}")
    try:
        from importlib.metadata import requires
        pins = [r for r in requires("torchrig") or [] if r.startswith("torch")]
    except Exception:  # not installed through pip metadata (e.g. a source tree)
        pins = []
    print(f"  {'declared requirement':<22} {', '.join(pins) or '(none recorded)'}")
    print("running:")
    print(f"  {'torch':<22} {torch.__version__} (cuda {torch.version.cuda})")
    print(f"  {'match':<22} {'yes' if why is None else 'NO: ' + why.splitlines()[0]}")
    devices = ["cpu"] + [f"cuda:{i} {torch.cuda.get_device_name(i)}"
                         for i in range(torch.cuda.device_count())]
    print(f"  {'devices':<22} {', '.join(devices)}")
    return 0 if why is None else 1
