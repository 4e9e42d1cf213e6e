"""Compile torchrig and pip-install it into the running interpreter's environment.

``pip install --no-build-isolation --no-deps -v`` against the torch installed here, with a
CMake build folder per environment and ABI (``build/<environment>/<abi>``, the environment
from ``$PIXI_ENVIRONMENT_NAME``, else ``local``), so environments and ABIs never share one
and a second run recompiles only what changed. The `build` verb and ``test-gpu --build``
call it.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from .errors import ReleaseError
from .paths import REPO

__all__ = ["build_dir", "install"]

log = logging.getLogger(__name__)


def build_dir(abi: str) -> Path:
    """``build/<environment>/<abi>`` (relative to the repository)."""
    return Path("build") / (os.environ.get("PIXI_ENVIRONMENT_NAME") or "local") / abi


def install(folder: Path, python: str = sys.executable) -> None:
    """Build with ``folder`` as CMake's build folder and install; ReleaseError when pip fails."""
    cmd = [python, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "-v",
           "--disable-pip-version-check", f"--config-settings=build-dir={folder}", str(REPO)]
    log.info("installing torchrig (%s): %s", ", ".join(
        f"{k}={os.environ[k]}" for k in ("TORCHRIG_ABI", "TORCHRIG_CUDA", "TORCH_CUDA_ARCH_LIST")
        if os.environ.get(k)) or "defaults", " ".join(cmd))
    if subprocess.run(cmd, cwd=REPO).returncode != 0:
        raise ReleaseError(f"the build failed (see the output above): {' '.join(cmd)}")
