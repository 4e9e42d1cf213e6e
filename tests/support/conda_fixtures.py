"""Session fixtures and py-rattler helpers for the conda recipe tests.

The fixtures call the tools the way CI and the pixi tasks do (as commands, with
this interpreter): ``python -m support.local_channel`` for the offline stand-in
channel, ``torchrig-release build-conda`` for the real rattler-build build
of recipe/recipe.yaml into output/, ``render --json`` for the matrix. Solving and installing
use py-rattler directly, with the ``__cuda`` virtual package always set
explicitly so results do not depend on whether the machine has a GPU.
"""
from __future__ import annotations

import contextlib
import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

from torchrig_release import variants
from torchrig_release.conda import build as conda_build
from torchrig_release.conda import channel as conda_channel
from torchrig_release.conda.rattler_async import run_async
from torchrig_release.conda.build import local_variant
from torchrig_release.paths import OUTPUT_DIR, RECIPE, REPO
from support.timeouts import COMMAND_S

# A CUDA variant whose torchrig record the CUDA tests build metadata-only.
CUDA_VARIANT_CUDA = "13.0"


def run_tool(module: str, *args: str) -> str:
    """``python -m <module> args`` with this interpreter (tests/ on its path); its stdout
    (stderr shows on failure)."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "tests")}
    proc = subprocess.run([sys.executable, "-m", *module.split(), *args], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, text=True, timeout=COMMAND_S)
    if proc.returncode:
        pytest.fail(f"python -m {module} {' '.join(args)} exited {proc.returncode}")
    return proc.stdout


def solve(channels, specs, *, cuda: str | None = None) -> list:
    """py-rattler solve for linux-64; ``cuda``: the __cuda version, None = no GPU."""
    from rattler import Override, VirtualPackage, VirtualPackageOverrides
    from rattler import solve as rattler_solve

    overrides = VirtualPackageOverrides(cuda=Override.string(cuda or ""))
    return run_async(rattler_solve([conda_channel.channel_url(str(c)) for c in channels], specs,
                                      platforms=["linux-64", "noarch"],
                                      virtual_packages=VirtualPackage.detect(overrides)))


def create_env(channels, specs, prefix: pathlib.Path) -> list:
    """Solve, then install into a fresh ``prefix`` (nothing is written if the solve fails)."""
    from rattler import install

    records = solve(channels, specs)
    run_async(install(records, target_prefix=prefix, show_progress=False))
    return records


def by_name(records) -> dict:
    return {r.name.normalized: r for r in records}


@contextlib.contextmanager
def environ(**values: str):
    """Temporarily set environment variables (for rattler-build running in-process)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def rendered_matrix() -> list[dict]:
    """`render --json`: one row per rendered variant."""
    return json.loads(run_tool("torchrig_release render", "--json"))


@pytest.fixture(scope="session")
def local_channel() -> pathlib.Path:
    """The offline stand-in channel (built once, then cached in the machine-wide cache)."""
    return pathlib.Path(run_tool("support.local_channel").strip())


@pytest.fixture(scope="session")
def local_variants(local_channel) -> pathlib.Path:
    """The channel's variant config: variants.yaml with pytorch = the stand-in's minor."""
    return local_channel / "variants.yaml"


@pytest.fixture(scope="session")
def built_package(local_channel, local_variants) -> dict:
    """The real CPU package: rattler-build builds recipe.yaml (and runs its tests)."""
    (summary,) = json.loads(run_tool("torchrig_release build-conda", "--channel", str(local_channel),
                                     "--variants", str(local_variants),
                                     "--output-dir", str(OUTPUT_DIR), "--json"))
    return summary


@pytest.fixture(scope="session")
def cuda_record(local_channel, local_variants, tmp_path_factory) -> dict:
    """A METADATA-ONLY torchrig CUDA package in its own channel.

    rattler-build renders and resolves recipe.yaml for the CUDA variant exactly
    as for a real build (so depends come from the recipe plus the run_exports
    of the CUDA stand-ins), but the build script is replaced by a no-op and the
    tests dropped: no nvcc or CUDA torch is needed. CONDA_OVERRIDE_CUDA is what
    GPU-less CI builders set for CUDA builds.
    """
    from rattler_build import Stage0Recipe

    recipe = Stage0Recipe.from_file(RECIPE).to_dict()
    recipe.pop("source")
    recipe.pop("tests")
    recipe["build"]["script"] = ["echo 'metadata-only test record: nothing compiled'"]
    recipe["about"]["description"] = "METADATA-ONLY record for solver tests; contains no library."
    recipe["about"].pop("license_file", None)  # no source is copied, so no LICENSE either
    work = tmp_path_factory.mktemp("cuda-record")
    # Written back to a file: Stage0Recipe.from_dict evaluates the boolean context value
    # `stable: ${{ torchrig_abi == "stable" }}` as truthy for torchrig_abi=classic
    # (py-rattler-build 0.x), so a classic variant came out as a `_stable_` package.
    (work / "recipe").mkdir()
    (work / "recipe" / "recipe.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False))
    stage0 = Stage0Recipe.from_file(work / "recipe" / "recipe.yaml")
    variant = local_variant(CUDA_VARIANT_CUDA)
    with environ(CONDA_OVERRIDE_CUDA=CUDA_VARIANT_CUDA):
        (result,) = conda_build.build_recipe(stage0, work / "channel", [str(local_channel)],
                                    variants=variants.variant_config(variant, local_variants))
    conda_channel.index_channel(work / "channel")
    return {**conda_channel.package_metadata(pathlib.Path(result.packages[0])), "variant": variant,
            "channel": work / "channel"}
