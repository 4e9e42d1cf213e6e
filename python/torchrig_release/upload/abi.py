"""The ABI gate: every package must pass tools/abi_check.py before it is sent."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from .packages import Package, UploadError

REPO = Path(__file__).resolve().parents[2]
ABI_CHECK = REPO / "tools" / "abi_check.py"
ABI_CHECK_ENV = "TORCHRIG_ABI_CHECK"  # a stand-in checker script (the tests use one)
TORCH_VENVS = REPO / ".cache"  # abi_check.py's --venv-root default
TORCH_VENV = re.compile(r"venv-torch(\d+(?:\.\d+)+)")


def torches_for(package: Package, venv_root: Path = TORCH_VENVS) -> list[str]:
    """The torch venvs under ``venv_root`` (``venv-torch<version>``, as versions) that
    the package's pytorch/libtorch dependencies admit."""
    from rattler import MatchSpec, Version, VersionSpec

    ranges = [MatchSpec(d).version for d in package.depends
              if d.split()[0] in ("pytorch", "libtorch")]
    found = [m.group(1) for d in venv_root.glob("venv-torch*")
             if (m := TORCH_VENV.fullmatch(d.name)) and d.is_dir()]
    return sorted(v for v in found
                  if all(VersionSpec(r).matches(Version(v)) for r in ranges if r))


def abi_check(packages: list[Package], torches: list[str], secret_names: Iterable[str] = (),
              venv_root: Path = TORCH_VENVS) -> None:
    """Run the ABI check on every package against ``torches`` (else the admitted torch
    venvs); refuse (UploadError) if any fails. The checker's environment lacks the
    variables ``secret_names``: it has no use for a token."""
    override = os.environ.get(ABI_CHECK_ENV)
    checker = Path(override) if override else ABI_CHECK
    if not checker.is_file():
        raise UploadError(f"abi-check not available: {checker} is missing; nothing is uploaded "
                          "without it", 2)
    if override:
        print(f"abi-check: using {checker} (from ${ABI_CHECK_ENV}), not tools/abi_check.py")
    env = {k: v for k, v in os.environ.items() if k not in set(secret_names)}
    failed = []
    for package in packages:
        against = torches or torches_for(package, venv_root)
        if not against:
            raise UploadError(
                f"abi-check: no torch to check {package.path.name} against: pass --torch (an "
                "environment with the torch it was built for, e.g. .venv) or create "
                f"{venv_root}/venv-torch<version> with tools/torch_venv.py", 2)
        result = subprocess.run(
            [sys.executable, str(checker), str(package.path),
             *(arg for torch in against for arg in ("--torch", torch))],
            env=env, capture_output=True, text=True, check=False)
        verdict = "ok    " if result.returncode == 0 else "FAILED"
        print(f"abi-check: {verdict} {package.path.name} (torch: {', '.join(against)})")
        if result.returncode != 0:
            print(f"{result.stdout}{result.stderr}".rstrip(), file=sys.stderr)
            failed.append(package.path.name)
    if failed:
        raise UploadError(f"refused: the ABI check failed for {', '.join(failed)}; "
                          "nothing uploaded")
