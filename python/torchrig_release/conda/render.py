"""Render every variant of recipe/recipe.yaml into the build matrix (no build).

One row per python x pytorch x flavour of recipe/variants.yaml: the build
string rattler-build will give the package and its run requirements as the
recipe states them. The pytorch minor bound is not among them on purpose: it
is added at build time by pytorch's run_exports (build-conda shows the final depends).
"""
from __future__ import annotations

from .. import variants
from ..errors import ReleaseError
from ..paths import RECIPE, VARIANTS

__all__ = ["render_matrix"]


def render_matrix(platform: str | None = None) -> list[dict]:
    """Render recipe.yaml for every variant; one dict per rendered package."""
    from rattler_build import PlatformConfig, RenderConfig, Stage0Recipe

    from rattler import Platform

    platform = platform or str(Platform.current())
    skip = variants.skip_conditions()
    if skip:
        raise ReleaseError(
            f"{RECIPE.name} has build.skip ({'; '.join(skip)}): conda-build builds every variant "
            "py-rattler-build's render() returns and applies no skip, so it would build what the skip "
            f"drops. Say it in {VARIANTS.name} instead (e.g. no CUDA version for osx/win), or drop the "
            "platform from pixi.toml's package environment.", 2)
    wanted = {variants.variant_key(b) for b in variants.builds(variants.load(platform=platform))}
    recipe = Stage0Recipe.from_file(RECIPE)
    config = RenderConfig(platform=PlatformConfig(target_platform=platform))
    # py-rattler-build's render() applies no build.skip, and conda-build builds every variant it
    # returns: what it renders must be exactly the promised builds (recipe.yaml has no skip).
    rendered_all = list(recipe.render(variants.variant_config(platform=platform), config))
    got = [variants.variant_key(r.variant) for r in rendered_all]
    extra, missing = sorted(set(got) - wanted), sorted(wanted - set(got))
    twice = sorted({k for k in got if got.count(k) > 1})
    if extra or missing or twice:
        raise ReleaseError(
            f"{RECIPE.name} x {VARIANTS.name} on {platform} renders "
            + "; ".join(f"{what}: {', '.join('/'.join(k) for k in keys)}" for what, keys in
                        (("builds variants.builds() does not promise (conda-build would build them)", extra),
                         ("missing builds", missing), ("rendered twice", twice)) if keys)
            + ". Keep one stable build per python x flavour by zipping pytorch with torchrig_abi "
            "in variants.yaml, and no variant that only build.skip removes.")
    rows = []
    for rendered in rendered_all:
        variant, stage1 = rendered.variant, rendered.recipe
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
