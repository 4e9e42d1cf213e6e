"""The library's pure-Python modules, read from a torchrig package folder without importing it.

``import torchrig`` runs its __init__, which loads the compiled _C (absent in a source
tree, possibly mismatched in an artifact). The release tooling needs only
``_torch_version`` (the one torch-version parser) and an artifact's own ``_guard``:
:func:`library_module` loads those from any package folder, each folder under its own
private package name so that their relative imports resolve inside that folder.
"""
from __future__ import annotations

import importlib
import pathlib
import sys
import types

from .paths import LIBRARY

__all__ = ["library_module", "torch_version"]


def library_module(name: str, package_dir: pathlib.Path = LIBRARY) -> types.ModuleType:
    """``torchrig.<name>`` from ``package_dir``, without running its ``__init__``."""
    package = f"_torchrig_at_{abs(hash(str(pathlib.Path(package_dir).resolve())))}"
    if package not in sys.modules:
        stub = types.ModuleType(package)
        stub.__path__ = [str(package_dir)]
        sys.modules[package] = stub
    return importlib.import_module(f"{package}.{name}")


# python/torchrig/_torch_version.py: minor_of, minor_text, requirement, flavour, flavour_tag
torch_version = library_module("_torch_version")
