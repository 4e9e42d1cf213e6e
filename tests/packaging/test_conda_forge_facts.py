"""The record of what conda-forge builds (recipe/conda-forge-facts.yaml) and our files agree.

variants.yaml may only ask for pytorch minors conda-forge builds (a minor it lacks cannot be
solved by `rattler-build -c conda-forge`, pixi or conda), its stable build compiles against
the newest recorded minor, the toolchain and CUDA arch lists are conda-forge's, and the recipe
uses what pytorch's own feedstock uses (vs2022 on win-64, nvtx-c for CUDA).
"""
from __future__ import annotations

import datetime
import re
import subprocess
import sys

import pytest

from torchrig_release import conda_forge as cf
from torchrig_release import variants
from torchrig_release.paths import RECIPE, REPO
from support.timeouts import COMMAND_S


def test_every_fact_names_a_source_with_commit_and_date():
    record = cf.load()
    for name, source in record["sources"].items():
        assert re.fullmatch(r"conda-forge/[\w.-]+", source["repo"]), name
        assert re.fullmatch(r"[0-9a-f]{40}", source["commit"]), name
        datetime.date.fromisoformat(source["date"])
    assert cf.pytorch_builds("linux-64"), "the record lists no linux-64 pytorch"


def test_build_numbers_and_strings_follow_the_record():
    """2.13.0 build 2: cpu generic _2, cpu mkl _102, CUDA generic _202, CUDA mkl _302."""
    by = {(b.version, b.cuda, b.blas): b for b in cf.pytorch_builds("linux-64", "3.11")}
    assert by[("2.13.0", "None", "generic")].build_string("h0", None) == "cpu_generic_py311_hh0_2"
    assert by[("2.13.0", "None", "mkl")].number == 102
    assert by[("2.13.0", "13.0", "generic")].number == 202
    assert by[("2.13.0", "13.0", "mkl")].build_string("abc", None) == "cuda130_mkl_py311_habc_302"


def test_variants_yaml_and_the_arch_table_agree_with_the_record():
    assert cf.disagreements() == []


def test_the_stable_build_compiles_against_the_newest_recorded_minor():
    assert variants.load()[variants.STABLE_BUILD_KEY] == [cf.newest_minor()]
    assert set(variants.load()["pytorch"]) <= set(cf.minors())


def test_a_minor_conda_forge_lacks_is_reported(tmp_path):
    """What today's check guards against: variants.yaml on PyPI's minors (2.14, 2.15)."""
    copy = variants.derive(tmp_path / "variants.yaml", {"pytorch": ["2.14", "2.15"],
                                                        variants.STABLE_BUILD_KEY: ["2.15"]})
    found = cf.disagreements(copy)
    assert any("pytorch 2.14, 2.15 for python 3.11 cpu on linux-64" in f for f in found), found
    assert any("stable build compiles against pytorch 2.15" in f for f in found), found


def test_the_verb_reports_disagreements_and_exits_1(tmp_path):
    copy = variants.derive(tmp_path / "variants.yaml", {"pytorch": ["2.11"]})
    run = [sys.executable, "-m", "torchrig_release", "conda-forge"]
    ok = subprocess.run(run, capture_output=True, text=True, cwd=REPO, timeout=COMMAND_S)
    assert ok.returncode == 0 and ok.stdout == "", ok.stderr
    bad = subprocess.run([*run, "--variants", str(copy)], capture_output=True, text=True, cwd=REPO,
                         timeout=COMMAND_S)
    assert bad.returncode == 1, bad.stderr
    assert "pytorch 2.11 for python 3.10 cpu on linux-64: conda-forge builds only 2.9, 2.12, 2.13" in bad.stdout
    assert "refresh the record (see --help)" in bad.stderr
    helptext = subprocess.run([*run, "--help"], capture_output=True, text=True, cwd=REPO,
                              timeout=COMMAND_S).stdout
    assert "pytorch-cpu-feedstock" in helptext and "conda-forge-pinning-feedstock" in helptext


def _render(platform: str, **variant: str):
    from rattler_build import PlatformConfig, RenderConfig, Stage0Recipe

    config = RenderConfig(platform=PlatformConfig(target_platform=platform))
    return [r.recipe for r in Stage0Recipe.from_file(RECIPE).render(
        variants.variant_config(variant, platform=platform), config)]


@pytest.mark.parametrize("cuda", ["12.9", "13.0"])
def test_cuda_host_has_what_pytorchs_own_cmake_consumer_uses(cuda):
    (stage1, *_) = _render("linux-64", python="3.11", cuda_compiler_version=cuda, torchrig_abi="classic",
                           pytorch="2.13")
    host = [s.split()[0] for s in stage1.requirements.host]
    assert set(cf.load()["cmake_consumer_cuda_requires"]) <= set(host), host
    assert "cuda-nvtx-dev" not in host


def test_win_64_builds_with_vs2022():
    """Set in variants.yaml, not left to the tool: py-rattler-build 0.73 renders vs2022 by
    default, but older rattler-build and conda-build's own default is vs2017 (C++20 needs 2019+)."""
    assert variants.load(platform="win-64").get("cxx_compiler") == ["vs2022"]
    for stage1 in _render("win-64", python="3.11"):
        build = [s.split()[0] for s in stage1.requirements.build]
        assert "vs2022_win-64" in build and "vs2017_win-64" not in build, build
