#!/usr/bin/env python3
"""Build the torchrig conda package for one variant with rattler-build.

recipe/variants.yaml is narrowed to one python x pytorch x flavour -- by
default this machine's: the running Python, the installed torch's minor, CPU --
and recipe/recipe.yaml is built into output/ (py-rattler-build ``run_build``).
rattler-build then runs the recipe's tests (import, ``python -m torchrig info``,
the ops against the reference, ``pip check``) in a fresh environment, unless
--no-test.

Channels come from --channel (repeatable, default conda-forge); a local folder
becomes a file:// URL, e.g. ``--channel .cache/conda-channel`` for the offline
stand-in channel (tools/local_channel.py). Prints the package path; --json
prints a summary with the depends read back from the package's info/index.json.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _condautil as cu  # noqa: E402

TOOL = "build_conda"


def local_variant() -> dict[str, str]:
    """This machine's variant: running Python, installed torch's minor, CPU."""
    try:
        torch = importlib.metadata.version("torch")
        pytorch = ".".join(torch.split(".")[:2])
    except importlib.metadata.PackageNotFoundError:
        pytorch = cu.matrix()["pytorch"][-1]
    return {"python": f"{sys.version_info.major}.{sys.version_info.minor}",
            "pytorch": pytorch, "cuda_compiler_version": "None"}


def build(variant: dict[str, str], channels: list[str], output_dir: pathlib.Path,
          test: bool = True, channel_priority: str = "strict") -> list[dict]:
    """Build one variant; a summary (metadata + timing) per package built."""
    from rattler_build import Stage0Recipe

    recipe = Stage0Recipe.from_file(cu.RECIPE)
    cu.log(TOOL, f"building {cu.RECIPE} for {variant} from {', '.join(channels)} into {output_dir}")
    with cu.Timer() as t:
        results = cu.build_recipe(recipe, output_dir, channels, variants=cu.variant_config(variant),
                                  test="native" if test else "skip",
                                  channel_priority=channel_priority)
    cu.log(TOOL, f"done in {t.seconds:.0f}s")
    summary = []
    for result in results:
        log = output_dir / "logs" / f"{result.name}-{result.version}-{result.build_string}.log"
        log.parent.mkdir(exist_ok=True)
        log.write_text("\n".join(result.log) + "\n")
        summary += [{**cu.package_metadata(pathlib.Path(p)), "path": str(p), "variant": variant,
                     "log": str(log),
                     "seconds": round(t.seconds, 1), "tested": test} for p in result.packages]
    return summary


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = local_variant()
    p.add_argument("--channel", action="append", dest="channels",
                   help="channel name, URL or local folder; repeatable (default: conda-forge)")
    p.add_argument("--output-dir", type=pathlib.Path, default=cu.OUTPUT_DIR,
                   help="where the package goes (default: %(default)s)")
    p.add_argument("--python", default=default["python"], help="python variant (default: %(default)s)")
    p.add_argument("--pytorch", default=default["pytorch"], help="pytorch minor (default: %(default)s)")
    p.add_argument("--cuda", default="None", dest="cuda_compiler_version",
                   help="cuda_compiler_version: None for CPU, or e.g. 13.0 (default: %(default)s)")
    p.add_argument("--no-test", action="store_true", help="skip the recipe's tests")
    p.add_argument("--channel-priority", choices=("strict", "disabled"), default="strict",
                   help="disabled: the channels act as one (e.g. the CPU and CUDA stand-in "
                        "channels); default: %(default)s")
    p.add_argument("--json", action="store_true", help="print a JSON summary instead of paths")
    args = p.parse_args()
    variant = {k: getattr(args, k) for k in cu.MATRIX_KEYS}
    summary = build(variant, args.channels or ["conda-forge"], args.output_dir.resolve(),
                    test=not args.no_test, channel_priority=args.channel_priority)
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        for package in summary:
            print(package["file"])
            for dep in package["depends"]:
                cu.log(TOOL, f"  depends: {dep}")


if __name__ == "__main__":
    main()
