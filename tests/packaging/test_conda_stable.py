"""The stable-ABI conda package (torchrig_abi: stable): one CPU build for every pytorch >= 2.10.

Slow suite. The real package is built once with rattler-build from recipe/recipe.yaml
(``build-conda --abi stable``, against the stand-in channel's real pytorch 2.13 CPU, the
recipe's own tests included: the newest pytorch the stand-in channel offers is a real one).
Then, with py-rattler: it installs and runs beside pytorch 2.13, solves (metadata) beside
every other minor conda-forge builds from the stable target on (2.12), and is refused beside
the recorded pytorch below the target (2.9.1). Every pytorch is one conda-forge has
(recipe/conda-forge-facts.yaml).
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
from rattler import MatchSpec
from rattler.exceptions import SolverError
from support.conda_fixtures import (  # noqa: F401  (fixtures)
    by_name, create_env, local_channel, local_variants, run_tool, solve,
)
from torchrig_release import conda_forge, variants
from support.timeouts import COMMAND_S

pytestmark = pytest.mark.slow


def _recorded_minors() -> list[str]:
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    return conda_forge.minors("linux-64", "None", py)


def _target() -> tuple[int, ...]:
    return variants.version_key(variants.load()["stable_torch_target"][0])


@pytest.fixture(scope="module")
def stable_package(local_channel, local_variants, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("stable-conda")
    # with the recipe's tests: their environment takes the newest pytorch the package admits,
    # which in the stand-in channel (as on conda-forge) is a real one
    (summary,) = json.loads(run_tool("torchrig_release build-conda", "--abi", "stable", "--channel",
                                     str(local_channel), "--variants", str(local_variants),
                                     "--output-dir", str(out), "--json"))
    print("\n[stable conda package]", summary["file"], "\n  depends:",
          json.dumps(summary["depends"]))
    return {**summary, "channel": out}


def test_stable_package_depends_on_every_pytorch_from_the_target(stable_package):
    target = variants.load()["stable_torch_target"][0]
    depends = stable_package["depends"]
    torch = [d for d in depends if MatchSpec(d).name.normalized in ("pytorch", "libtorch")]
    assert sorted(torch) == sorted([f"pytorch >={target}", "pytorch * cpu*"]), depends
    assert stable_package["build"].startswith("cpu_stable_py"), stable_package["build"]
    log = pathlib.Path(stable_package["log"]).read_text()
    assert "recipe/build.sh: TORCHRIG_ABI=stable" in log


def test_stable_package_installs_and_runs_beside_pytorch_2_13(stable_package, local_channel, tmp_path):
    prefix = tmp_path / "env"
    records = by_name(create_env([stable_package["channel"], local_channel],
                                 ["torchrig * *stable*", "pytorch 2.13.*"], prefix))
    assert str(records["torchrig"].build) == stable_package["build"]
    check = ("import json, torch, torchrig\n"
             "from torchrig.procedural import random_rig\n"
             "from torchrig import reference\n"
             "p, o, r, i, w = random_rig(8, 40, 4, dtype=torch.float64, seed=0)\n"
             "rot = torch.linalg.matrix_exp(torch.zeros(2, 8, 3, 3, dtype=torch.float64))\n"
             "fk = torchrig.forward_kinematics(rot, o, p)\n"
             "torch.testing.assert_close(fk, reference.forward_kinematics(rot, o, p))\n"
             "print(json.dumps({'torch': torch.__version__, 'abi': torchrig.BUILD_INFO['abi']}))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    out = subprocess.run([str(prefix / "bin" / "python"), "-c", check], env=env, cwd=tmp_path,
                         check=True, capture_output=True, text=True, timeout=COMMAND_S).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["torch"].startswith("2.13") and result["abi"] == "stable"


def test_stable_package_runs_its_recipe_tests_on_a_real_pytorch(stable_package):
    log = pathlib.Path(stable_package["log"]).read_text()
    assert "matches the reference on torch 2.13" in log and "pip check passed" in log


def test_stable_package_solves_beside_every_recorded_minor_from_the_target(stable_package, local_channel):
    others = [m for m in _recorded_minors() if variants.version_key(m) >= _target()]
    assert len(others) >= 2, others  # the build's own minor and at least one more
    for minor in others:
        records = by_name(solve([stable_package["channel"], local_channel],
                                ["torchrig * *stable*", f"pytorch {minor}.*"]))
        assert str(records["pytorch"].version).startswith(minor + ".")
        assert str(records["torchrig"].build) == stable_package["build"]


def test_stable_package_is_refused_beside_a_pytorch_below_the_target(stable_package, local_channel):
    """conda-forge's recorded 2.9.1 (metadata-only in the stand-in channel): below the target."""
    below = [m for m in _recorded_minors() if variants.version_key(m) < _target()]
    assert below, "the record has no pytorch below the stable target"
    channels = [stable_package["channel"], local_channel]
    old = f"pytorch {below[-1]}.*"
    assert str(by_name(solve(channels, [old]))["pytorch"].version).startswith(below[-1])  # solvable alone
    with pytest.raises(SolverError) as failure:
        solve(channels, ["torchrig * *stable*", old])
    print(failure.value)
    assert "pytorch" in str(failure.value) and "torchrig" in str(failure.value)
