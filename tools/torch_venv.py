#!/usr/bin/env python3
"""Create (or reuse) a virtual environment holding one torch version.

Used by the cross-version scenario tests and the CUDA compile check, e.g.
``tools/torch_venv.py --torch 2.14.1 --dir .cache/venv-torch2.14.1``. The venv
is reused when its stamp file records the same request; prints its path.
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import pathlib
import subprocess
import sys
import time


def cache_root() -> pathlib.Path:
    """The machine-wide cache shared by every checkout and CI's fresh clone."""
    base = os.environ.get("XDG_CACHE_HOME") or str(pathlib.Path.home() / ".cache")
    return pathlib.Path(os.environ.get("TORCHRIG_CACHE") or pathlib.Path(base) / "torchrig")


def cached_venv_dir(python_version: str, torch_version: str) -> pathlib.Path:
    """``<cache>/venv-py3.11-torch2.14.1``: one venv per Python minor and torch."""
    return cache_root() / f"venv-py{python_version}-torch{torch_version}"


def ensure_venv(directory: pathlib.Path, torch_version: str, extra: list[str],
                python: str = sys.executable, env: dict[str, str] | None = None) -> pathlib.Path:
    """Return ``directory/bin/python`` of a venv with ``torch==torch_version`` + ``extra``.

    A venv with that torch is reused when it holds ``extra`` already (it may
    hold more: venvs in the shared cache serve several users); missing extras
    are added. ``env`` is the environment of its pip calls (e.g. a lifted
    constraint for a torch above the machine's pip cap). Concurrent callers
    (other checkouts sharing the cache) wait on ``<directory>.lock``.
    """
    directory.parent.mkdir(parents=True, exist_ok=True)
    with open(directory.with_name(directory.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure_venv_locked(directory, torch_version, extra, python, env)


def _ensure_venv_locked(directory: pathlib.Path, torch_version: str, extra: list[str],
                        python: str, env: dict[str, str] | None) -> pathlib.Path:
    stamp = directory / "torchrig-venv.json"
    py = directory / "bin" / "python"
    have = json.loads(stamp.read_text()) if stamp.is_file() and py.exists() else None
    if have is not None and have.get("torch") == torch_version:
        missing = sorted(set(extra) - set(have.get("extra", [])))
        if missing:
            subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                            *missing], check=True, env=env)
            stamp.write_text(json.dumps({"torch": torch_version,
                                         "extra": sorted(set(have.get("extra", [])) | set(extra))}))
        return py
    want = {"torch": torch_version, "extra": sorted(extra)}
    start = time.monotonic()
    print(f"[torch_venv] creating {directory} with torch=={torch_version} {' '.join(extra)}",
          file=sys.stderr, flush=True)
    subprocess.run([python, "-m", "venv", "--clear", str(directory)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    f"torch=={torch_version}", *extra], check=True, env=env)
    stamp.write_text(json.dumps(want))
    print(f"[torch_venv] ready in {time.monotonic() - start:.0f}s", file=sys.stderr, flush=True)
    return py


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--torch", required=True, help="torch version to install, e.g. 2.14.1")
    p.add_argument("--dir", required=True, type=pathlib.Path, help="venv directory")
    p.add_argument("extra", nargs="*", help="further requirements (e.g. numpy pytest)")
    args = p.parse_args()
    print(ensure_venv(args.dir.resolve(), args.torch, args.extra))


if __name__ == "__main__":
    main()
