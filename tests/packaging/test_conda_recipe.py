"""The conda recipe: its rendered matrix, and end to end on the local channel.

Fast tests render recipe/recipe.yaml for every variant (no build). The slow
ones (``--run-slow`` / TORCHRIG_RUN_SLOW=1) build the real CPU package with
rattler-build against the offline stand-in channel, then use py-rattler to
prove what a user of the channel would see: the pytorch bound arrives through
pytorch's run_exports, the package installs and computes the reference result
from a fresh prefix, a mismatched pytorch is refused by the solver before
anything is installed, and the CUDA variant (a metadata-only record) needs the
``__cuda`` virtual package.
"""
from __future__ import annotations

import itertools
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest
from rattler import MatchSpec, Version, VersionSpec
from rattler.exceptions import SolverError
from support.conda_fixtures import (  # noqa: F401  (fixtures)
    built_package, by_name, create_env, cuda_record, local_channel, local_variant, local_variants,
    rendered_matrix,
    solve,
)
from torchrig_release import variants as cu
from torchrig_release.library import torch_version
from torchrig_release.paths import OUTPUT_DIR, RECIPE, REPO
from torchrig_release.pixi import load_toml
from support.timeouts import COMMAND_S

pytestmark = pytest.mark.conda
slow = pytest.mark.slow


_minor = torch_version.minor_of  # '2.13.0' -> (2, 13)


def _pytorch_bound(depends: list[str]) -> str:
    """The one pytorch spec with a version in ``depends`` (from run_exports)."""
    (bound,) = [MatchSpec(d).version for d in depends
                if MatchSpec(d).name.normalized == "pytorch" and MatchSpec(d).version not in (None, "*")]
    return bound


def _admits(bound: str, version: str) -> bool:
    return VersionSpec(bound).matches(Version(version))


# --- render (fast) ----------------------------------------------------------

def test_rendered_matrix_is_variants_yaml(rendered_matrix):
    """Every classic python x pytorch x flavour of variants.yaml renders, exactly once; the
    stable build once per python x flavour, against the newest pytorch."""
    m, abis = cu.matrix(), cu.load()[cu.ABI_KEY]
    newest = max(m["pytorch"], key=cu.version_key)
    assert cu.load()[cu.STABLE_BUILD_KEY] == [newest]  # the stable build: on the newest pytorch
    want = {*itertools.product(m["python"], m["pytorch"], m["cuda_compiler_version"], ["classic"]),
            *itertools.product(m["python"], [newest], m["cuda_compiler_version"], ["stable"])}
    got = [(r["python"], r["pytorch"], r["cuda_compiler_version"], r[cu.ABI_KEY])
           for r in rendered_matrix]
    assert sorted(got) == sorted(want) and set(abis) == {"classic", "stable"}


@pytest.mark.parametrize("platform", ["linux-64", "linux-aarch64", "osx-arm64", "win-64"])
def test_render_without_skip_is_exactly_the_promised_builds(platform):
    """conda-build builds every variant py-rattler-build's render() returns and applies no
    build.skip: render() alone must give variants.builds() (one stable build per python x
    flavour, CUDA only where we build it), each once -- and `render` promises the same."""
    from rattler_build import PlatformConfig, RenderConfig, Stage0Recipe

    config = RenderConfig(platform=PlatformConfig(target_platform=platform))
    rendered = [cu.variant_key(r.variant) for r in Stage0Recipe.from_file(RECIPE).render(
        cu.variant_config(platform=platform), config)]
    promised = sorted(cu.variant_key(b) for b in cu.builds(cu.load(platform=platform)))
    assert sorted(rendered) == promised
    stable = [k for k in rendered if k[3] == "stable"]
    assert len(stable) == len({(k[0], k[2]) for k in stable})  # one per python x flavour
    if platform in ("osx-arm64", "win-64"):
        assert {k[2] for k in rendered} == {"None"}
    from torchrig_release.conda.render import render_matrix
    assert sorted(cu.variant_key(r) for r in render_matrix(platform)) == promised


def test_a_derived_variant_config_replaces_only_the_keys_asked(tmp_path):
    """variants.derive (build-conda --variants): the offline proof's copy with another pytorch."""
    copy = cu.derive(tmp_path / "variants.yaml", {"pytorch": ["2.13"], cu.STABLE_BUILD_KEY: ["2.13"]})
    mine, release = cu.load(copy), cu.load()
    assert mine["pytorch"] == ["2.13"] and mine[cu.STABLE_BUILD_KEY] == ["2.13"]
    assert {k: v for k, v in mine.items() if k not in ("pytorch", cu.STABLE_BUILD_KEY)} == \
        {k: v for k, v in release.items() if k not in ("pytorch", cu.STABLE_BUILD_KEY)}
    narrowed = cu.variant_config({"pytorch": "2.13"}, copy).to_dict()  # its classic and stable build
    assert narrowed["pytorch"] == ["2.13", "2.13"] and narrowed[cu.ABI_KEY] == ["classic", "stable"]
    stable = cu.variant_config({"pytorch": "2.13", cu.ABI_KEY: "stable"}, copy).to_dict()
    assert stable["pytorch"] == ["2.13"] and stable[cu.ABI_KEY] == ["stable"]
    with pytest.raises(cu.ReleaseError, match="not in"):
        cu.variant_config({"pytorch": "2.11"})  # the release matrix does not list it
    with pytest.raises(cu.ReleaseError, match="no such combination"):
        cu.variant_config({"pytorch": "2.12", cu.ABI_KEY: "stable"})  # stable: the newest only
    with pytest.raises(cu.ReleaseError, match="not a key"):
        cu.derive(tmp_path / "bad.yaml", {"torch": ["2.13"]})


def test_build_conda_outside_the_matrix_says_how_to_fix():
    proc = subprocess.run([sys.executable, "-m", "torchrig_release", "build-conda", "--pytorch", "2.9",
                           "--channel", "/nonexistent"], capture_output=True, text=True, cwd=REPO, timeout=COMMAND_S)
    assert proc.returncode == 2, proc.stderr
    assert "pytorch 2.9" in proc.stderr and "--variants" in proc.stderr, proc.stderr


def test_build_strings_are_unique_and_encode_the_variant(rendered_matrix):
    strings = [r["build_string"] for r in rendered_matrix]
    assert len(set(strings)) == len(strings)
    for r in rendered_matrix:
        py, pt = (v.replace(".", "") for v in (r["python"], r["pytorch"]))
        middle = "_stable" + f"_py{py}" if r[cu.ABI_KEY] == "stable" else f"_py{py}_pt{pt}"
        pattern = rf"{cu.flavour_tag(r['cuda_compiler_version'])}{middle}_h[0-9a-f]{{7}}_\d+"
        assert re.fullmatch(pattern, r["build_string"]), r


def test_torch_bound_is_left_to_run_exports(rendered_matrix):
    """host has a bare pytorch (the variant pins it) plus the flavour; run has the
    flavour and no hand-written pytorch version; CUDA bits only in CUDA variants."""
    for r in rendered_matrix:
        cuda = r["cuda_compiler_version"] != "None"
        flavour = "pytorch * cuda*" if cuda else "pytorch * cpu*"
        assert "pytorch" in r["host"] and flavour in r["host"], r
        stable = [f"pytorch >={cu.load()['stable_torch_target'][0]}"] if r[cu.ABI_KEY] == "stable" else []
        assert [s for s in r["run"] if s.startswith("pytorch")] == [flavour, *stable], r
        assert "python" in r["run"] and "python" in r["host"], r
        assert (f"cuda-version =={r['cuda_compiler_version']}" in r["host"]) == cuda, r
        assert any(s.startswith("cuda-nvcc_") for s in r["build"]) == cuda, r
        assert any(s.startswith("gxx_") for s in r["build"]), r


def test_recipe_version_is_pyproject_version():
    from rattler_build import Stage0Recipe

    project = load_toml(REPO / "pyproject.toml")["project"]  # tomli on 3.10
    newest = {"pytorch": cu.load()[cu.STABLE_BUILD_KEY][0]}
    (rendered,) = Stage0Recipe.from_file(RECIPE).render(cu.variant_config({**local_variant(), **newest}))
    assert rendered.recipe.package.version == project["version"]


# --- end to end (slow) ------------------------------------------------------

@slow
def test_package_depends_on_the_torch_minor_it_was_built_with(built_package):
    """index.json: `pytorch >=X.Y,<X.(Y+1)` from pytorch's run_exports + the cpu flavour."""
    import torch

    assert built_package["name"] == "torchrig"
    assert pathlib.Path(built_package["file"]).is_file()
    depends = built_package["depends"]
    assert "pytorch * cpu*" in depends
    major, minor = _minor(torch.__version__)
    bound = _pytorch_bound(depends)
    assert _admits(bound, f"{major}.{minor}.0") and _admits(bound, f"{major}.{minor}.9")
    assert not _admits(bound, f"{major}.{minor + 1}.0") and not _admits(bound, f"{major}.{minor - 1}.9")
    py = f"{sys.version_info.major}{sys.version_info.minor}"
    assert any(d.startswith("python_abi ") and d.endswith(f"_cp{py}") for d in depends)
    # rattler-build ran the recipe's tests (the numerical one prints this line)
    log = pathlib.Path(built_package["log"]).read_text()
    assert "matches the reference on torch" in log and "pip check passed" in log


@slow
def test_installs_from_the_channel_and_matches_the_reference(built_package, local_channel, tmp_path):
    """Solve `torchrig` with py-rattler, install into a fresh prefix, run the ops there."""
    prefix = tmp_path / "env"
    records = by_name(create_env([OUTPUT_DIR, local_channel], ["torchrig"], prefix))
    assert str(records["torchrig"].build) == built_package["build"]
    assert str(records["pytorch"].build).startswith("cpu")
    check = (
        "import json, torch, torchrig\n"
        "from torchrig import reference\n"
        "from torchrig.procedural import random_rig\n"
        "from torchrig.rotations import axis_angle_to_matrix\n"
        "parents, offsets, rest, idx, w = random_rig(12, 64, 4, dtype=torch.float64, seed=3)\n"
        "rot = axis_angle_to_matrix(torch.randn(2, 12, 3, dtype=torch.float64)).requires_grad_()\n"
        "mine = torchrig.skin(rest, torchrig.forward_kinematics(rot, offsets, parents), idx, w)\n"
        "ref = reference.skin(rest, reference.forward_kinematics(rot, offsets, parents), idx, w)\n"
        "g_mine, = torch.autograd.grad(mine.square().sum(), rot)\n"
        "g_ref, = torch.autograd.grad(ref.square().sum(), rot)\n"
        "print(json.dumps({'torch': torch.__version__, 'torchrig': torchrig.__file__,\n"
        "  'value_err': (mine - ref).abs().max().item(), 'grad_err': (g_mine - g_ref).abs().max().item(),\n"
        "  'conda_build': torchrig.BUILD_INFO['conda_build']}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    out = subprocess.run([str(prefix / "bin" / "python"), "-c", check], env=env, cwd=tmp_path,
                         check=True, capture_output=True, text=True, timeout=COMMAND_S).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["torchrig"].startswith(str(prefix))
    assert _minor(result["torch"]) == _minor(str(records["pytorch"].version))
    assert result["conda_build"] == built_package["build"]
    assert result["value_err"] < 1e-10 and result["grad_err"] < 1e-8


@slow
def test_a_plain_solve_installs_a_torch_that_imports(built_package, local_channel, tmp_path):
    """Issue 27: the newest pytorch a plain solve picks is never an empty stand-in record. The
    channel has every pytorch build conda-forge has (recorded) for this Python; on a GPU-less
    machine `torchrig` alone and `pytorch` alone both get a real one, which imports."""
    for specs in (["torchrig"], ["pytorch"]):
        prefix = tmp_path / specs[0]
        records = by_name(create_env([OUTPUT_DIR, local_channel], specs, prefix))
        pytorch = records["pytorch"]
        assert str(pytorch.build).startswith("cpu_mkl_"), pytorch  # mkl outranks generic (+100)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        out = subprocess.run([str(prefix / "bin" / "python"), "-c", "import torch; print(torch.__version__)"],
                             env=env, cwd=tmp_path, capture_output=True, text=True, timeout=COMMAND_S)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip().split("+")[0] == str(pytorch.version)


@slow
def test_another_torch_minor_is_refused_at_solve_time(built_package, local_channel, tmp_path):
    """The seed incident: torchrig beside a pytorch of another minor. The channel has one
    (conda-forge's other recorded minor, solvable on its own), but not with torchrig: the
    solver fails, naming pytorch and the bound, and no environment is created."""
    from torchrig_release import conda_forge

    major, minor = _minor(built_package["variant"]["pytorch"])
    other = max((m for m in conda_forge.minors() if m != f"{major}.{minor}"), key=cu.version_key)
    spec = f"pytorch {other}.*"
    assert _minor(str(by_name(solve([local_channel], [spec]))["pytorch"].version)) == _minor(other)
    prefix = tmp_path / "env"
    with pytest.raises(SolverError) as failure:
        create_env([OUTPUT_DIR, local_channel], ["torchrig", spec], prefix)
    message = str(failure.value)
    print(message)
    assert "pytorch" in message and "torchrig" in message
    assert f">={major}.{minor}" in message  # the run_exports bound is what conflicts
    assert not prefix.exists()


@slow
def test_cuda_variant_has_the_bound_and_the_flavour(cuda_record, local_variants):
    """The metadata-only CUDA record went through the same render + run_exports."""
    from rattler_build import Stage0Recipe

    v = cuda_record["variant"]
    (rendered,) = Stage0Recipe.from_file(RECIPE).render(cu.variant_config(v, local_variants))
    assert cuda_record["build"] == str(rendered.recipe.build.string)
    assert ("_stable_" in cuda_record["build"]) == (v["torchrig_abi"] == "stable")
    assert "pytorch * cuda*" in cuda_record["depends"]
    assert _admits(_pytorch_bound(cuda_record["depends"]), f"{v['pytorch']}.0")
    major = v["cuda_compiler_version"].split(".")[0]
    assert any(d.startswith("cuda-version ") and f"<{int(major) + 1}" in d for d in cuda_record["depends"])


@slow
def test_cuda_variant_solves_only_with_cuda_virtual_package(cuda_record, local_channel):
    """On a GPU-less machine: works with __cuda overridden (CONDA_OVERRIDE_CUDA's
    job), fails clearly without it."""
    channels = [cuda_record["channel"], local_channel]
    cuda = cuda_record["variant"]["cuda_compiler_version"]
    records = by_name(solve(channels, ["torchrig * cuda*"], cuda=cuda))
    assert str(records["torchrig"].build) == cuda_record["build"]
    assert str(records["pytorch"].build).startswith(cu.flavour_tag(cuda))
    with pytest.raises(SolverError) as failure:
        solve(channels, ["torchrig * cuda*"], cuda=None)
    assert "__cuda" in str(failure.value)
