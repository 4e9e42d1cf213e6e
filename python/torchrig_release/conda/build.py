"""Build the torchrig conda package for one variant with rattler-build (``run_build``).

recipe/variants.yaml is narrowed to one python x pytorch x flavour and
recipe/recipe.yaml is built into the output folder; rattler-build then runs the
recipe's tests in a fresh environment unless told not to.
"""
from __future__ import annotations

import importlib.metadata
import logging
import pathlib
import sys

from .. import variants
from ..library import torch_version
from ..paths import RECIPE, VARIANTS
from . import util

__all__ = ["build", "local_variant"]

log = logging.getLogger(__name__)


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
    log.info("building %s for %s (%s) from %s into %s", RECIPE, variant, variants_file,
             ", ".join(channels), output_dir)
    with util.Timer() as t:
        results = util.build_recipe(recipe, output_dir, channels,
                                    variants=variants.variant_config(variant, variants_file),
                                    test="native" if test else "skip")
    log.info("done in %.0fs", t.seconds)
    summary = []
    for result in results:
        build_log = output_dir / "logs" / f"{result.name}-{result.version}-{result.build_string}.log"
        build_log.parent.mkdir(exist_ok=True)
        build_log.write_text("\n".join(result.log) + "\n")
        summary += [{**util.package_metadata(pathlib.Path(p)), "path": str(p), "variant": variant,
                     "log": str(build_log),
                     "seconds": round(t.seconds, 1), "tested": test} for p in result.packages]
    return summary
