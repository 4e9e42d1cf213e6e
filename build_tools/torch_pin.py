"""scikit-build-core dynamic-metadata provider: the torch requirement.

PyTorch has no stable C++ ABI across minor versions, so a wheel compiled
against torch X.Y.* must declare ``torch>=X.Y,<X.(Y+1)``. The bound is read
from the torch installed in the build environment (build with
``--no-build-isolation`` so that is the torch you compile against), never
hard-coded.

A stable-ABI build (``TORCHRIG_ABI=stable``, the variable pyproject.toml passes
to CMake) loads in every torch from its target on: ``torch>=2.10``, the target
read from python/torchrig/_stable_target.py (its one owner).
"""
from __future__ import annotations

import os
import pathlib
import runpy
from collections.abc import Mapping
from typing import Any

TARGET_FILE = pathlib.Path(__file__).resolve().parents[1] / "python" / "torchrig" / "_stable_target.py"


def torch_requirement(version: str) -> str:
    """'2.13.0+cpu' -> 'torch>=2.13,<2.14'."""
    major, minor = (int(x) for x in version.split("+")[0].split(".")[:2])
    return f"torch>={major}.{minor},<{major}.{minor + 1}"


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

    return [torch_requirement(torch.__version__), *extra]
