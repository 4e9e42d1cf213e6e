"""Where things are: the repository, its recipe and manifests, and the machine-wide cache.

The one definition of the repository root (this file is python/torchrig_release/paths.py)
and of the cache shared by every checkout and CI's fresh clone:
``${TORCHRIG_CACHE:-${XDG_CACHE_HOME:-~/.cache}/torchrig}``; big things in it are keyed by
version (``venv-py3.11-torch2.14.1``), never several GB under the repository.
"""
from __future__ import annotations

import json
import os
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
RECIPE = REPO / "recipe" / "recipe.yaml"
VARIANTS = REPO / "recipe" / "variants.yaml"
MANIFEST = REPO / "pixi.toml"
OUTPUT_DIR = REPO / "output"
LIBRARY = REPO / "python" / "torchrig"

__all__ = ["LIBRARY", "MANIFEST", "OUTPUT_DIR", "RECIPE", "REPO", "VARIANTS", "cache_dir",
           "cache_entry", "python_tag", "torch_venv_dir", "torch_venv_name"]
# With this variable naming a file, every cache_entry() call appends one JSON line to it:
# {"entry", "existed", "by"} ("by": the pytest test running, from PYTEST_CURRENT_TEST, which
# subprocesses inherit). tests/conftest.py reads it for the cache report of the slow suites.
CACHE_LOG = "TORCHRIG_CACHE_LOG"


def cache_dir() -> pathlib.Path:
    """``${TORCHRIG_CACHE:-${XDG_CACHE_HOME:-~/.cache}/torchrig}`` (read at each call)."""
    if os.environ.get("TORCHRIG_CACHE"):
        return pathlib.Path(os.environ["TORCHRIG_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(xdg).expanduser() / "torchrig"


def cache_entry(name: str) -> pathlib.Path:
    """``cache_dir() / name``: the one way into the machine-wide cache, logged where
    ``$TORCHRIG_CACHE_LOG`` is set (see :data:`CACHE_LOG`)."""
    path = cache_dir() / name
    log = os.environ.get(CACHE_LOG)
    if log:
        record = {"entry": name, "existed": path.exists(),
                  "by": os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]}
        with open(log, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
    return path


def python_tag(version_info=sys.version_info) -> str:
    """'py3.11' for this interpreter."""
    return f"py{version_info[0]}.{version_info[1]}"


def torch_venv_name(torch_version: str, python: str | None = None) -> str:
    """``venv-py3.11-torch2.14.1``: the name of the venv holding ``torch==torch_version`` for a
    Python ('3.11'; default this one), in the cache or any other venv root."""
    tag = f"py{python}" if python else python_tag()
    return f"venv-{tag}-torch{torch_version}"


def torch_venv_dir(torch_version: str, python: str | None = None) -> pathlib.Path:
    """The cached venv holding ``torch==torch_version`` for a Python ('3.11'; default this one)."""
    return cache_entry(torch_venv_name(torch_version, python))
