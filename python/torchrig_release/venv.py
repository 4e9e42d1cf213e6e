"""Create (or reuse) a virtual environment holding one torch version (the `venv` verb).

Used by abi-check / upload (torch versions named by number), the sanitizer build, and
the cross-version scenario and CUDA compile tests. Venvs live in the machine-wide cache,
``<cache>/venv-py3.11-torch2.14.1`` (paths.torch_venv_dir); one is reused when its
stamp file records the same request.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import pathlib
import subprocess
import sys
import time

__all__ = ["ensure_venv"]

log = logging.getLogger(__name__)


def ensure_venv(directory: pathlib.Path, torch_version: str, extra: list[str],
                python: str = sys.executable, env: dict[str, str] | None = None) -> pathlib.Path:
    """Return ``directory/bin/python`` of a venv with ``torch==torch_version`` + ``extra``.

    The cache is shared by every checkout: a venv with the same torch and at least these
    extras is reused as it is; one with the same torch but fewer extras gets the missing
    ones added (never cleared: another checkout may be using it); only a venv with another
    torch, or none, is (re)created. ``env`` is the environment of its pip calls (default: this
    process's). Machine-wide pip constraints are lifted (``PIP_CONSTRAINT`` empty): the torch
    is pinned exactly, and a cap such as ``torch<=2.14.1`` in /etc/xdg/pip would otherwise make
    the venv of a newer torch depend on which test happened to create it first. Concurrent
    callers (other checkouts sharing the cache) wait on ``<directory>.lock``.
    """
    env = {**(os.environ if env is None else env), "PIP_CONSTRAINT": os.devnull}
    directory.parent.mkdir(parents=True, exist_ok=True)
    with open(directory.with_name(directory.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure_venv_locked(directory, torch_version, extra, python, env)


def _ensure_venv_locked(directory: pathlib.Path, torch_version: str, extra: list[str],
                        python: str, env: dict[str, str] | None) -> pathlib.Path:
    stamp = directory / "torchrig-venv.json"
    py = directory / "bin" / "python"
    have = json.loads(stamp.read_text()) if stamp.is_file() and py.exists() else None
    if have and have.get("torch") == torch_version:
        missing = sorted(set(extra) - set(have.get("extra", [])))
        if missing:
            log.info("adding %s to %s", " ".join(missing), directory)
            subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                            f"torch=={torch_version}", *missing], check=True, env=env)
            stamp.write_text(json.dumps({"torch": torch_version,
                                         "extra": sorted(set(have.get("extra", [])) | set(extra))}))
        return py
    want = {"torch": torch_version, "extra": sorted(extra)}
    start = time.monotonic()
    log.info("creating %s with torch==%s %s", directory, torch_version, " ".join(extra))
    subprocess.run([python, "-m", "venv", "--clear", str(directory)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    f"torch=={torch_version}", *extra], check=True, env=env)
    stamp.write_text(json.dumps(want))
    log.info("ready in %.0fs", time.monotonic() - start)
    return py
