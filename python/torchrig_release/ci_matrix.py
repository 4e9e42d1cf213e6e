"""The CI build matrix: one entry per conda package the recipe builds (the `ci-matrix` verb).

Nothing here is typed by hand: the versions come from recipe/variants.yaml,
rendered by the `render` verb (conda/render.py) for every platform of pixi's
`package` environment (pixi.toml), and recipe/recipe.yaml's `build.skip`
decides which flavours a platform builds (CUDA on linux-64 only; osx-arm64
and win-64 build the CPU flavour). Adding a Python to variants.yaml adds entries; the workflow is
untouched.

Each entry: os (the GitHub runner), platform, python, pytorch, cuda
(cuda_compiler_version, "None" for CPU), abi (torchrig_abi: classic|stable),
flavour (cpu|cuda), build_string,
abi_check (whether the abi-check verb can check the package: it reads ELF, so
Linux only; `upload` publishes nothing it has not checked).
The output is one line of JSON, {"include": [...]}, ready for
`echo "build=$(torchrig-release ci-matrix)" >> "$GITHUB_OUTPUT"` and
`strategy.matrix: ${{ fromJSON(...) }}`. --abi-checkable keeps the entries
with abi_check true (those the release can publish). --gpu prints instead
the pixi environments that run the `test-gpu` task, as {"environment": [...]}.
Rendering needs no network (no solve), for any target platform.
"""
from __future__ import annotations

import collections

from . import pixi as pm
from .conda import render
from .errors import ReleaseError

# The one CI-only fact: which GitHub-hosted runner builds a conda platform. The list of
# platforms itself is pixi.toml's (the environment that runs `build-conda`).
RUNNERS = {"linux-64": "ubuntu-latest", "osx-arm64": "macos-latest", "win-64": "windows-latest"}
# the abi-check verb reads ELF binaries and /proc: it can check Linux packages only.
ABI_CHECK_PLATFORMS = ("linux-64", "linux-aarch64")
PACKAGE_ENVIRONMENT = "package"
GPU_TASK = "test-gpu"
MAX_JOBS = 256  # GitHub refuses a matrix with more jobs than this


def build_platforms(manifest: dict | None = None) -> list[str]:
    """The platforms pixi's `package` environment (the one with `build-conda`) is solved for."""
    manifest = manifest or pm.load_manifest()
    return pm.platforms(manifest, pm.environments(manifest)[PACKAGE_ENVIRONMENT])


def platform_entries(platform: str) -> list[dict[str, str | bool]]:
    """The matrix entries of one platform: the rendered variants the recipe does not skip."""
    rows = render.render_matrix(platform)
    return [{
        "os": RUNNERS[platform],
        "platform": platform,
        "python": r["python"],
        "pytorch": r["pytorch"],
        "cuda": r["cuda_compiler_version"],
        "abi": r["torchrig_abi"],
        "flavour": r["flavour"].split()[0],  # "cpu" | "cuda" (render says "cuda 12.9")
        "build_string": r["build_string"],
        "abi_check": platform in ABI_CHECK_PLATFORMS,
    } for r in rows]


def build_matrix(platforms: list[str] | None = None) -> dict[str, list[dict[str, str | bool]]]:
    """{"include": entries} over ``platforms`` (default: pixi.toml's package platforms)."""
    platforms = platforms if platforms is not None else build_platforms()
    unknown = [p for p in platforms if p not in RUNNERS]
    if unknown:
        raise ReleaseError(f"no GitHub runner for {', '.join(unknown)}: add it to RUNNERS in {__file__}")
    entries = [e for p in platforms for e in platform_entries(p)]
    if len(entries) > MAX_JOBS:
        raise ReleaseError(f"{len(entries)} variants: more than the {MAX_JOBS} jobs GitHub allows in one matrix")
    return {"include": entries}


def gpu_environments(manifest: dict | None = None) -> dict[str, list[str]]:
    """{"environment": [...]}: the pixi environments that define the `test-gpu` task."""
    manifest = manifest or pm.load_manifest()
    envs = pm.environments(manifest).values()
    return {"environment": sorted(e.name for e in envs if GPU_TASK in pm.tasks_in(manifest, e))}


def summary(matrix: dict[str, list[dict[str, str | bool]]], platforms: list[str]) -> str:
    """'N builds: linux-64 N (cpu N, cuda N), osx-arm64 N (cpu N), ...'; a platform with
    no build says '(nothing in variants.yaml)'."""
    counts = collections.Counter((e["platform"], e["flavour"]) for e in matrix["include"])
    parts = []
    for p in platforms:
        flavours = {f: n for (q, f), n in sorted(counts.items()) if q == p}
        detail = ", ".join(f"{f} {n}" for f, n in flavours.items())
        parts.append(f"{p} {sum(flavours.values())}" + (f" ({detail})" if detail else " (nothing in variants.yaml)"))
    return f"{len(matrix['include'])} builds: " + ", ".join(parts)
