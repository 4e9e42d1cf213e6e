"""The stable-ABI conda package (torchrig_abi: stable): one CPU build for every pytorch >= 2.10.

Slow suite. The real package is built once with rattler-build from recipe/recipe.yaml
(``build-conda --abi stable --no-test``, against the stand-in channel's real pytorch 2.13
CPU; the recipe's own tests would get the channel's metadata-only pytorch 2.14). Then, with py-rattler: it installs and runs beside
pytorch 2.13 (the stand-in channel's real one), solves (metadata) beside pytorch 2.14,
and is refused beside a pytorch 2.9 (a metadata-only stand-in in a channel of its own).
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
from support import standins as si
from support.conda_fixtures import (  # noqa: F401  (fixtures)
    by_name, create_env, local_channel, local_variants, run_tool, solve,
)
from torchrig_release import variants
from torchrig_release.conda import build as conda_build
from torchrig_release.conda import channel as conda_channel
from support.timeouts import COMMAND_S

pytestmark = pytest.mark.slow
OLD_TORCH = "2.9.0"  # below the stable target


@pytest.fixture(scope="module")
def stable_package(local_channel, local_variants, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("stable-conda")
    # --no-test: rattler-build's test environment would take the newest pytorch the package
    # admits, the stand-in channel's metadata-only newer minors (no files); the runtime check is
    # test_stable_package_installs_and_runs_beside_pytorch_2_13, with the real 2.13.
    (summary,) = json.loads(run_tool("torchrig_release build-conda", "--abi", "stable", "--channel",
                                     str(local_channel), "--variants", str(local_variants),
                                     "--output-dir", str(out), "--no-test",
                                     "--json"))
    print("\n[stable conda package]", summary["file"], "\n  depends:",
          json.dumps(summary["depends"]))
    return {**summary, "channel": out}


@pytest.fixture(scope="module")
def old_torch_channel(local_channel, tmp_path_factory) -> pathlib.Path:
    from rattler_build import Stage0Recipe, VariantConfig

    work = tmp_path_factory.mktemp("old-torch")
    channel = work / "channel"
    python = variants.load()["python"]
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert py in python
    for i, standin in enumerate(si.old_pytorch_standins(OLD_TORCH)):
        recipe = Stage0Recipe.from_dict(standin.recipe, recipe_dir=work / f"{i}-{standin.name}")
        conda_build.build_recipe(recipe, channel, [str(channel), str(local_channel)],
                        variants=VariantConfig({"python": [py]}), package_format="conda:1")
    conda_channel.index_channel(channel)
    return channel


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


def test_stable_package_solves_beside_pytorch_2_14(stable_package, local_channel):
    records = by_name(solve([stable_package["channel"], local_channel],
                            ["torchrig * *stable*", "pytorch 2.14.*"]))
    assert str(records["pytorch"].version).startswith("2.14")
    assert str(records["torchrig"].build) == stable_package["build"]


def test_stable_package_is_refused_beside_a_pytorch_below_the_target(stable_package, local_channel,
                                                                     old_torch_channel):
    channels = [stable_package["channel"], old_torch_channel, local_channel]
    old = f"pytorch {OLD_TORCH[:-2]}.*"
    assert str(by_name(solve(channels, [old]))["pytorch"].version) == OLD_TORCH  # solvable alone
    with pytest.raises(SolverError) as failure:
        solve(channels, ["torchrig * *stable*", old])
    print(failure.value)
    assert "pytorch" in str(failure.value) and "torchrig" in str(failure.value)
