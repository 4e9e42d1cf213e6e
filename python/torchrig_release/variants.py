"""The one reader of recipe/variants.yaml (and of recipe.yaml's `build.skip`).

Read through rattler-build, so it is parsed exactly as the build parses it: ``if:``
selectors are evaluated for a target platform (default: this machine's). Used by
render, build-conda, the CI matrix, the pixi checks, the environment and docs generators.
"""
from __future__ import annotations

import json
import pathlib
from collections.abc import Mapping

from .errors import ReleaseError
from .library import torch_version
from .paths import RECIPE, VARIANTS

__all__ = ["ABI_KEY", "MATRIX_KEYS", "STABLE_BUILD_KEY", "builds", "derive", "flavour_tag", "is_skipped", "load", "matrix", "raw", "skip_conditions",
           "variant_config", "variant_key", "version_key"]

# The keys that make the torchrig matrix; the other variant keys are toolchain.
MATRIX_KEYS = ("python", "pytorch", "cuda_compiler_version")
# classic (one build per pytorch minor) | stable (one build per python x CUDA); zipped with pytorch
ABI_KEY = "torchrig_abi"
# load()'s name for the one pytorch the stable build compiles against (the `pytorch` entry
# zipped with `stable` in variants.yaml)
STABLE_BUILD_KEY = "stable_build_pytorch"

flavour_tag = torch_version.flavour_tag  # 'None' -> 'cpu', '12.9' -> 'cuda129'


def version_key(version: str) -> tuple[int, ...]:
    """'2.14' -> (2, 14), for ordering versions numerically."""
    return tuple(int(part) for part in version.split("."))


def variant_config(overrides: Mapping[str, str] | None = None, variants: pathlib.Path = VARIANTS,
                   platform: str | None = None):
    """variants.yaml as a rattler-build VariantConfig (its ``if:`` selectors evaluated for
    ``platform``, default this machine's), some keys fixed to one value.

    A zipped key is narrowed with its partners: ``cuda_compiler_version=13.0`` keeps its gcc and
    glibc; ``pytorch=2.13`` keeps both builds on 2.13 (classic and stable) unless
    ``torchrig_abi`` narrows it further.
    """
    from rattler_build import JinjaConfig, PlatformConfig, VariantConfig

    jinja = JinjaConfig(platform=PlatformConfig(target_platform=platform))
    config = VariantConfig.from_file_with_context(variants, jinja)
    values, zip_keys = config.to_dict(), config.zip_keys or []
    overrides = {key: str(value) for key, value in (overrides or {}).items()}
    for key, value in overrides.items():
        if key not in values:
            raise ReleaseError(f"{key!r} is not a key of {variants}", 2)
        if value not in [str(v) for v in values[key]]:
            raise ReleaseError(f"{key}={value} is not in {variants} "
                               f"({', '.join(dict.fromkeys(map(str, values[key])))})", 2)
    for group in [*zip_keys, *([k] for k in overrides if not any(k in z for z in zip_keys))]:
        asked = {k: v for k, v in overrides.items() if k in group}
        if not asked:
            continue
        length = len(values[next(iter(asked))])
        keep = [i for i in range(length) if all(str(values[k][i]) == v for k, v in asked.items())]
        if not keep:
            raise ReleaseError(f"{', '.join(f'{k}={v}' for k, v in asked.items())}: no such "
                               f"combination in {variants} (zipped: {', '.join(group)})", 2)
        for partner in group:
            if partner in values:
                values[partner] = [values[partner][i] for i in keep]
    return VariantConfig(values, zip_keys=zip_keys)


def raw(variants: pathlib.Path = VARIANTS, platform: str | None = None) -> dict[str, list[str]]:
    """Every key of variants.yaml with its values as strings, selectors evaluated, zipped keys
    as written (``pytorch`` and ``torchrig_abi`` entry by entry)."""
    from rattler_build import JinjaConfig, PlatformConfig, VariantConfig

    jinja = JinjaConfig(platform=PlatformConfig(target_platform=platform))
    values = VariantConfig.from_file_with_context(variants, jinja).to_dict()
    return {key: [str(v) for v in vs] for key, vs in values.items()}


def load(variants: pathlib.Path = VARIANTS, platform: str | None = None) -> dict[str, list[str]]:
    """Every key of variants.yaml with its values as strings, selectors evaluated; the
    ``pytorch`` x ``torchrig_abi`` zip unfolded: ``pytorch`` lists the classic minors,
    ``stable_build_pytorch`` the stable build's one, ``torchrig_abi`` each binding layer once."""
    values = raw(variants, platform)
    if ABI_KEY not in values:
        return values
    pairs = list(zip(values["pytorch"], values[ABI_KEY], strict=True))
    bad = sorted({abi for _, abi in pairs} - {"classic", "stable"})
    if bad:
        raise ReleaseError(f"{ABI_KEY}: {', '.join(bad)} is neither 'classic' nor 'stable' ({variants})", 2)
    stable = [torch for torch, abi in pairs if abi == "stable"]
    if len(stable) > 1:
        raise ReleaseError(f"{variants}: {len(stable)} `pytorch` entries zipped with `stable` "
                           f"({', '.join(stable)}); the stable build is one per python x flavour", 2)
    values["pytorch"] = list(dict.fromkeys(torch for torch, abi in pairs if abi == "classic"))
    values[ABI_KEY] = list(dict.fromkeys(abi for _, abi in pairs))
    if stable:
        values[STABLE_BUILD_KEY] = stable
    return values


def matrix(variants: pathlib.Path = VARIANTS) -> dict[str, list[str]]:
    """The values of MATRIX_KEYS, e.g. {'python': ['3.10', ...], 'pytorch': [...], ...}."""
    values = load(variants)
    return {key: values[key] for key in MATRIX_KEYS}


def skip_conditions(recipe: pathlib.Path = RECIPE) -> list[str]:
    """recipe.yaml's `build.skip`, as written (selector expressions such as `win`)."""
    from rattler_build import Stage0Recipe

    skip = Stage0Recipe.from_file(recipe).build.to_dict().get("skip", [])
    return [str(skip).lower()] if isinstance(skip, (bool, str)) else [str(s) for s in skip]


def is_skipped(conditions: list[str], platform: str, variant: dict[str, str]) -> bool:
    """Whether rattler-build skips ``variant`` on ``platform``.

    py-rattler-build's ``render()`` does not apply `build.skip`; the CLI and
    ``run_build`` do. The conditions are evaluated here by rattler-build's own
    selector evaluator, as ``if:`` selectors of a one-key variant config.
    """
    from rattler_build import JinjaConfig, PlatformConfig, VariantConfig

    if not conditions:
        return False
    selectors = json.dumps({"skip": [{"if": c, "then": "yes"} for c in conditions]})
    jinja = JinjaConfig(platform=PlatformConfig(target_platform=platform), variant=variant)
    return bool(VariantConfig.from_yaml_with_context(selectors, jinja).to_dict().get("skip"))


def variant_key(variant: dict) -> tuple[str, ...]:
    """(python, pytorch, cuda_compiler_version, torchrig_abi) of a variant or a rendered row."""
    return tuple(str(variant.get(k, "classic")) for k in (*MATRIX_KEYS, ABI_KEY))


def builds(values: dict[str, list[str]] | None = None) -> list[dict[str, str]]:
    """Every torchrig build: {python, pytorch, cuda_compiler_version, torchrig_abi}.

    classic: python x pytorch x cuda_compiler_version; stable: python x
    cuda_compiler_version against ``stable_build_pytorch`` only (its binary serves every
    torch from the stable target on, so a build per pytorch minor would be the same
    package). variants.yaml zips ``pytorch`` with ``torchrig_abi`` so that rattler-build's
    render yields exactly these, with or without recipe.yaml's build.skip (conda-build
    builds what render returns). A variants.yaml without torchrig_abi means classic only.
    """
    values = values if values is not None else load()
    rows = []
    for abi in values.get(ABI_KEY, ["classic"]):
        if abi not in ("classic", "stable"):
            raise ReleaseError(f"{ABI_KEY}: {abi!r} is neither 'classic' nor 'stable' ({VARIANTS})", 2)
        for python in values["python"]:
            for cuda in values["cuda_compiler_version"]:
                for torch in (values["pytorch"] if abi == "classic" else values[STABLE_BUILD_KEY]):
                    rows.append({"python": python, "pytorch": torch, "cuda_compiler_version": cuda,
                                 ABI_KEY: abi})
    return rows


def derive(dest: pathlib.Path, replace: Mapping[str, list[str]],
           variants: pathlib.Path = VARIANTS) -> pathlib.Path:
    """Write a copy of ``variants`` to ``dest`` with the values of some keys replaced.

    For builds outside the release matrix, passed to ``build-conda --variants`` (rattler-build's
    ``--variant-config``): e.g. the offline proof builds against the stand-in channel's
    pytorch, made from the one CPU torch wheel a machine has, whatever its minor. Keys as
    :func:`load` names them: ``pytorch`` (the classic minors) and ``stable_build_pytorch`` are
    written back as the ``pytorch`` x ``torchrig_abi`` zip. Every other key (selectors,
    zip_keys, toolchain) stays as it is.
    """
    import yaml

    data = yaml.safe_load(variants.read_text())
    unknown = [key for key in replace if key not in data and key != STABLE_BUILD_KEY]
    if unknown:
        raise ReleaseError(f"{', '.join(unknown)}: not a key of {variants}", 2)
    replace = asked = {key: [str(v) for v in values] for key, values in replace.items()}
    if ABI_KEY in data and ({"pytorch", STABLE_BUILD_KEY} & replace.keys()):
        logical = load(variants)
        classic = replace.get("pytorch", logical["pytorch"])
        stable = replace.get(STABLE_BUILD_KEY, logical.get(STABLE_BUILD_KEY, []))
        data["pytorch"] = [*classic, *stable]
        data[ABI_KEY] = ["classic"] * len(classic) + ["stable"] * len(stable)
        replace = {k: v for k, v in replace.items() if k not in ("pytorch", STABLE_BUILD_KEY)}
    data.update(replace)
    dest.parent.mkdir(parents=True, exist_ok=True)
    header = (f"# GENERATED from {variants.name} by torchrig_release.variants.derive, with "
              f"{', '.join(f'{k}={list(v)}' for k, v in asked.items())}; "
              "not the release matrix.\n")
    dest.write_text(header + yaml.safe_dump(data, sort_keys=False))
    return dest
