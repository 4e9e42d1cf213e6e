"""The import-time ABI guard: a mismatched build is refused with a clear message."""
from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys

import pytest
import torch

import torchrig
from torchrig import _guard
from support.timeouts import COMMAND_S

PKG = pathlib.Path(torchrig.__file__).parent


def _copy_package_with(tmp_path: pathlib.Path, **changes) -> pathlib.Path:
    dest = tmp_path / "site" / "torchrig"
    shutil.copytree(PKG, dest, ignore=shutil.ignore_patterns("__pycache__"))
    info = json.loads((dest / "_build_info.json").read_text())
    info.update(changes)
    (dest / "_build_info.json").write_text(json.dumps(info))
    return dest.parent


def _import_in_subprocess(site: pathlib.Path, env_extra=None):
    import os
    env = {**os.environ, "PYTHONPATH": str(site), **(env_extra or {})}
    return subprocess.run([sys.executable, "-c", "import torchrig; print('imported')"],
                          capture_output=True, text=True, env=env, cwd=site, timeout=COMMAND_S)


def test_build_info_records_the_running_torch():
    info = _guard.load_build_info()
    assert info["torch_version"] == torch.__version__
    assert info["cxx11_abi"] == bool(torch._C._GLIBCXX_USE_CXX11_ABI)
    assert torchrig._C.compiled_torch_version() == torch.__version__.split("+")[0]


def test_matching_build_has_no_mismatch():
    assert _guard.mismatch(_guard.load_build_info(), torch.__version__, torch.version.cuda,
                           bool(torch._C._GLIBCXX_USE_CXX11_ABI)) is None


@pytest.mark.parametrize("changes,needle", [
    ({"torch_version": "2.8.0"}, "torch minor 2.8 != "),
    ({"with_cuda": True, "torch_cuda": "13.0", "links_torch_cuda": True},
     "built against a CUDA 13.0 torch"),
    ({"with_cuda": False, "torch_cuda": "13.0", "links_torch_cuda": True},
     "but this torch is a CPU build"),
    ({"cxx11_abi": False}, "_GLIBCXX_USE_CXX11_ABI 0 != 1"),
])
def test_mismatch_reasons(changes, needle):
    info = {**_guard.load_build_info(), **changes}
    why = _guard.mismatch(info, torch.__version__, None, True)
    assert why is not None and needle in why


def test_mismatched_build_refused_at_import(tmp_path):
    site = _copy_package_with(tmp_path, torch_version="2.8.0+cpu")
    proc = _import_in_subprocess(site)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "ImportError: torchrig was built for torch 2.8.0+cpu" in proc.stderr
    assert f"this environment has torch {torch.__version__}" in proc.stderr
    assert "pip install 'torch>=2.8,<2.9'" in proc.stderr
    assert "undefined symbol" not in proc.stderr


def test_skip_env_bypasses_the_guard_and_says_so(tmp_path):
    site = _copy_package_with(tmp_path, torch_version="2.8.0+cpu")
    proc = _import_in_subprocess(site, {"TORCHRIG_SKIP_ABI_CHECK": "1"})
    assert proc.returncode == 0 and "imported" in proc.stdout, proc.stderr
    # issue 32: it loaded silently; now a RuntimeWarning names what the guard would refuse
    assert "RuntimeWarning: TORCHRIG_SKIP_ABI_CHECK=1: loading torchrig although" in proc.stderr
    assert "torch minor 2.8 != " in proc.stderr, proc.stderr


def test_missing_build_info_is_an_import_error(tmp_path):
    site = _copy_package_with(tmp_path)
    (site / "torchrig" / "_build_info.json").unlink()
    proc = _import_in_subprocess(site)
    assert "installation is incomplete" in proc.stderr


def test_info_without_a_build_record_says_so_without_a_traceback(tmp_path):
    """issue 32: `python -m torchrig info` in a source tree or a broken install printed a traceback."""
    import os
    site = _copy_package_with(tmp_path)
    (site / "torchrig" / "_build_info.json").unlink()
    proc = subprocess.run([sys.executable, "-m", "torchrig", "info"], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(site)}, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "missing _build_info.json" in proc.stderr and "pip install" in proc.stderr


def test_problems_are_data_and_the_formatter_words_them():
    # a CPU build record (torch_cuda None): the running torch may be a CUDA wheel
    info = {**_guard.load_build_info(), "torch_version": "2.8.0", "torch_cuda": None, "cxx11_abi": False}
    env = _guard.TorchEnv("2.13.0+cpu", None, True)
    found = _guard.problems(info, env)
    assert [p.kind for p in found] == ["torch-minor", "cxx11-abi"]
    text = _guard.format_problems(info, env, found)
    assert all(p.message in text for p in found) and "pip install 'torch>=2.8,<2.9'" in text
    assert _guard.problems(_guard.load_build_info(), _guard.TorchEnv.running()) == []


def test_info_works_when_the_guard_refuses(tmp_path):
    """`python -m torchrig info`, the command the refusal points to: the build record, the
    running torch and the mismatch, exit status 1, no traceback."""
    import os
    site = _copy_package_with(tmp_path, torch_version="2.8.0+cpu")
    proc = subprocess.run([sys.executable, "-m", "torchrig", "info"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(site)}, cwd=site, timeout=COMMAND_S)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "torch_version          2.8.0+cpu" in proc.stdout            # the build record
    assert f"torch                  {torch.__version__}" in proc.stdout  # the running torch
    assert "match                  NO: torch minor 2.8 != " in proc.stdout
    assert "pip install 'torch>=2.8,<2.9'" in proc.stdout               # how to fix it
    assert "not loaded" in proc.stdout
    # any other command still refuses at import, with the guard's message
    other = subprocess.run([sys.executable, "-m", "torchrig", "demo", "--help"], capture_output=True,
                           text=True, env={**os.environ, "PYTHONPATH": str(site)}, cwd=site, timeout=COMMAND_S)
    assert other.returncode == 1 and "torchrig was built for torch 2.8.0+cpu" in other.stderr


def test_cpu_build_against_a_cuda_torch_links_no_cuda_library_so_loads_in_a_cpu_torch():
    # cmake/torch.cmake: a CPU build links libtorch_cpu/libc10 only (links_torch_cuda False)
    info = {**_guard.load_build_info(), "with_cuda": False, "torch_cuda": "13.0",
            "links_torch_cuda": False}
    assert _guard.mismatch(info, torch.__version__, None, True) is None
