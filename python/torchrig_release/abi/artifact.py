"""A built torchrig, whatever its wrapping: wheel, conda package, or installed.

* ``*.whl``: unzipped to a temporary directory; declared range from METADATA.
* ``*.conda`` / ``*.tar.bz2``: extracted with conda-package-handling; declared
  range from ``info/index.json`` ``depends``.
* an installed torchrig: its package directory, the site-packages holding it, or
  the environment (venv/conda prefix, or its python). Declared range from the
  environment's ``conda-meta`` record when conda installed it, else from the
  ``torchrig-*.dist-info``.

Each gives the package directory, its extension modules (``*.so``), the
recorded ``_build_info.json`` and the artifact's own ``_guard.py`` (the code
``import torchrig`` runs first), loaded as a module without importing torchrig.
"""
from __future__ import annotations

import contextlib
import importlib.metadata
import json
import re
import tempfile
import types
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import ArtifactError
from ..library import library_module
from .declared import CondaRange, Declared, PipRange
from .torch_install import env_root

__all__ = ["Artifact", "open_artifact"]

PACKAGE = "torchrig"
CONDA_SUFFIXES = (".conda", ".tar.bz2")


@dataclass
class Artifact:
    spec: str
    kind: str                 # "wheel" | "conda" | "installed"
    package_dir: Path
    extensions: list[Path]
    build_info: dict
    declared: Declared
    guard: types.ModuleType   # the artifact's torchrig/_guard.py

    def relative(self, path: Path) -> str:
        return str(path.relative_to(self.package_dir.parent))


def _load_guard(package_dir: Path) -> types.ModuleType:
    if not (package_dir / "_guard.py").is_file():
        raise ArtifactError(f"{package_dir} has no _guard.py: not a torchrig package")
    return library_module("_guard", package_dir)  # its own _torch_version.py beside it


# torchrig, or a retired flavour distribution of an earlier release (python/torchrig/_torch_version.py);
# never another distribution whose name starts so (torchrig-release, the release tooling)
DISTRIBUTIONS = {PACKAGE, *(f"{PACKAGE}-{flavour}" for flavour in ("cpu", "cu13", "stable-cpu", "stable-cu13"))}


def _pip_range(site: Path, source: str) -> Declared:
    dists = [d for d in importlib.metadata.distributions(path=[str(site)])
             if re.sub(r"[-_.]+", "-", d.metadata["Name"] or "").lower() in DISTRIBUTIONS]
    if not dists:
        raise ArtifactError(f"no {PACKAGE} dist-info in {site}: cannot read the declared torch range")
    return PipRange.from_requires(dists[0].requires or [], source)


def _find_package(root: Path) -> Path:
    """The torchrig package directory at or below ``root`` (a prefix, venv or site dir)."""
    if (root / "_build_info.json").is_file():
        return root
    for candidate in [root / PACKAGE, *sorted(root.glob(f"lib/python*/site-packages/{PACKAGE}"))]:
        if (candidate / "_guard.py").is_file():
            return candidate
    raise ArtifactError(f"no installed {PACKAGE} package found under {root}")


def _conda_meta_range(prefix: Path) -> Declared | None:
    records = sorted(prefix.glob(f"conda-meta/{PACKAGE}-*.json"))
    if not records:
        return None
    depends = json.loads(records[-1].read_text()).get("depends", [])
    return CondaRange.from_depends(depends, f"{records[-1].name} depends")


def _build(spec: str, kind: str, package_dir: Path, declared: Declared) -> Artifact:
    guard = _load_guard(package_dir)
    extensions = sorted(package_dir.rglob("*.so"))
    if not extensions:
        raise ArtifactError(f"{package_dir} holds no extension module (*.so): nothing to check")
    return Artifact(spec=spec, kind=kind, package_dir=package_dir, extensions=extensions,
                    build_info=guard.load_build_info(package_dir / "_build_info.json"),
                    declared=declared, guard=guard)


@contextlib.contextmanager
def open_artifact(spec: str) -> Iterator[Artifact]:
    """Unpack (if needed) and describe the artifact named by ``spec``."""
    path = Path(spec).absolute()
    if not path.exists():
        raise ArtifactError(f"{spec}: no such file or directory")
    if path.is_file() and path.suffix == ".whl":
        with tempfile.TemporaryDirectory(prefix="abi-check-") as tmp:
            with zipfile.ZipFile(path) as zf:
                zf.extractall(tmp)
            site = Path(tmp)
            yield _build(spec, "wheel", _find_package(site), _pip_range(site, "METADATA Requires-Dist"))
    elif path.is_file() and path.name.endswith(CONDA_SUFFIXES):
        from conda_package_handling import api

        with tempfile.TemporaryDirectory(prefix="abi-check-") as tmp:
            api.extract(str(path), tmp)
            prefix = Path(tmp)
            depends = json.loads((prefix / "info" / "index.json").read_text()).get("depends", [])
            yield _build(spec, "conda", _find_package(prefix),
                         CondaRange.from_depends(depends, "info/index.json depends"))
    else:
        root = path.parent.parent if path.is_file() else path   # bin/python -> environment
        package_dir = _find_package(root)
        site = package_dir.parent
        declared = _conda_meta_range(env_root(site)) or _pip_range(site, "dist-info Requires-Dist")
        yield _build(spec, "installed", package_dir, declared)
