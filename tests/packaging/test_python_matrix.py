"""The per-Python CI runner (tests/support/python_matrix.py) covers every Python of the matrix this machine has."""
from __future__ import annotations

import pytest

from support import python_matrix as pmx
from torchrig_release.variants import load as load_variants


def test_every_matrix_python_on_this_machine_is_run():
    """A Python in recipe/variants.yaml with a pyenv interpreter here gets a per-Python run
    (or is .venv's, run by README's test command), so 'supports 3.X' is measured."""
    have = pmx.pyenv_interpreters()
    if not have:
        pytest.skip("no pyenv interpreters on this machine")
    covered = set(pmx.TORCH_FOR_PYTHON) | {pmx.MAIN_RUN[0]}
    missing = [v for v in load_variants()["python"] if v in have and v not in covered]
    assert missing == [], f"add a torch for {missing} to TORCH_FOR_PYTHON in {pmx.__file__}"


def test_unknown_python_is_refused_with_the_fix(capsys):
    with pytest.raises(SystemExit) as exit_info:
        pmx.main(["--python", "3.9"])
    assert exit_info.value.code == 2 and "TORCH_FOR_PYTHON" in capsys.readouterr().err


def test_summary_pattern_reads_pytest_closing_lines():
    assert pmx.SUMMARY.findall("x\n2 failed, 96 passed, 47 skipped in 192.67s (0:03:12)\n") == [
        "2 failed, 96 passed, 47 skipped in 192.67s (0:03:12)"]
    assert pmx.SUMMARY.findall("===== 3 passed in 1.20s =====\n") == ["3 passed in 1.20s"]


def test_each_run_uses_a_pypi_torch_the_stable_build_serves():
    """The per-Python runs build from source against PyPI torches (pip, not conda: variants.yaml
    holds conda-forge's minors, which trail PyPI): each is a torch this kind of machine installs
    (machine.py) and at least the stable target, so the stable build is tested with it too."""
    from torchrig_release import machine
    from torchrig_release.variants import version_key
    from torchrig_release.library import torch_version

    target = version_key(load_variants()["stable_torch_target"][0])
    known = {machine.BUILD_TORCH, machine.CUDA_TORCH, machine.NEWEST_TORCH}
    off = {py: t for py, t in pmx.TORCH_FOR_PYTHON.items()
           if t not in known or version_key(torch_version.minor_text(t)) < target}
    assert off == {}, f"{off}: not a machine torch (machine.py) at or above the stable target"


def test_the_runs_install_what_the_unit_tests_import():
    """Each per-Python venv gets TEST_EXTRAS + the build tools + torch: that must cover the
    third-party modules tests/unit reaches (tests/support/import_closure.py), on every Python."""
    from support import import_closure as ic
    from torchrig_release import build_requirements
    from torchrig_release.paths import REPO

    have = {n.lower() for n in [*pmx.TEST_EXTRAS, *build_requirements.names(), "torch"]}
    files = sorted((REPO / "tests" / "unit").glob("*.py"))
    for python in pmx.TORCH_FOR_PYTHON:
        version = tuple(int(p) for p in python.split("."))
        missing = [r for r in ic.closure(REPO, files, version)
                   if not have & {n.lower() for name in r.names
                                  for n in (name, *ic.providers(name)) if name not in ic.STDLIB_CHANGES}]
        assert missing == [], f"Python {python}: add to TEST_EXTRAS: {missing}"
