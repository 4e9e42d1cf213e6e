"""The build-tool list: pyproject.toml's [build-system] requires is its one owner; this reads it.

``specs()`` -> ['scikit-build-core>=0.10', 'pybind11>=2.12', 'cmake>=3.26', 'ninja'] (torch
left out: each caller chooses its torch); ``names()`` -> the bare names. recipe.yaml,
pixi.toml's `build` feature and requirements/dev.txt are checked against it by
tests/packaging/test_build_requirements.py; the sanitizer build and the venv-based tests read it.
"""
from __future__ import annotations

import re

from .paths import REPO

__all__ = ["names", "split", "specs"]

TORCH = "torch"


def split(requirement: str) -> tuple[str, str]:
    """'cmake>=3.26' -> ('cmake', '>=3.26'); 'ninja' -> ('ninja', ''); names normalised
    (lower case, '_' -> '-'), environment markers dropped."""
    requirement = requirement.split(";")[0].strip()
    name, spec = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", requirement).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def specs() -> list[str]:
    """[build-system] requires of pyproject.toml, less torch."""
    from .pixi import load_toml

    requires = load_toml(REPO / "pyproject.toml")["build-system"]["requires"]
    return [r for r in requires if split(r)[0] != TORCH]


def names() -> list[str]:
    """The bare package names of :func:`specs` ('scikit-build-core', ...)."""
    return [split(r)[0] for r in specs()]
