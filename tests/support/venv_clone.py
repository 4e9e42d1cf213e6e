"""A scratch venv that starts as a copy of a cached torch venv: ``clone(torch, target)``.

Hard links (``cp -al``: the same disk, so under a second and no new GB; pip replaces files
rather than writing into them, so the cached venv is never changed), else a real copy. Never
``--system-site-packages``. The scenario tests install into such a copy instead of into a
fresh venv that would unpack a torch wheel (about 100 s for torch 2.13.0 CPU on 2 cores).
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from torchrig_release.paths import torch_venv_dir
from torchrig_release.venv import ensure_venv
from support.timeouts import COMMAND_S


def clone(torch_version: str, target: Path, extras: list[str] | None = None) -> Path:
    """``target``: a copy of the cached venv of ``torch_version`` (made first where absent, with
    ``extras``); returns its Python."""
    source = ensure_venv(torch_venv_dir(torch_version), torch_version, extras or []).parents[1]
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    cp = subprocess.run(["cp", "-al", str(source), str(target)], capture_output=True, timeout=COMMAND_S)
    if cp.returncode != 0:  # another disk: a real copy
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, symlinks=True)
    return target / "bin" / "python"
