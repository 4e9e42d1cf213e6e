"""--abi / --cuda-arch-list of the build verbs (`build`, `build-wheel`): the task arguments that
pixi.toml passes, so that pixi's task cache sees them; a shell variable that disagrees is
refused rather than silently overridden (pixi never hashes the shell)."""
from __future__ import annotations

import argparse
import os

import pytest

from torchrig_release import build_switches, install
from torchrig_release.errors import UsageError
from torchrig_release.main import main


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    build_switches.add_arguments(p)
    return p.parse_args(list(argv))


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    """No switch set before a test, and none left after it: apply() writes os.environ itself,
    which monkeypatch only undoes for a variable it has recorded (a TORCHRIG_ABI=stable left
    behind made every later build of the run a stable one; tests/conftest.py now fails a test
    that leaves one). setenv records the value from before the test, restored last."""
    for name in build_switches.OPTIONS:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_options_set_the_variables_cmake_reads():
    assert build_switches.apply(_args("--abi", "stable", "--cuda-arch-list", "9.0;12.0+PTX")) == {
        "TORCHRIG_ABI": "stable", "TORCH_CUDA_ARCH_LIST": "9.0;12.0+PTX"}
    assert os.environ["TORCHRIG_ABI"] == "stable"


def test_an_empty_arch_list_means_the_tables_default():
    assert build_switches.apply(_args("--abi", "classic", "--cuda-arch-list", "")) == {"TORCHRIG_ABI": "classic"}


def test_without_options_the_environment_is_used(monkeypatch):
    monkeypatch.setenv("TORCHRIG_ABI", "stable")
    assert build_switches.apply(_args()) == {"TORCHRIG_ABI": "stable"}


@pytest.mark.parametrize("variable, argv", [("TORCHRIG_ABI", ("--abi", "classic")),
                                            ("TORCH_CUDA_ARCH_LIST", ("--cuda-arch-list", ""))])
def test_a_disagreeing_shell_variable_is_refused(monkeypatch, variable, argv):
    """`TORCHRIG_ABI=stable pixi run build`: the task passes --abi classic; building classic
    (or letting pixi reuse a cached build) would silently ignore what was asked."""
    monkeypatch.setenv(variable, "stable" if variable == "TORCHRIG_ABI" else "8.0")
    with pytest.raises(UsageError, match=r"task's argument.*pixi run build stable"):
        build_switches.apply(_args(*argv))


def test_the_build_verb_refuses_before_building(monkeypatch, capsys):
    monkeypatch.setenv("TORCHRIG_ABI", "stable")
    monkeypatch.setattr(install, "install", lambda *a, **k: pytest.fail("built despite the conflict"))
    assert main(["build", "--abi", "classic"]) == 2
    assert "TORCHRIG_ABI=stable is set in the environment" in capsys.readouterr().err


def test_the_build_verb_builds_in_the_folder_of_its_abi(monkeypatch):
    built = []
    monkeypatch.setenv("PIXI_ENVIRONMENT_NAME", "py312-cpu")
    monkeypatch.setattr(install, "install", lambda folder, **k: built.append(folder.as_posix()))
    assert main(["build", "--abi", "stable", "--cuda-arch-list", ""]) == 0
    assert built == ["build/py312-cpu/stable"]


def test_test_gpu_builds_classic_before_testing(monkeypatch, capsys):
    from torchrig_release import test_gpu

    built = []
    monkeypatch.setenv("PIXI_ENVIRONMENT_NAME", "py314-cuda")
    monkeypatch.setattr(install, "install", lambda folder, **k: built.append(folder.as_posix()))
    monkeypatch.setattr(test_gpu, "device_line", lambda: "test-gpu: a device")
    monkeypatch.setattr(test_gpu, "run_gpu_tests", lambda memcheck, extra: 0)
    assert main(["test-gpu", "--build"]) == 0
    assert built == ["build/py314-cuda/classic"] and os.environ["TORCHRIG_ABI"] == "classic"
    monkeypatch.setenv("TORCHRIG_ABI", "stable")
    assert main(["test-gpu", "--build"]) == 2 and built == ["build/py314-cuda/classic"]
