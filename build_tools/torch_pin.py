"""scikit-build-core dynamic-metadata provider: the torch requirement.

PyTorch has no stable C++ ABI across minor versions, so a wheel compiled
against torch X.Y.* must declare ``torch>=X.Y,<X.(Y+1)``. The bound is read
from the torch installed in the build environment (build with
``--no-build-isolation`` so that is the torch you compile against), never
hard-coded.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def torch_requirement(version: str) -> str:
    """'2.13.0+cpu' -> 'torch>=2.13,<2.14'."""
    major, minor = (int(x) for x in version.split("+")[0].split(".")[:2])
    return f"torch>={major}.{minor},<{major}.{minor + 1}"


def dynamic_metadata(field: str, settings: Mapping[str, Any] | None = None) -> list[str]:
    if field != "dependencies":
        raise RuntimeError(f"torch_pin only provides 'dependencies', not {field!r}")
    import torch  # the build environment's torch, i.e. the one compiled against

    extra = list((settings or {}).get("extra", []))
    return [torch_requirement(torch.__version__), *extra]
