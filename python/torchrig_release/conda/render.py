#!/usr/bin/env python3
"""Render every variant of recipe/recipe.yaml and print the build matrix (no build).

One row per python x pytorch x flavour of recipe/variants.yaml: the build
string rattler-build will give the package and its run requirements as the
recipe states them. The pytorch minor bound is not among them on purpose: it
is added at build time by pytorch's run_exports (tools/build_conda.py shows the
final depends). --json for machine-readable rows, --platform for another target.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _condautil as cu  # noqa: E402


def render_matrix(platform: str | None = None) -> list[dict]:
    """Render recipe.yaml for every variant; one dict per rendered package."""
    from rattler_build import PlatformConfig, RenderConfig, Stage0Recipe

    from rattler import Platform

    platform = platform or str(Platform.current())
    # py-rattler-build's render() ignores `build.skip` (run_build and the CLI apply it)
    conditions = cu.skip_conditions()
    built = {cu.variant_key(v) for v in cu.variant_config(platform=platform).combinations()
             if not cu.is_skipped(conditions, platform, v)}
    if not built:  # rendering would fail on toolchain keys a skipped platform need not define
        return []
    recipe = Stage0Recipe.from_file(cu.RECIPE)
    config = RenderConfig(platform=PlatformConfig(target_platform=platform))
    rows = []
    for rendered in recipe.render(cu.variant_config(platform=platform), config):
        variant, stage1 = rendered.variant, rendered.recipe
        if cu.variant_key(variant) not in built:
            continue
        cuda = str(variant.get("cuda_compiler_version", "None"))
        rows.append({
            "python": str(variant["python"]),
            "pytorch": str(variant["pytorch"]),
            "cuda_compiler_version": cuda,
            "flavour": "cpu" if cuda == "None" else f"cuda {cuda}",
            "target_platform": str(variant.get("target_platform", platform)),
            "build_string": str(stage1.build.string),
            "build": [str(s) for s in stage1.requirements.build],
            "host": [str(s) for s in stage1.requirements.host],
            "run": [str(s) for s in stage1.requirements.run],
        })
    return sorted(rows, key=lambda r: (r["cuda_compiler_version"] != "None", r["cuda_compiler_version"],
                                       tuple(map(int, r["python"].split("."))), r["pytorch"]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--platform", help="target platform, e.g. linux-64 (default: this machine)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = p.parse_args()
    rows = render_matrix(args.platform)
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    header = ("python", "pytorch", "flavour", "build string", "run")
    table = [header] + [(r["python"], r["pytorch"], r["flavour"], r["build_string"], ", ".join(r["run"]))
                        for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
    print(f"{len(rows)} variants", file=sys.stderr)


if __name__ == "__main__":
    main()
