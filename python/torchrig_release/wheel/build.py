"""Build the one torchrig wheel (or a classic one) against the torch of this Python.

``pip wheel --no-build-isolation --no-deps .`` (the torch compiled against must be the one
installed); the switches pass through the environment to CMake (pyproject.toml):
TORCHRIG_ABI (``stable``, build-wheel's default: the one wheel for a package index, a
py3-none wheel for every torch >= python/torchrig/_stable_target.py, CPU kernels in
libtorchrig_stable.so; ``classic``: one torch minor, a cp3XX wheel, for local use only:
``check`` refuses it for an index), TORCHRIG_CUDA (ON: also the CUDA kernel library of
nvcc's CUDA major, libtorchrig_stable_cuda<major>.so) and TORCH_CUDA_ARCH_LIST (default for
the stable CUDA library: torch's own list, cmake/cuda-arch-lists.txt ``wheel-cu<major>``).
The distribution is ``torchrig`` either way; ``merge-wheels`` joins the CUDA libraries of
builds with different CUDA majors into one wheel. build_progress.py shows the build's progress
and keeps its whole output in ``<out_dir>/../build-wheel.log``; the CMake folder is
pyproject.toml's ``build/{wheel_tag}`` (or $SKBUILD_BUILD_DIR).
"""
from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from .. import build_progress
from ..errors import WheelError
from ..paths import REPO

__all__ = ["DEFAULT_ABI", "build_wheel"]

log = logging.getLogger(__name__)
PASSED_THROUGH = ("TORCHRIG_CUDA", "TORCH_CUDA_ARCH_LIST", "TORCHRIG_ABI", "CUDA_HOME", "CUDACXX")
DEFAULT_ABI = "stable"  # the one wheel of a package index; build-wheel's --help says it from here


def build_wheel(out_dir: Path, python: str = sys.executable, source: Path = REPO,
                timeout: float | None = None) -> Path:
    """Build and return the wheel in ``out_dir`` (WheelError, with the compiler's error, when pip
    fails or runs past ``timeout`` seconds)."""
    switches = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
    switches.setdefault("TORCHRIG_ABI", DEFAULT_ABI)
    env = {**os.environ, **switches}
    with tempfile.TemporaryDirectory(prefix="torchrig-wheel-") as tmp:
        cmd = [python, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-v",
               "--disable-pip-version-check", "-w", tmp, str(source)]
        what = f"building a wheel of {build_progress.describe(env)} against the torch of {python}"
        build_progress.run(cmd, what=what, cwd=source, env=env, error=WheelError, timeout=timeout,
                           build_dir=env.get("SKBUILD_BUILD_DIR") or source / "build" / "{wheel_tag}",
                           log_path=out_dir.parent / "build-wheel.log")
        built = sorted(Path(tmp).glob("torchrig-*.whl"))
        if len(built) != 1:
            raise WheelError(f"pip wheel made {len(built)} torchrig wheels in {tmp}, expected one")
        out_dir.mkdir(parents=True, exist_ok=True)
        out = out_dir / built[0].name
        shutil.copyfile(built[0], out)
    log.info("built %s", out)
    return out
