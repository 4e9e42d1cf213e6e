"""The stable build's Python side, without a stable build: the guard's rule
(_guard.stable_problems), the error bridge (_stable._typed) and the one target
constant (_stable_target) that CMake, the pin and the guard read."""
from __future__ import annotations

import importlib.util
import pathlib

import pytest

from torchrig import _guard, _stable, _stable_target

ROOT = pathlib.Path(__file__).resolve().parents[2]
STABLE_CPU = {"abi": "stable", "stable_target": "2.10", "torch_version": "2.13.0+cpu",
              "torch_cuda": None, "with_cuda": False, "cxx11_abi": True}
STABLE_CU13 = {**STABLE_CPU, "torch_version": "2.14.1+cu130", "torch_cuda": "13.0",
               "with_cuda": True}


def _torch_pin():
    """build_tools/torch_pin.py, loaded by path as scikit-build-core's provider-path does."""
    spec = importlib.util.spec_from_file_location("_torch_pin", ROOT / "build_tools" / "torch_pin.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("torch_version,cuda", [("2.10.0", None), ("2.13.0+cpu", None),
                                                ("2.15.0+cu132", "13.2"), ("3.0.0", None)])
def test_cpu_stable_build_loads_in_every_torch_from_the_target(torch_version, cuda):
    assert _guard.stable_problems(STABLE_CPU, _guard.TorchEnv(torch_version, cuda, False)) == []
    assert _guard.mismatch(STABLE_CPU, torch_version, cuda, cxx11_abi=False) is None


def test_older_torch_is_refused_naming_the_target():
    why = _guard.mismatch(STABLE_CPU, "2.9.1+cpu", None, True)
    assert "torch 2.9 is older than 2.10" in why and "pip install 'torch>=2.10'" in why


@pytest.mark.parametrize("torch_version,cuda,expect", [
    ("2.15.0+cpu", None, "this torch is a CPU build"),
    ("2.15.0+cu129", "12.9", "built for CUDA 13.x"),
])
def test_cuda_stable_build_needs_its_flavour(torch_version, cuda, expect):
    assert expect in _guard.mismatch(STABLE_CU13, torch_version, cuda, True)
    assert _guard.mismatch(STABLE_CU13, "2.15.0+cu132", "13.2", True) is None


def test_classic_builds_keep_the_minor_rule():
    classic = {**STABLE_CPU, "abi": "classic", "stable_target": None}
    assert "torch minor 2.13 != 2.14" in _guard.mismatch(classic, "2.14.1", None, True)


def test_guard_loads_on_its_own_as_abi_check_loads_it():
    from torchrig_release.library import library_module

    guard = library_module("_guard")  # how abi-check loads an artifact's guard: no torchrig/__init__
    found = guard.problems(STABLE_CPU, guard.TorchEnv("2.9.0", None, True))
    assert [p.kind for p in found] == ["torch-too-old"]


def test_one_target_constant():
    assert _stable_target.target_str() == "2.10"
    assert _stable_target.target_hex() == "0x020a000000000000"
    torch_pin = _torch_pin()
    assert torch_pin.stable_requirement() == "torch>=2.10"
    cmake = (ROOT / "cmake/stable.cmake").read_text()
    assert "_stable_target.py" in cmake and "0x020a" not in cmake


@pytest.mark.parametrize("raised,want", [
    (ValueError("ValueError: indices must lie in [0, J)"), ValueError),
    (ValueError("TypeError: indices must be int64 (torch.long), got Int"), TypeError),
    (RuntimeError("TypeError: parents must be int64"), TypeError),     # torch 2.15's path
    (RuntimeError("ValueError: offsets is None; expected a tensor"), ValueError),
])
def test_bridge_raises_the_tagged_type_without_the_tag(raised, want):
    def kernel(*args):
        raise raised
    with pytest.raises(want) as info:
        _stable._typed(kernel)(1, 2)
    assert type(info.value) is want
    assert not str(info.value).startswith(("ValueError: ", "TypeError: "))


def test_bridge_leaves_other_errors_alone():
    def kernel(*args):
        raise RuntimeError("CUDA error: out of memory")
    with pytest.raises(RuntimeError, match="^CUDA error"):
        _stable._typed(kernel)()
    assert _stable._typed(lambda x: x + 1)(1) == 2


def test_pin_provider_follows_the_abi_switch(monkeypatch):
    torch_pin = _torch_pin()
    monkeypatch.setenv("TORCHRIG_ABI", "stable")
    assert torch_pin.dynamic_metadata("dependencies") == ["torch>=2.10"]
    monkeypatch.setenv("TORCHRIG_ABI", "classic")
    import torch
    assert torch_pin.dynamic_metadata("dependencies") == [torch_pin.torch_requirement(torch.__version__)]
