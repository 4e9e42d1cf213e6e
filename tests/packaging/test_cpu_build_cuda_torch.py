"""A CPU build from source against PyPI's torch (a CUDA build) on a machine without a CUDA
toolkit: cmake/torch.cmake must not need nvcc, and the library must not link torch's CUDA
libraries. A CUDA build there must fail saying exactly what to install.

Slow (one CPU compile, ~2-4 min on 2 cores) in the cached venv-py3.11-torch2.14.1 (CUDA 13,
made by torchrig_release.venv; shared with test_cuda_build.py, hence the same extras), with
PATH lacking every CUDA bin folder and CUDA_HOME/CUDA_PATH/CUDACXX unset; its own build
folder (build/cpu-on-cuda-torch), so the other builds are never touched.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from support.probes import OPS_PROBE
from torchrig_release import machine
from torchrig_release.paths import REPO, torch_venv_dir
from torchrig_release.venv import ensure_venv
from support.timeouts import COMMAND_S

pytestmark = [pytest.mark.slow]

TORCH_VERSION = machine.CUDA_TORCH
VENV_EXTRA = ["numpy", "pytest", "scikit-build-core", "pybind11", "cmake", "ninja"]


def no_cuda_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CUDA_HOME", "CUDA_PATH", "CUDACXX")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and not (Path(p) / "nvcc").exists())
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def python() -> Path:
    return ensure_venv(torch_venv_dir(TORCH_VERSION), TORCH_VERSION, VENV_EXTRA)


def _wheel(python: Path, out: Path, build_dir: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-m", "pip", "wheel", "-v", "--no-build-isolation",
                           "--no-deps", "-w", str(out), str(REPO)], capture_output=True, text=True,
                          env=no_cuda_env(SKBUILD_BUILD_DIR=str(REPO / "build" / build_dir), **env),
                          cwd=REPO, timeout=1800)


def test_the_environment_has_no_nvcc(python):
    assert shutil.which("nvcc", path=no_cuda_env()["PATH"]) is None


def test_cpu_build_against_the_cuda_torch_needs_no_nvcc(python, tmp_path):
    proc = _wheel(python, tmp_path, "cpu-on-cuda-torch", TORCHRIG_CUDA="OFF")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "no CUDA toolkit needed" in proc.stdout + proc.stderr
    wheel = next(tmp_path.glob("torchrig-*.whl"))
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    so = next((site / "torchrig").glob("_C*.so"))
    needed = subprocess.run(["readelf", "-d", str(so)], capture_output=True, text=True, timeout=COMMAND_S).stdout
    assert "libc10.so" in needed and "cuda" not in needed, needed
    ops = subprocess.run([str(python), "-c", OPS_PROBE], capture_output=True, text=True,
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(site)}, timeout=COMMAND_S)
    assert "OPS OK" in ops.stdout, ops.stdout + ops.stderr


def test_cuda_build_without_nvcc_says_what_to_install(python, tmp_path):
    # CUDA_HOME names a toolkit folder without nvcc: /usr/local/cuda is then not searched
    (tmp_path / "no-toolkit" / "bin").mkdir(parents=True)
    proc = _wheel(python, tmp_path, "cuda-no-nvcc", TORCHRIG_CUDA="ON",
                  CUDA_HOME=str(tmp_path / "no-toolkit"))
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "pip install 'nvidia-cuda-nvcc==13.*'" in text and "CUDA 13.x" in text, text[-4000:]
    assert "torch 13.0" not in text
