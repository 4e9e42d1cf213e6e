"""Compile torchrig and pip-install it into the running interpreter's environment.

``pip install --no-build-isolation --no-deps -v`` against the torch installed here, with a
CMake build folder per environment and ABI (``build/<environment>/<abi>``, the environment
from ``$PIXI_ENVIRONMENT_NAME``, else ``local``), so environments and ABIs never share one
and a second run recompiles only what changed. The `build` verb (and so tools/dev-setup)
and ``test-gpu --build`` call it; build_progress.py shows the build's progress and keeps its
whole output in ``<folder>/pip-install.log``.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from . import build_progress
from .paths import REPO

__all__ = ["build_dir", "install"]


def build_dir(abi: str) -> Path:
    """``build/<environment>/<abi>`` (relative to the repository)."""
    return Path("build") / (os.environ.get("PIXI_ENVIRONMENT_NAME") or "local") / abi


def install(folder: Path, python: str = sys.executable) -> None:
    """Build with ``folder`` as CMake's build folder and install; ReleaseError when pip fails."""
    cmd = [python, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "-v",
           "--disable-pip-version-check", f"--config-settings=build-dir={folder}", str(REPO)]
    build_progress.run(cmd, what=f"building {build_progress.describe()} and installing it for {python}",
                       build_dir=folder, log_path=REPO / folder / "pip-install.log", cwd=REPO)
