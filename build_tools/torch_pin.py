"""scikit-build-core dynamic-metadata provider: the torch requirement.

PyTorch has no stable C++ ABI across minor versions, so a wheel compiled
against torch X.Y.* must declare ``torch>=X.Y,<X.(Y+1)``. The bound is read
from the torch installed in the build environment (build with
``--no-build-isolation`` so that is the torch you compile against), never
hard-coded. The version is parsed by python/torchrig/_torch_version.py, loaded
by path: torchrig is not installed while it is being built.

A stable-ABI build (``TORCHRIG_ABI=stable``, the variable pyproject.toml passes
to CMake) loads in every torch from its target on: ``torch>=2.10``, the target
read from python/torchrig/_stable_target.py (its one owner).
"""
from __future__ import annotations

import importlib.util
import os
import pathlib
import runpy
from collections.abc import Mapping
from typing import Any

_LIBRARY = pathlib.Path(__file__).resolve().parents[1] / "python" / "torchrig"
_spec = importlib.util.spec_from_file_location("_torchrig_build_torch_version",
                                               _LIBRARY / "_torch_version.py")
_torch_version = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_torch_version)
TARGET_FILE = _LIBRARY / "_stable_target.py"


def torch_requirement(version: str, cuda: bool = False) -> str:
    """'2.13.0+cpu' -> 'torch>=2.13,<2.14'; a CUDA build (TORCHRIG_CUDA=ON) also excludes
    CPU torches (``_torch_version.requirement``)."""
    return _torch_version.requirement(version, cuda=cuda)


def cuda_requested() -> bool:
    """TORCHRIG_CUDA as pyproject.toml passes it to CMake (ON/1/TRUE/YES)."""
    return os.environ.get("TORCHRIG_CUDA", "OFF").upper() in ("ON", "1", "TRUE", "YES")


def stable_requirement(target_file: pathlib.Path = TARGET_FILE) -> str:
    """'torch>=2.10' for the stable ABI target."""
    return "torch>={}".format(runpy.run_path(str(target_file))["target_str"]())


def dynamic_metadata(field: str, settings: Mapping[str, Any] | None = None) -> list[str]:
    if field != "dependencies":
        raise RuntimeError(f"torch_pin only provides 'dependencies', not {field!r}")
    extra = list((settings or {}).get("extra", []))
    if os.environ.get("TORCHRIG_ABI", "classic") == "stable":
        return [stable_requirement(), *extra]
    import torch  # the build environment's torch, i.e. the one compiled against

    return [torch_requirement(torch.__version__, cuda_requested()), *extra]
