"""Build one torchrig wheel against the torch of this Python and give it its flavour's name.

``pip wheel --no-build-isolation --no-deps .`` (the torch compiled against must be the one
installed); the switches pass through the environment to CMake (pyproject.toml):
TORCHRIG_CUDA (OFF: CPU flavour, ON: CUDA kernels), TORCH_CUDA_ARCH_LIST, and TORCHRIG_ABI
(``classic``, the default: one torch minor, a cp3XX wheel; ``stable``: the stable-ABI build,
one py3-none wheel for every torch >= python/torchrig/_stable_target.py, docs/stable-abi.md).
The wheel is then renamed to its distribution (``_torch_version.distribution``: torchrig-cpu,
torchrig-cu13; stable: torchrig-stable-cpu, torchrig-stable-cu13), read from its own build
record (``with_cuda``, ``torch_cuda``, ``abi``).
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ..library import library_module
from ..paths import REPO
from ..errors import WheelError
from .archive import build_info, rename

__all__ = ["build_wheel", "flavour_name"]

log = logging.getLogger(__name__)
PASSED_THROUGH = ("TORCHRIG_CUDA", "TORCH_CUDA_ARCH_LIST", "TORCHRIG_ABI", "CUDA_HOME", "CUDACXX")


def flavour_name(info: dict) -> str:
    """The distribution name of a build record: torchrig[-stable]-cpu unless CUDA kernels are
    in it, then torchrig[-stable]-cu<major>; ``-stable`` for ``"abi": "stable"``."""
    tv = library_module("_torch_version")
    return tv.distribution(info.get("torch_cuda") if info.get("with_cuda") else None,
                           abi=info.get("abi") or "classic")


def build_wheel(out_dir: Path, python: str = sys.executable, source: Path = REPO) -> Path:
    """Build, rename, and return the wheel in ``out_dir`` (WheelError when pip fails)."""
    switches = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
    log.info("building a wheel with %s (%s)", python,
             ", ".join(f"{k}={v}" for k, v in switches.items()) or "TORCHRIG_CUDA=OFF")
    with tempfile.TemporaryDirectory(prefix="torchrig-wheel-") as tmp:
        cmd = [python, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
               "--disable-pip-version-check", "-w", tmp, str(source)]
        if subprocess.run(cmd, cwd=source).returncode != 0:
            raise WheelError(f"the wheel build failed (see the output above): {' '.join(cmd)}")
        built = sorted(Path(tmp).glob("torchrig-*.whl"))
        if len(built) != 1:
            raise WheelError(f"pip wheel made {len(built)} torchrig wheels in {tmp}, expected one")
        name = flavour_name(build_info(built[0]))
        out = rename(built[0], name, out_dir)
    log.info("built %s", out)
    return out
