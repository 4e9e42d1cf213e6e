"""The CUDA sources, checked on a machine without a GPU.

* Build (slow suite, ``cudabuild``): compiles torchrig with TORCHRIG_CUDA=ON
  for sm_90 against torch 2.14.1 (CUDA 13) in its own venv
  (``<cache>/venv-py3.11-torch2.14.1``, made by torchrig_release.venv and reused), in a
  build directory of its own (``build/cuda-<wheel tag>``, so the CPU build in
  ``build/<wheel tag>`` is never touched), installs the wheel into a scratch
  directory and imports it from outside the source tree. A .cu file that does
  not compile, or kernels that do not register, fail here.
* Emulation (fast): the kernels of csrc/cuda/*_kernels.cuh, compiled by the
  host C++ compiler with csrc/cuda/emulation.cuh (a thread per CUDA thread,
  barriers for __syncthreads/__syncwarp), must agree with the CPU ops, over
  launch shapes that cover shared-memory and global paths, batch tails, grid
  striding and more influences than the register cache holds.
"""
from __future__ import annotations

import ctypes
import json
import math
import os
import pathlib
import shutil
import subprocess
import sys
import time

import pytest
import torch
from torchrig_release import build_requirements, machine
from torchrig_release.paths import REPO as ROOT
from torchrig_release.paths import torch_venv_dir
from torchrig_release.venv import ensure_venv
from support.timeouts import COMMAND_S

import torchrig

TORCH_VERSION = machine.CUDA_TORCH
VENV_EXTRA = ["numpy", "pytest", *build_requirements.names()]
ARCH = "9.0"
OPS = ["forward_kinematics", "forward_kinematics_backward", "skin", "skin_backward",
       "joint_transforms", "joint_transforms_backward"]

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
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw, timeout=COMMAND_S)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n"
                    f"{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}")
    return proc


@pytest.fixture(scope="module")
def cuda_install(tmp_path_factory) -> tuple[pathlib.Path, pathlib.Path]:
    """(python of the torch-2.14.1 venv, directory holding the installed CUDA build)."""
    if find_nvcc() is None:
        pytest.skip("no nvcc (set CUDA_HOME): cannot compile the CUDA extension here")
    start = time.monotonic()
    py = ensure_venv(torch_venv_dir(TORCH_VERSION), TORCH_VERSION, VENV_EXTRA)
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


@pytest.mark.slow
@pytest.mark.cudabuild
def test_imports_without_gpu_from_outside_the_tree(probe, cuda_install):
    _, site = cuda_install
    assert pathlib.Path(probe["file"]).is_relative_to(site)
    assert not probe["cuda_available"]
    assert probe["compiled_with_cuda"]
    assert probe["cpu_skin_ok"]


@pytest.mark.slow
@pytest.mark.cudabuild
def test_cuda_kernels_registered(probe):
    assert probe["cuda_kernels"] == {op: True for op in OPS}
    assert probe["cpu_kernels"] == {op: True for op in OPS}


@pytest.mark.slow
@pytest.mark.cudabuild
def test_build_info_records_cuda(probe):
    info = probe["build_info"]
    assert info["with_cuda"] and info["torch_cuda"] and info["torch_cuda"].startswith("13.")
    assert info["cuda_arch_list"] == ARCH
    assert info["cuda_compiler_version"]


@pytest.mark.slow
@pytest.mark.cudabuild
def test_library_holds_sm90_device_code(cuda_install):
    elftools = pytest.importorskip("elftools.elf.elffile")
    _, site = cuda_install
    (lib,) = (site / "torchrig").glob("_C*.so")
    with open(lib, "rb") as f:
        elf = elftools.ELFFile(f)
        fatbin = elf.get_section_by_name(".nv_fatbin")
        assert fatbin is not None and fatbin.data_size > 0, "no device code in the library"
        assert b"sm_90" in fatbin.data()


@pytest.mark.slow
@pytest.mark.cudabuild
def test_cuda_wheel_goes_through_the_wheel_pipeline(cuda_install, tmp_path):
    """build-wheel (the one wheel: TORCHRIG_ABI=stable by default, TORCHRIG_CUDA=ON, against the
    venv's torch 2.14.1+cu130, torch's own CUDA 13 arch list, in the build dir
    test_stable_abi.py's one-wheel fixture uses) -> repair -> check: a `torchrig` py3-none wheel
    that vendors none of torch's or CUDA's libraries, pinned torch>=2.10."""
    import zipfile

    py, _ = cuda_install
    dist = tmp_path / "dist"
    env = {k: v for k, v in os.environ.items() if k not in ("TORCH_CUDA_ARCH_LIST", "TORCHRIG_ABI")}
    env.update(TORCHRIG_CUDA="ON", SKBUILD_BUILD_DIR="build/onewheel-cu13-{wheel_tag}")
    tool = [sys.executable, "-m", "torchrig_release"]
    start = time.monotonic()
    run([*tool, "build-wheel", "--python", str(py), "--dist", str(dist)], env=env, cwd=ROOT)
    run([*tool, "repair", "--dist", str(dist), "--plat", "best"], cwd=ROOT)
    checked = run([*tool, "check", "--dist", str(dist), "--torch", str(py.parents[1])], cwd=ROOT)
    print(f"[cudabuild] CUDA wheel pipeline {time.monotonic() - start:.0f}s\n{checked.stdout}")
    (wheel,) = (dist / "repaired").glob("*.whl")
    assert wheel.name.startswith("torchrig-0.1.0-py3-none-manylinux_2_"), wheel.name
    assert "torchrig/libtorchrig_stable_cuda13.so" in zipfile.ZipFile(wheel).namelist()
    names = zipfile.ZipFile(wheel).namelist()
    vendored = [pathlib.Path(n).name for n in names if ".libs/" in n]
    assert not [n for n in vendored if n.startswith(("libtorch", "libc10", "libcu", "libnv"))], vendored
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    (pin,) = [line for line in meta.splitlines() if line.startswith("Requires-Dist: torch")]
    assert pin == "Requires-Dist: torch>=2.10", pin
    for step in ("twine", "name", "pin", "platform", "abi"):
        assert f"ok     {step}" in checked.stdout, checked.stdout


# ---- the kernels on CPU threads (csrc/cuda/emulation.cuh) ---------------------

EMULATION_SOURCE = r"""
#include "cuda/emulation.cuh"
#include "cuda/fk_kernels.cuh"
#include "cuda/joint_kernels.cuh"
#include "cuda/skin_kernels.cuh"

#include <algorithm>
#include <cstdio>
#include <exception>

using namespace torchrig;
namespace emu = torchrig::gpu::emulation;

// dims: B V J K batched_rest; cfg: smem_limit max_warps num_sms grid_y_cap chunks.
// in: rest tf idx w grad; out: y, grad_tf (zeroed), grad_rest ([B,V,3] batched,
// else [C,V,3] partial), grad_w ([C,V,K] partial).
template <typename T>
void skin(const int64_t* dims, const int64_t* cfg, void* const* in, void* const* out) {
  const kernels::SkinDims d{dims[0], dims[1], dims[2], dims[3], dims[4] ? dims[1] * 3 : 0};
  const T* rest = static_cast<const T*>(in[0]);
  const T* tf = static_cast<const T*>(in[1]);
  const int64_t* idx = static_cast<const int64_t*>(in[2]);
  const T* w = static_cast<const T*>(in[3]);
  const T* grad = static_cast<const T*>(in[4]);
  const gpu::LanePlan p = gpu::plan_lanes(
      d.B, d.V, d.J, d.rest_bs ? 2 : 1, sizeof(T), size_t(cfg[0]),
      int(std::min<int64_t>(cfg[1], gpu::lanes_max_warps<T>())), int(cfg[2]));
  const dim3 grid(unsigned(p.splits), unsigned(std::min(p.groups, cfg[3]))), block(p.warps * 32);
  std::printf("plan: slab=%d warps=%d splits=%ld groups=%ld grid=(%u,%u)\n", int(p.slab),
              p.warps, long(p.splits), long(p.groups), grid.x, grid.y);
  emu::launch(grid, block, p.smem_bytes, [&] {
    gpu::skin_forward_kernel<T>(d, p, rest, tf, idx, w, static_cast<T*>(out[0]));
  });
  emu::launch(grid, block, p.smem_bytes, [&] {
    gpu::skin_grad_transforms_kernel<T>(d, p, grad, rest, idx, w, static_cast<T*>(out[1]));
  });
  const int64_t chunk = gpu::ceil_div(d.B, cfg[4]), used = gpu::ceil_div(d.B, chunk);
  emu::launch(dim3(unsigned(gpu::ceil_div(d.V, 64)), unsigned(used)), dim3(64), 0, [&] {
    gpu::skin_grad_vertices_kernel<T>(d, chunk, grad, rest, tf, idx, w,
                                      static_cast<T*>(out[2]), static_cast<T*>(out[3]));
  });
}

template <typename T>
void fk(const int64_t* dims, void* const* in, void* const* out) {
  const int64_t B = dims[0], J = dims[1], off_bs = dims[2] ? J * 3 : 0;
  const dim3 grid(unsigned(gpu::ceil_div(B, gpu::kFkThreads))), block(gpu::kFkThreads);
  const T* rot = static_cast<const T*>(in[0]);
  const T* off = static_cast<const T*>(in[1]);
  const int64_t* parents = static_cast<const int64_t*>(in[2]);
  T* G = static_cast<T*>(out[0]);
  emu::launch(grid, block, 0, [&] { gpu::fk_forward_kernel<T>(B, J, rot, off, off_bs, parents, G); });
  emu::launch(grid, block, 0, [&] {
    gpu::fk_backward_kernel<T>(B, J, rot, off, off_bs, parents, G, static_cast<T*>(in[3]),
                               static_cast<T*>(out[1]), static_cast<T*>(out[2]));
  });
}

// dims: B J has_ib; in: jp off parents ib grad; out: transforms, grad_jp, work.
template <typename T>
void joint(const int64_t* dims, void* const* in, void* const* out) {
  const int64_t B = dims[0], J = dims[1];
  const dim3 grid(unsigned(gpu::ceil_div(B, gpu::kJointThreads))), block(gpu::kJointThreads);
  const T* jp = static_cast<const T*>(in[0]);
  const T* off = static_cast<const T*>(in[1]);
  const int64_t* parents = static_cast<const int64_t*>(in[2]);
  const T* ib = dims[2] ? static_cast<const T*>(in[3]) : nullptr;
  const T* grad = static_cast<const T*>(in[4]);
  T* work = static_cast<T*>(out[2]);
  emu::launch(grid, block, 0, [&] {
    gpu::joint_forward_kernel<T>(B, J, jp, off, parents, ib, static_cast<T*>(out[0]), work);
  });
  emu::launch(grid, block, 0, [&] {
    gpu::joint_backward_kernel<T>(B, J, grad, jp, off, parents, ib, static_cast<T*>(out[1]), work);
  });
}

extern "C" int emu_joint(int elem, const int64_t* dims, void* const* in, void* const* out) {
  elem == 8 ? joint<double>(dims, in, out) : joint<float>(dims, in, out);
  return 0;
}

extern "C" int emu_skin(int elem, const int64_t* dims, const int64_t* cfg, void* const* in,
                        void* const* out) {
  try {
    elem == 8 ? skin<double>(dims, cfg, in, out) : skin<float>(dims, cfg, in, out);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}

extern "C" int emu_fk(int elem, const int64_t* dims, void* const* in, void* const* out) {
  elem == 8 ? fk<double>(dims, in, out) : fk<float>(dims, in, out);
  return 0;
}
"""


@pytest.fixture(scope="module")
def emulated(tmp_path_factory) -> ctypes.CDLL:
    """The kernels built for the host (C++20 <barrier>) as a ctypes library."""
    cxx = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
    if cxx is None:
        pytest.skip("no C++ compiler to build the CUDA kernel emulation")
    work = tmp_path_factory.mktemp("emulation")
    (work / "emulation.cpp").write_text(EMULATION_SOURCE)
    run([cxx, "-std=c++20", "-O1", "-pthread", "-shared", "-fPIC", "-Wall", "-Wno-unknown-pragmas",
         "-I", str(ROOT / "csrc"), str(work / "emulation.cpp"), "-o", str(work / "emulation.so")])
    return ctypes.CDLL(str(work / "emulation.so"))


def _ptrs(tensors) -> ctypes.Array:
    return (ctypes.c_void_p * len(tensors))(*[t.data_ptr() for t in tensors])


def _ints(values) -> ctypes.Array:
    return (ctypes.c_int64 * len(values))(*values)


def _skin_inputs(B, V, J, K, batched, coherent, dtype, seed):
    gen = torch.Generator().manual_seed(seed)
    rest = torch.randn(*((B,) if batched else ()), V, 3, generator=gen, dtype=dtype)
    tf = torch.randn(B, J, 3, 4, generator=gen, dtype=dtype)
    if coherent:  # runs of neighbouring vertices on the same joints, some breaks
        idx = (torch.arange(V)[:, None] // 5 + 3 * torch.arange(K)) % J
        idx = torch.where(torch.rand(V, K, generator=gen) < 0.2,
                          torch.randint(0, J, (V, K), generator=gen), idx)
    else:
        idx = torch.randint(0, J, (V, K), generator=gen)
    w = torch.randn(V, K, generator=gen, dtype=dtype)
    return rest, tf, idx, w, torch.randn(B, V, 3, generator=gen, dtype=dtype)


# (B, V, J, K, batched rest, coherent, smem bytes, max warps, SMs, grid.y cap, chunks, dtype)
EMULATION_CASES = [
    (1, 1, 1, 1, False, True, 1 << 17, 16, 4, 65535, 1, torch.float64),
    (5, 37, 7, 3, False, True, 1 << 17, 16, 4, 65535, 2, torch.float64),
    (33, 100, 9, 4, True, False, 1 << 17, 4, 4, 65535, 3, torch.float64),  # batch tail
    (70, 90, 5, 6, False, True, 1 << 17, 8, 2, 2, 4, torch.float64),  # K > cached, grid.y strides
    (40, 300, 11, 4, True, True, 20000, 16, 3, 65535, 40, torch.float64),  # no slab: global rows
    (64, 200, 13, 4, False, False, 1 << 17, 16, 8, 65535, 5, torch.float32),
    (3, 50, 55, 2, True, True, 60000, 16, 1, 65535, 1, torch.float32),  # J = 55, no slab
    (33, 40, 55, 5, False, False, 1 << 17, 16, 132, 1, 7, torch.float32),
]


def _case_id(case) -> str:
    return "B{}-V{}-J{}-K{}-{}".format(*case[:4], str(case[-1]).removeprefix("torch."))


@pytest.mark.parametrize("case", EMULATION_CASES, ids=_case_id)
def test_emulated_skin_kernels_match_cpu(emulated, case):
    B, V, J, K, batched, coherent, smem, warps, sms, ycap, chunks, dtype = case
    rest, tf, idx, w, grad = _skin_inputs(B, V, J, K, batched, coherent, dtype, seed=B * 1000 + V)
    chunk = math.ceil(B / chunks)
    used = math.ceil(B / chunk)
    y = torch.full((B, V, 3), float("nan"), dtype=dtype)
    g_tf = torch.zeros_like(tf)
    g_rest = torch.full((B, V, 3) if batched else (used, V, 3), float("nan"), dtype=dtype)
    g_w = torch.full((used, V, K), float("nan"), dtype=dtype)
    rc = emulated.emu_skin(tf.element_size(), _ints([B, V, J, K, int(batched)]),
                           _ints([smem, warps, sms, ycap, chunks]),
                           _ptrs([rest, tf, idx, w, grad]), _ptrs([y, g_tf, g_rest, g_w]))
    assert rc == 0
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == torch.float32 else {}
    torch.testing.assert_close(y, torchrig.ops.skin(rest, tf, idx, w), **tol)
    want = torch.ops.torchrig.skin_backward(grad, rest, tf, idx, w, [True, True, True])
    torch.testing.assert_close(g_rest if batched else g_rest.sum(0), want[0], **tol)
    torch.testing.assert_close(g_tf, want[1], **tol)
    torch.testing.assert_close(g_w.sum(0), want[2], **tol)


@pytest.mark.parametrize("batched_offsets", [False, True])
def test_emulated_fk_kernels_match_cpu(emulated, batched_offsets):
    B, J = 70, 9
    gen = torch.Generator().manual_seed(1)
    parents = torch.tensor([-1, 0, 1, 1, 0, 4, -1, 6, 2])
    rot = torch.randn(B, J, 3, 3, generator=gen, dtype=torch.float64)
    off = torch.randn(*((B,) if batched_offsets else ()), J, 3, generator=gen, dtype=torch.float64)
    grad = torch.randn(B, J, 3, 4, generator=gen, dtype=torch.float64)
    G = torch.empty(B, J, 3, 4, dtype=torch.float64)
    g_rot, g_off = torch.empty_like(rot), torch.empty(B, J, 3, dtype=torch.float64)
    adj = grad.clone()
    assert emulated.emu_fk(8, _ints([B, J, int(batched_offsets)]), _ptrs([rot, off, parents, adj]),
                           _ptrs([G, g_rot, g_off])) == 0
    torch.testing.assert_close(G, torchrig.ops.forward_kinematics(rot, off, parents))
    want = torch.ops.torchrig.forward_kinematics_backward(grad, rot, off, parents, G)
    torch.testing.assert_close(g_rot, want[0])
    torch.testing.assert_close(g_off if batched_offsets else g_off.sum(0), want[1])


@pytest.mark.parametrize("with_bind", [False, True])
def test_emulated_joint_kernels_match_cpu(emulated, with_bind):
    B, J = 70, 9
    gen = torch.Generator().manual_seed(2)
    parents = torch.tensor([-1, 0, 1, 1, 0, 4, -1, 6, 2])
    jp = torch.randn(B, J, 7, generator=gen, dtype=torch.float64)
    off = torch.randn(J, 3, generator=gen, dtype=torch.float64)
    ib = torch.randn(J, 3, 4, generator=gen, dtype=torch.float64)
    grad = torch.randn(B, J, 3, 4, generator=gen, dtype=torch.float64)
    out = torch.empty(B, J, 3, 4, dtype=torch.float64)
    g_jp = torch.empty_like(jp)
    work = torch.empty(B, J * 48, dtype=torch.float64)  # kernels::kJointWork
    assert emulated.emu_joint(8, _ints([B, J, int(with_bind)]), _ptrs([jp, off, parents, ib, grad]),
                              _ptrs([out, g_jp, work])) == 0
    bind = ib if with_bind else None
    torch.testing.assert_close(out, torchrig.ops.joint_transforms(jp, off, parents, bind))
    torch.testing.assert_close(g_jp, torch.ops.torchrig.joint_transforms_backward(
        grad, jp, off, parents, bind))
