"""Session fixtures and py-rattler helpers for the conda recipe tests.

The fixtures call the tools the way CI and the pixi tasks do (as scripts, with
this interpreter): ``tools/local_channel.py`` for the offline stand-in channel,
``tools/build_conda.py`` for the real rattler-build build of recipe/recipe.yaml
into output/, ``tools/render.py --json`` for the matrix. Solving and installing
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

REPO = pathlib.Path(__file__).resolve().parents[1]
TOOLS = REPO / "tools"
sys.path.insert(0, str(TOOLS))
import _condautil as cu  # noqa: E402

# A CUDA variant whose torchrig record the CUDA tests build metadata-only.
CUDA_VARIANT_CUDA = "13.0"


def run_tool(script: str, *args: str) -> str:
    """Run tools/<script> with this interpreter; its stdout (stderr shows on failure)."""
    proc = subprocess.run([sys.executable, str(TOOLS / script), *args], cwd=REPO,
                          stdout=subprocess.PIPE, text=True)
    if proc.returncode:
        pytest.fail(f"tools/{script} {' '.join(args)} exited {proc.returncode}")
    return proc.stdout


def local_variant(cuda: str = "None") -> dict[str, str]:
    """This interpreter's python, the installed torch's minor, and a flavour."""
    import torch

    return {"python": f"{sys.version_info.major}.{sys.version_info.minor}",
            "pytorch": ".".join(torch.__version__.split(".")[:2]), "cuda_compiler_version": cuda}


def solve(channels, specs, *, cuda: str | None = None) -> list:
    """py-rattler solve for linux-64; ``cuda``: the __cuda version, None = no GPU."""
    from rattler import Override, VirtualPackage, VirtualPackageOverrides
    from rattler import solve as rattler_solve

    overrides = VirtualPackageOverrides(cuda=Override.string(cuda or ""))
    return cu.run_async(rattler_solve([cu.channel_url(str(c)) for c in channels], specs,
                                      platforms=["linux-64", "noarch"],
                                      virtual_packages=VirtualPackage.detect(overrides)))


def create_env(channels, specs, prefix: pathlib.Path) -> list:
    """Solve, then install into a fresh ``prefix`` (nothing is written if the solve fails)."""
    from rattler import install

    records = solve(channels, specs)
    cu.run_async(install(records, target_prefix=prefix, show_progress=False))
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
    """tools/render.py --json: one row per rendered variant."""
    return json.loads(run_tool("render.py", "--json"))


@pytest.fixture(scope="session")
def local_channel() -> pathlib.Path:
    """The offline stand-in channel (built once, then cached under .cache/)."""
    run_tool("local_channel.py", "--dir", str(cu.LOCAL_CHANNEL_DIR))
    return cu.LOCAL_CHANNEL_DIR


@pytest.fixture(scope="session")
def built_package(local_channel) -> dict:
    """The real CPU package: rattler-build builds recipe.yaml (and runs its tests)."""
    (summary,) = json.loads(run_tool("build_conda.py", "--channel", str(local_channel),
                                     "--output-dir", str(cu.OUTPUT_DIR), "--json"))
    return summary


@pytest.fixture(scope="session")
def cuda_record(local_channel, tmp_path_factory) -> dict:
    """A METADATA-ONLY torchrig CUDA package in its own channel.

    rattler-build renders and resolves recipe.yaml for the CUDA variant exactly
    as for a real build (so depends come from the recipe plus the run_exports
    of the CUDA stand-ins), but the build script is replaced by a no-op and the
    tests dropped: no nvcc or CUDA torch is needed. CONDA_OVERRIDE_CUDA is what
    GPU-less CI builders set for CUDA builds.
    """
    from rattler_build import Stage0Recipe

    recipe = Stage0Recipe.from_file(cu.RECIPE).to_dict()
    recipe.pop("source")
    recipe.pop("tests")
    recipe["build"]["script"] = ["echo 'metadata-only test record: nothing compiled'"]
    recipe["about"]["description"] = "METADATA-ONLY record for solver tests; contains no library."
    recipe["about"].pop("license_file", None)  # no source is copied, so no LICENSE either
    work = tmp_path_factory.mktemp("cuda-record")
    stage0 = Stage0Recipe.from_dict(recipe, recipe_dir=work / "recipe")
    variant = local_variant(CUDA_VARIANT_CUDA)
    with environ(CONDA_OVERRIDE_CUDA=CUDA_VARIANT_CUDA):
        (result,) = cu.build_recipe(stage0, work / "channel", [str(local_channel)],
                                    variants=cu.variant_config(variant))
    cu.index_channel(work / "channel")
    return {**cu.package_metadata(pathlib.Path(result.packages[0])), "variant": variant,
            "channel": work / "channel"}
