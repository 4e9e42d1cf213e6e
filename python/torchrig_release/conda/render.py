"""Render every variant of recipe/recipe.yaml into the build matrix (no build).

One row per python x pytorch x flavour of recipe/variants.yaml: the build
string rattler-build will give the package and its run requirements as the
recipe states them. The pytorch minor bound is not among them on purpose: it
is added at build time by pytorch's run_exports (build-conda shows the final depends).
"""
from __future__ import annotations

from .. import variants
from ..paths import RECIPE

__all__ = ["render_matrix"]


def render_matrix(platform: str | None = None) -> list[dict]:
    """Render recipe.yaml for every variant; one dict per rendered package."""
    from rattler_build import PlatformConfig, RenderConfig, Stage0Recipe

    from rattler import Platform

    platform = platform or str(Platform.current())
    # py-rattler-build's render() ignores `build.skip` (run_build and the CLI apply it)
    conditions = variants.skip_conditions()
    config_for = variants.variant_config(platform=platform)
    # variants.builds(): every classic combination, the stable ones against the newest pytorch
    wanted = {variants.variant_key(b) for b in variants.builds(variants.load(platform=platform))}
    built = {variants.variant_key(v) for v in config_for.combinations()
             if not variants.is_skipped(conditions, platform, v)} & wanted
    if not built:  # rendering would fail on toolchain keys a skipped platform need not define
        return []
    recipe = Stage0Recipe.from_file(RECIPE)
    config = RenderConfig(platform=PlatformConfig(target_platform=platform))
    rows = []
    for rendered in recipe.render(variants.variant_config(platform=platform), config):
        variant, stage1 = rendered.variant, rendered.recipe
        if variants.variant_key(variant) not in built:
            continue
        cuda = str(variant.get("cuda_compiler_version", "None"))
        rows.append({
            "python": str(variant["python"]),
            "pytorch": str(variant["pytorch"]),
            "cuda_compiler_version": cuda,
            variants.ABI_KEY: str(variant.get(variants.ABI_KEY, "classic")),
            "flavour": "cpu" if cuda == "None" else f"cuda {cuda}",
            "target_platform": str(variant.get("target_platform", platform)),
            "build_string": str(stage1.build.string),
            "build": [str(s) for s in stage1.requirements.build],
            "host": [str(s) for s in stage1.requirements.host],
            "run": [str(s) for s in stage1.requirements.run],
        })
    return sorted(rows, key=lambda r: (r["cuda_compiler_version"] != "None", r["cuda_compiler_version"],
                                       variants.version_key(r["python"]), r["pytorch"],
                                       r[variants.ABI_KEY]))
