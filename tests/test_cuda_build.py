"""The CUDA build compiles and loads, on a machine without a GPU (slow suite).

Builds torchrig with TORCHRIG_CUDA=ON for sm_90 against torch 2.14.1 (CUDA 13)
in its own venv (``.cache/venv-torch2.14.1``, made by tools/torch_venv.py and
reused), in a build directory of its own (``build/cuda-<wheel tag>``, so the
CPU build in ``build/<wheel tag>`` is never touched), installs the wheel into
a scratch directory and imports it from outside the source tree. A .cu file
that does not compile, or kernels that do not register, fail here.
"""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.cudabuild]

ROOT = pathlib.Path(__file__).resolve().parents[1]
TORCH_VERSION = "2.14.1"
VENV = ROOT / ".cache" / f"venv-torch{TORCH_VERSION}"
VENV_EXTRA = ["numpy", "pytest", "scikit-build-core", "pybind11", "cmake", "ninja"]
ARCH = "9.0"
OPS = ["forward_kinematics", "forward_kinematics_backward", "skin", "skin_backward"]

PROBE = """
import json, torch, torchrig
has = torch._C._dispatch_has_kernel_for_dispatch_key
x = torch.randn(5, 3, dtype=torch.float64)
tf = torch.randn(2, 4, 3, 4, dtype=torch.float64)
idx = torch.randint(0, 4, (5, 2))
w = torch.rand(5, 2, dtype=torch.float64)
print(json.dumps({
    "file": torchrig.__file__,
    "compiled_with_cuda": torchrig._C.compiled_with_cuda(),
    "cuda_available": torch.cuda.is_available(),
    "build_info": torchrig.BUILD_INFO,
    "cuda_kernels": {op: has("torchrig::" + op, "CUDA") for op in %r},
    "cpu_kernels": {op: has("torchrig::" + op, "CPU") for op in %r},
    "cpu_skin_ok": bool(torch.allclose(torchrig.skin(x, tf, idx, w),
                                       torchrig.reference.skin(x, tf, idx, w))),
}))
""" % (OPS, OPS)


def find_nvcc() -> str | None:
    for home in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if home and (pathlib.Path(home) / "bin" / "nvcc").is_file():
            return str(pathlib.Path(home) / "bin" / "nvcc")
    return shutil.which("nvcc")


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n"
                    f"{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}")
    return proc


@pytest.fixture(scope="module")
def cuda_install(tmp_path_factory) -> tuple[pathlib.Path, pathlib.Path]:
    """(python of the torch-2.14.1 venv, directory holding the installed CUDA build)."""
    if find_nvcc() is None:
        pytest.skip("no nvcc (set CUDA_HOME): cannot compile the CUDA extension here")
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from torch_venv import ensure_venv
    finally:
        sys.path.pop(0)
    start = time.monotonic()
    py = ensure_venv(VENV, TORCH_VERSION, VENV_EXTRA)
    venv_s = time.monotonic() - start
    wheels = tmp_path_factory.mktemp("cuda-wheel")
    env = {**os.environ, "TORCHRIG_CUDA": "ON", "TORCH_CUDA_ARCH_LIST": ARCH,
           "CMAKE_BUILD_PARALLEL_LEVEL": os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")}
    start = time.monotonic()
    run([str(py), "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-q",
         "-C", "build-dir=build/cuda-{wheel_tag}", "-w", str(wheels), str(ROOT)], env=env, cwd=ROOT)
    build_s = time.monotonic() - start
    site = tmp_path_factory.mktemp("cuda-site")
    run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
         *map(str, wheels.glob("torchrig-*.whl"))])
    print(f"[cudabuild] venv {venv_s:.0f}s, CUDA build (sm_{ARCH.replace('.', '')}) {build_s:.0f}s")
    return py, site


@pytest.fixture(scope="module")
def probe(cuda_install, tmp_path_factory) -> dict:
    py, site = cuda_install
    env = {**os.environ, "PYTHONPATH": str(site), "CUDA_VISIBLE_DEVICES": ""}
    proc = run([str(py), "-c", PROBE], env=env, cwd=tmp_path_factory.mktemp("elsewhere"))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_imports_without_gpu_from_outside_the_tree(probe, cuda_install):
    _, site = cuda_install
    assert pathlib.Path(probe["file"]).is_relative_to(site)
    assert not probe["cuda_available"]
    assert probe["compiled_with_cuda"]
    assert probe["cpu_skin_ok"]


def test_cuda_kernels_registered(probe):
    assert probe["cuda_kernels"] == {op: True for op in OPS}
    assert probe["cpu_kernels"] == {op: True for op in OPS}


def test_build_info_records_cuda(probe):
    info = probe["build_info"]
    assert info["with_cuda"] and info["torch_cuda"] and info["torch_cuda"].startswith("13.")
    assert info["cuda_arch_list"] == ARCH
    assert info["cuda_compiler_version"]


def test_library_holds_sm90_device_code(cuda_install):
    elftools = pytest.importorskip("elftools.elf.elffile")
    _, site = cuda_install
    (lib,) = (site / "torchrig").glob("_C*.so")
    with open(lib, "rb") as f:
        elf = elftools.ELFFile(f)
        fatbin = elf.get_section_by_name(".nv_fatbin")
        assert fatbin is not None and fatbin.data_size > 0, "no device code in the library"
        assert b"sm_90" in fatbin.data()
