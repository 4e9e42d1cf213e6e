"""The ABI gate: every package must pass the ABI check (in-process) before it is sent."""
from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..errors import UploadError
from ..paths import cache_dir, torch_venv_name
from .packages import Package

__all__ = ["Checker", "abi_check", "real_check", "torches_for"]

# (package file, torch specs) -> (passed, the report text to show when it did not)
Checker = Callable[[Path, list[str]], tuple[bool, str]]
# (the line saying how one package fared, its report when it failed / None)
Show = Callable[[str, "str | None"], object]


def torch_venv_pattern() -> re.Pattern[str]:
    """``venv-py3.11-torch<version>``: the cached torch venvs of this Python."""
    return re.compile(re.escape(torch_venv_name("@")).replace("@", r"(\d+(?:\.\d+)+)"))


def torches_for(package: Package, venv_root: Path | None = None) -> list[str]:
    """The torch venvs under ``venv_root`` (``venv-pyX.Y-torch<version>``, as versions) that
    the package's pytorch/libtorch dependencies admit."""
    from rattler import MatchSpec, Version, VersionSpec

    venv_root = venv_root or cache_dir()
    ranges = [MatchSpec(d).version for d in package.depends
              if d.split()[0] in ("pytorch", "libtorch")]
    pattern = torch_venv_pattern()
    found = [m.group(1) for d in venv_root.glob("venv-*")
             if (m := pattern.fullmatch(d.name)) and d.is_dir()]
    return sorted(v for v in found
                  if all(VersionSpec(r).matches(Version(v)) for r in ranges if r))


def real_check(venv_root: Path | None = None) -> Checker:
    """The ABI check (abi.report.verdict), called in-process; its text report on failure."""
    from ..abi.report import verdict

    return lambda path, torches: verdict(path, torches, venv_root)


@contextlib.contextmanager
def _without(names: Iterable[str]) -> Iterator[None]:
    """os.environ less ``names`` for the duration (the check's subprocesses need no token)."""
    saved = {n: os.environ.pop(n) for n in set(names) if n in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def abi_check(packages: list[Package], torches: list[str], show: Show, secret_names: Iterable[str] = (),
              venv_root: Path | None = None, checker: Checker | None = None) -> None:
    """Run the ABI check on every package against ``torches`` (else the admitted torch
    venvs), handing ``show`` a line per package (and the report of a failed one) as it is
    done; refuse (UploadError) if any fails. While it runs, the environment lacks the
    variables ``secret_names``: the check has no use for a token."""
    venv_root = venv_root or cache_dir()
    try:
        check = checker or real_check(venv_root)
    except ImportError as err:  # pyelftools, cxxfilt, ... missing
        raise UploadError(f"abi-check not available ({err}); nothing is uploaded without it", 2)
    failed = []
    for package in packages:
        against = torches or torches_for(package, venv_root)
        if not against:
            raise UploadError(
                f"abi-check: no torch to check {package.path.name} against: pass --torch (an "
                "environment with the torch it was built for, e.g. .venv) or create "
                f"{venv_root / torch_venv_name('<version>')} with "
                "`python -m torchrig_release venv --torch <version>`", 2)
        try:
            with _without(secret_names):
                passed, text = check(package.path, against)
        except (ImportError, FileNotFoundError) as err:
            raise UploadError(f"abi-check not available ({err}); nothing is uploaded without it", 2)
        show(f"abi-check: {'ok    ' if passed else 'FAILED'} {package.path.name} "
             f"(torch: {', '.join(against)})", None if passed else text.rstrip())
        if not passed:
            failed.append(package.path.name)
    if failed:
        raise UploadError(f"refused: the ABI check failed for {', '.join(failed)}; "
                          "nothing uploaded")
