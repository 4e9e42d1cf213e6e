"""A torch installation to check against: where it is and what it is.

A ``--torch`` argument is one of
  * a torch package directory (``.../site-packages/torch``),
  * a site-packages directory holding ``torch/``,
  * a virtual environment or conda prefix (its ``bin/python``), or its python,
  * a version such as ``2.14.1``: the venv ``<venv-root>/venv-py3.11-torch2.14.1`` made by
    ``torchrig-release venv --torch 2.14.1`` (venv-root: the machine-wide cache).
Its facts (version, CUDA, cxx11 ABI, Python) come from importing that torch in
its own interpreter, in a subprocess: the same values torchrig's import-time
guard will see. Nothing is installed or changed.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from ..errors import TorchNotFound
from ..library import torch_version
from ..paths import torch_venv_name

__all__ = ["TorchInstall", "env_root", "resolve"]

# Prints the facts of the torch found first on sys.path (a site directory to look in first
# comes through PYTHONPATH).
# lib_dir is where the libc10.so that torch loaded lives: torch/lib for a pip
# torch, $PREFIX/lib for conda-forge's (its libtorch package).
_PROBE = """
import json, os, sys
import torch

def lib_dir():
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split(maxsplit=5)[-1].strip()
            if os.path.basename(path).startswith("libc10.so"):
                return os.path.dirname(path)
    return os.path.join(os.path.dirname(os.path.abspath(torch.__file__)), "lib")

print(json.dumps({
    "version": torch.__version__,
    "cuda": torch.version.cuda,
    "git_version": getattr(torch.version, "git_version", None),
    "cxx11_abi": bool(torch._C._GLIBCXX_USE_CXX11_ABI),
    "path": os.path.dirname(os.path.abspath(torch.__file__)),
    "lib_dir": lib_dir(),
    "python_version": "%d.%d" % sys.version_info[:2],
}))
"""


@dataclass(frozen=True)
class TorchInstall:
    """Facts about one torch installation."""

    spec: str            # the argument as given
    python: str          # interpreter that imported it
    version: str         # torch.__version__, e.g. '2.14.1+cu130'
    cuda: str | None     # torch.version.cuda, None for a CPU build
    git_version: str | None
    cxx11_abi: bool
    path: str            # the torch package directory
    lib_dir: str         # holds libtorch*.so, libc10*.so (torch/lib, or a conda $PREFIX/lib)
    python_version: str  # '3.11'

    @property
    def minor(self) -> tuple[int, int]:
        return torch_version.minor_of(self.version)

    @property
    def flavour(self) -> str:
        return torch_version.flavour(self.cuda)

    def to_json(self) -> dict:
        return asdict(self)


def env_root(site: Path) -> Path:
    """The environment holding a site-packages dir (site-packages -> lib/pythonX.Y -> lib -> root)."""
    return site.parents[2] if len(site.parents) > 2 else site


def _env_python(root: Path) -> Path | None:
    py = root / "bin" / "python"
    return py if py.exists() else None


def _locate(spec: str, venv_root: Path) -> tuple[Path, Path | None]:
    """(interpreter, site directory to put first on its path, or None)."""
    path = Path(spec)
    if not path.exists():
        try:
            Version(spec)
        except InvalidVersion:
            raise TorchNotFound(f"{spec!r} is neither a path nor a torch version") from None
        venv = venv_root / torch_venv_name(spec)
        if _env_python(venv) is None:
            raise TorchNotFound(
                f"no venv for torch {spec} at {venv}; create it with "
                f"`python -m torchrig_release venv --torch {spec} --dir {venv}` or pass a path")
        return _env_python(venv), None
    path = path.absolute()
    if path.is_file():                                   # an interpreter
        return path, None
    if (path / "__init__.py").is_file() and path.name == "torch":
        site = path.parent
    elif (path / "torch" / "__init__.py").is_file():
        site = path
    elif _env_python(path) is not None:                  # venv or conda prefix
        return _env_python(path), None
    else:
        raise TorchNotFound(f"{path} holds no torch package, site-packages or environment")
    # the environment's own python can import it (its ABI matches)
    return _env_python(env_root(site)) or Path(sys.executable), site


def resolve(spec: str, venv_root: Path) -> TorchInstall:
    """Find and probe the torch installation named by ``spec``."""
    python, site = _locate(spec, venv_root)
    # -s: no user site-packages; PYTHONPATH: only the site directory asked for (if any)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    if site:
        env["PYTHONPATH"] = str(site)
    proc = subprocess.run([str(python), "-s", "-c", _PROBE], capture_output=True, text=True,
                          env=env, cwd=tempfile.gettempdir())
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise TorchNotFound(f"cannot import torch from {spec} with {python}: {tail}")
    facts = json.loads(proc.stdout.strip().splitlines()[-1])
    return TorchInstall(spec=spec, python=str(python), **facts)
