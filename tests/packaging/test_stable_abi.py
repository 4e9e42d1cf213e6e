"""The stable-ABI build's promise, checked: one wheel, every torch >= 2.10, any Python.

Slow suite (``scenario``). One wheel is built with ``TORCHRIG_ABI=stable``
against the torch of the running interpreter (torch 2.13.0 CPU in CI's .venv),
repaired to manylinux_2_28 as published (auditwheel's verdict, no OpenMP runtime grafted:
cmake/manylinux.cmake on this glibc 2.36 builder), then installed unchanged
(``pip install --no-deps --target``) beside each torch
of SCENARIOS, in venvs of the machine-wide cache (torchrig_release.venv; created
once, reused by every later run and checkout). In each, from a copy of the unit
tests that cannot see the source tree, the op, bad-input, fuzz and rig tests run
(opcheck, float64 gradcheck, agreement with torchrig.reference,
torch.compile(fullgraph=True), the error types and messages), with no GPU
visible. abi-check's stable rule (torchrig_release/abi/stable.py) runs against each
torch's libraries. The closing test prints the table torch × Python -> result
with the time each scenario took (also written to build/stable-abi-table.md).
"""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import zipfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torchrig_release import conda_forge, machine
from torchrig_release.abi import elf
from torchrig_release.abi.check import check_artifact
from torchrig_release.abi.report import to_text
from torchrig_release.abi.stable import check_stable_symbols
from torchrig_release.library import library_module
from torchrig_release.paths import REPO as ROOT
from torchrig_release.paths import torch_venv_dir
from torchrig_release.venv import ensure_venv
from support.probes import OPS_PROBE
from torchrig_release.wheel.check import check_manylinux
from torchrig_release.wheel.manylinux import too_new_symbols
from torchrig_release.wheel.repair import PLAT, repair, show
from support.timeouts import COMMAND_S

BUILD_TORCH = machine.BUILD_TORCH
LATER_TORCH = machine.CUDA_TORCH  # a torch released after the build's, with a venv for this Python
# test_skin_lanes: the batch-in-lanes kernels of every instruction set this CPU runs, which the
# stable build shares with the classic one (csrc/launch); test_derivatives: every order and
# mode, the stable build's reverse mode going through its own Functions (_derivatives._Reverse);
# test_joint_transforms: the fused joint-parameter op, its Python autograd in the stable build
UNIT_TESTS = ["test_ops.py", "test_bad_inputs.py", "test_fuzz.py", "test_rig.py", "test_skin_lanes.py",
              "test_derivatives.py", "test_joint_transforms.py"]
SUPPORT = ["conftest.py", "helpers.py"]
VENV_EXTRA = ["numpy", "pytest", "hypothesis"]


@dataclass(frozen=True)
class Scenario:
    python: str                  # minor version, from pyenv when not the running one
    torch: str

    @property
    def id(self) -> str:
        return f"py{self.python}-torch{self.torch}"


SCENARIOS = [
    Scenario("3.11", BUILD_TORCH),              # the build's torch (CPU, /opt/wheels)
    Scenario("3.11", LATER_TORCH),              # released after the build's; CUDA 13, on the CPU
    Scenario("3.10", "2.10.0"),                 # the oldest torch the pin admits; oldest Python
    Scenario("3.13", machine.NEWEST_TORCH),     # newest Python (PyPI; ensure_venv lifts the pip cap)
]
RESULTS: dict[str, dict] = {}
pytestmark = [pytest.mark.slow, pytest.mark.scenario]

PROBE = """
import json, sys, torch, torchrig
print(json.dumps({"file": torchrig.__file__, "torch": torch.__version__,
                  "python": "%d.%d" % sys.version_info[:2], "build_info": torchrig.BUILD_INFO}))
"""


def _python(minor: str) -> str | None:
    if minor == "{}.{}".format(*sys.version_info[:2]):
        return sys.executable
    pyenv = shutil.which("pyenv")
    root = Path(subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=COMMAND_S).stdout.strip()) \
        if pyenv else Path.home() / ".pyenv"
    found = sorted((root / "versions").glob(f"{minor}.*/bin/python{minor}"))
    return str(found[-1]) if found else None


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw, timeout=COMMAND_S)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n"
                    f"{proc.stdout[-8000:]}\n{proc.stderr[-4000:]}")
    return proc


@pytest.fixture(scope="module")
def stable_wheel(tmp_path_factory) -> Path:
    """The stable wheel, built once against this interpreter's torch (2.13.0 CPU)."""
    if torch.__version__.split("+")[0] != BUILD_TORCH or torch.version.cuda:
        pytest.skip(f"the proof builds against torch {BUILD_TORCH} CPU; this is {torch.__version__}")
    out = tmp_path_factory.mktemp("stable-wheel")
    env = {**os.environ, "TORCHRIG_ABI": "stable", "TORCHRIG_CUDA": "OFF",
           "CMAKE_BUILD_PARALLEL_LEVEL": os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")}
    start = time.monotonic()
    _run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-q",
          "-C", "build-dir=build/stable-{wheel_tag}", "-w", str(out), str(ROOT)], env=env, cwd=ROOT)
    (wheel,) = out.glob("torchrig-*.whl")
    RESULTS["_build"] = {"seconds": time.monotonic() - start, "wheel": wheel.name}
    return wheel


@pytest.fixture(scope="module")
def stable_repaired(stable_wheel, tmp_path_factory) -> Path:
    """The stable wheel as published: `repair`'s default tag (manylinux_2_28, torch's own), which
    this glibc 2.36 builder reaches through cmake/manylinux.cmake."""
    return repair(stable_wheel, tmp_path_factory.mktemp("stable-repaired"))


@pytest.fixture(scope="module")
def test_copy(tmp_path_factory) -> Path:
    """The unit tests, copied where neither python/ nor an installed torchrig is importable."""
    work = tmp_path_factory.mktemp("stable-tests")
    (work / "tests").mkdir()
    for name in UNIT_TESTS + SUPPORT:
        shutil.copy(ROOT / "tests" / ("" if name == "conftest.py" else "unit") / name,
                    work / "tests" / name)
    shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")  # markers, strict options
    return work


def test_wheel_is_python_independent_and_pinned_from_the_target(stable_wheel):
    assert stable_wheel.name.endswith("-py3-none-linux_x86_64.whl"), stable_wheel.name
    with zipfile.ZipFile(stable_wheel) as zf:
        names = zf.namelist()
        meta = zf.read("torchrig-0.1.0.dist-info/METADATA").decode()
        info = json.loads(zf.read("torchrig/_build_info.json"))
    target_str = library_module("_stable_target").target_str
    assert f"Requires-Dist: torch>={target_str()}\n" in meta
    assert info["abi"] == "stable" and info["stable_target"] == target_str()
    assert "torchrig/libtorchrig_stable.so" in names
    assert not [n for n in names if n.endswith(".so") and "cpython" in n], names


def test_repaired_wheel_is_manylinux_2_28_and_grafts_no_openmp_runtime(stable_repaired, tmp_path):
    assert stable_repaired.name.endswith(f"-py3-none-{PLAT}.whl"), stable_repaired.name
    text = " ".join(show(stable_repaired).split())
    allowed = re.search(r'constrains the platform tag to "manylinux_2_(\d+)_', text)
    assert allowed and int(allowed.group(1)) <= 28, text             # auditwheel's verdict
    with zipfile.ZipFile(stable_repaired) as zf:
        names = zf.namelist()
        zf.extract("torchrig/libtorchrig_stable.so", tmp_path)
    assert not [n for n in names if ".libs/" in n], names               # nothing grafted: no libgomp
    lib = tmp_path / "torchrig" / "libtorchrig_stable.so"
    assert too_new_symbols(lib, platform.machine()) == {}                # the ELF file's own versions
    assert "libgomp.so.1" not in elf.needed_libraries(lib)
    result = check_manylinux(stable_repaired)                            # what `check` says
    assert result.ok, result.detail


def test_library_needs_only_the_c_shim(stable_wheel, tmp_path):
    with zipfile.ZipFile(stable_wheel) as zf:
        zf.extract("torchrig/libtorchrig_stable.so", tmp_path)
    lib = tmp_path / "torchrig" / "libtorchrig_stable.so"
    assert not [n for n in elf.needed_libraries(lib) if "python" in n]
    undefined = elf.undefined_symbols(lib)
    assert not [s.name for s in undefined if s.name.startswith("Py")], "uses the CPython API"
    verdict = check_stable_symbols(undefined, {})
    assert verdict.ok, verdict.problems
    assert verdict.shim and all(n.startswith(("aoti_torch_", "torch_")) for n in verdict.shim)


def _abi_check_venv(torch_version: str) -> str:
    """The cached venv of ``torch_version`` for this Python, made here when absent (the same
    venv, with the same extras, as that torch's scenario below: made once, whichever runs first)."""
    return str(ensure_venv(torch_venv_dir(torch_version), torch_version, VENV_EXTRA).parents[1])


def _repin(wheel: Path, out: Path, requires: str) -> Path:
    """A copy of ``wheel`` whose METADATA declares ``requires`` instead of torch>=target."""
    copy = out / wheel.name
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(copy, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith(".dist-info/METADATA"):
                data = b"".join(line for line in data.splitlines(keepends=True)
                                if not line.startswith(b"Requires-Dist: torch"))
                data = data.replace(b"\n\n", f"\nRequires-Dist: {requires}\n\n".encode(), 1)
            dst.writestr(item, data)
    return copy


def test_abi_check_stable_wheel_against_a_later_torch(stable_wheel, capsys):
    """abi-check's stable mode on the real wheel: torch 2.14.1 (released after the build's
    2.13.0) passes, with a note that the target 2.10 was not among the torches given."""
    from torchrig_release.abi.report import to_text
    from torchrig_release.abi.check import check_artifact

    report = check_artifact(str(stable_wheel), [_abi_check_venv(LATER_TORCH)])
    text = to_text(report)
    print(f"\n[abi-check torch {LATER_TORCH}]\n" + text)
    assert report.ok, text
    assert "RESULT: OK" in text and "C shim symbols defined by" in text
    assert report.targets[0].torch.version.startswith(LATER_TORCH) and not report.targets[0].mangled


def test_abi_check_refuses_a_stable_wheel_with_a_classic_pin(stable_wheel, tmp_path):
    """The same binary declaring the classic one-minor pin breaks the stable rule."""
    from torchrig_release.abi.check import check_artifact

    repinned = _repin(stable_wheel, tmp_path, "torch<2.14,>=2.13")
    report = check_artifact(str(repinned), [_abi_check_venv(LATER_TORCH)])
    assert not report.ok
    assert report.problems == [
        "declared range torch<2.14,>=2.13 is not torch>=2.10 (the stable target in the build "
        "record): it admits torch 2.13; a stable build loads in every torch from its target "
        "on, so the range must say exactly that",
        "declared range torch<2.14,>=2.13 admits no torch given: nothing verified (pass a "
        "torch >= the target with --torch)"]


def test_bench_compares_the_stable_and_classic_builds(stable_wheel, tmp_path):
    """`python -m torchrig bench --compare-abi`: a tiny run, every row present (no timing
    asserted; the figures are printed: pytest -s)."""
    site = tmp_path / "stable-site"
    _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
          str(stable_wheel)])
    rows = tmp_path / "rows.json"
    proc = _run([sys.executable, "-m", "torchrig", "bench", "--compare-abi", str(site),
                 "--batch", "1", "3", "--vertices", "40", "--budget", "0.01", "--rounds", "1",
                 "--json", str(rows)], cwd=tmp_path)
    print("\n[bench --compare-abi, tiny]\n" + proc.stdout)
    found = json.loads(rows.read_text())["abi"]
    assert [r["case"] for r in found["abi"]] == [
        f"{c} B={b}" for b in (1, 3) for c in ("fk fwd", "fk fwd+bwd", "skin fwd", "skin fwd+bwd")]
    assert all(r["classic_us"] > 0 and r["stable_us"] > 0 for r in found["abi"])
    assert [r["case"] for r in found["bridge"]] == ["fk B=1", "skin B=1", "fk B=3", "skin B=3"]
    assert "stable/classic" in proc.stdout and "bridge us" in proc.stdout
    # one launch plan for both bindings (csrc/launch): the same CPU kernels in both builds
    builds = found["builds"]
    assert builds["stable"]["isa"] == builds["classic"]["isa"], builds


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_stable_wheel_passes_the_unit_tests(scenario, stable_repaired, test_copy, tmp_path):
    python = _python(scenario.python)
    if python is None:
        pytest.skip(f"no Python {scenario.python} on this machine (pyenv)")
    row = RESULTS.setdefault(scenario.id, {"scenario": scenario, "result": "error"})
    start = time.monotonic()
    venv_py = ensure_venv(torch_venv_dir(scenario.torch, scenario.python), scenario.torch,
                          VENV_EXTRA, python=python)
    row["venv_s"] = time.monotonic() - start
    site = tmp_path / "site"
    _run([str(venv_py), "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
          str(stable_repaired)])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TORCHRIG_", "PYTEST_"))}
    env.update(PYTHONPATH=str(site), CUDA_VISIBLE_DEVICES="")
    probe = json.loads(_run([str(venv_py), "-c", PROBE], env=env, cwd=tmp_path).stdout
                       .strip().splitlines()[-1])
    assert Path(probe["file"]).is_relative_to(site)
    assert probe["torch"].split("+")[0] == scenario.torch and probe["python"] == scenario.python
    assert probe["build_info"]["torch_version"].startswith(BUILD_TORCH)
    row["torch_full"] = probe["torch"]

    # abi-check's stable rule against this torch's libraries
    torch_lib = Path(_run([str(venv_py), "-c", "import torch, os; print(os.path.dirname("
                           "torch.__file__))"], env=env).stdout.strip()) / "lib"
    with zipfile.ZipFile(stable_repaired) as zf:
        zf.extract("torchrig/libtorchrig_stable.so", tmp_path / "lib")
    lib = tmp_path / "lib" / "torchrig" / "libtorchrig_stable.so"
    libs, missing_libs = elf.torch_dependency_closure(elf.needed_libraries(lib), torch_lib)
    assert not missing_libs
    with ExitStack() as stack:
        tables = [stack.enter_context(elf.SymbolTable(p)) for p in libs]
        verdict = check_stable_symbols(elf.undefined_symbols(lib), {
            probe["torch"]: lambda n: any(t.defines(n) for t in tables)})
    row["shim_symbols"] = len(verdict.shim)
    assert verdict.ok, verdict.problems

    start = time.monotonic()
    proc = subprocess.run([str(venv_py), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *[f"tests/{t}" for t in UNIT_TESTS]],
                          capture_output=True, text=True, env=env, cwd=test_copy, timeout=COMMAND_S)
    row["tests_s"] = time.monotonic() - start
    summary = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    row["summary"] = summary.strip("= ")
    row["result"] = "pass" if proc.returncode == 0 else "FAIL"
    assert proc.returncode == 0, f"{scenario.id}:\n{proc.stdout[-8000:]}\n{proc.stderr[-3000:]}"


def test_print_the_table():
    """torch × Python -> result (run after the scenarios; pytest -s shows it)."""
    rows = [r for k, r in RESULTS.items() if not k.startswith("_")]
    if not rows:
        pytest.skip("no scenario ran")
    lines = ["| torch | Python | result | tests | venv s (0 = cached) | tests s |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        s = r["scenario"]
        lines.append(f"| {r.get('torch_full', s.torch)} | {s.python} | {r['result']} | "
                     f"{r.get('summary', '')} | {r.get('venv_s', 0):.0f} | {r.get('tests_s', 0):.0f} |")
    build = RESULTS.get("_build", {})
    lines.append(f"\nwheel {build.get('wheel')} built in {build.get('seconds', 0):.0f}s")
    text = "\n".join(lines) + "\n"
    (ROOT / "build").mkdir(exist_ok=True)
    (ROOT / "build" / "stable-abi-table.md").write_text(text)  # CI captures stdout
    print("\n[stable-abi]\n" + text)


# ---- the one wheel: CPU kernels + the CUDA 13 kernel library, beside every torch ----------

CUDA_TORCH = machine.CUDA_TORCH
CUDA_BUILD_EXTRA = ["numpy", "pytest", "scikit-build-core", "pybind11", "cmake", "ninja"]
# Run in each scenario's venv, no GPU visible: what loaded, what is registered, the CPU ops
# against the reference (support.probes.OPS_PROBE), and, where no CUDA library loaded, what a
# GPU tensor would get: the public op's CUDA kernel, reached by redispatching CPU tensors to it.
ONE_WHEEL_PROBE = OPS_PROBE + """
import json, subprocess, sys
from torchrig import _stable
has = torch._C._dispatch_has_kernel_for_dispatch_key
cuda = _stable.loaded_cuda_library()
out = {"file": torchrig.__file__, "torch": torch.__version__, "torch_cuda": torch.version.cuda,
       "cuda_available": torch.cuda.is_available(),
       "info": torchrig.BUILD_INFO, "cuda_library": cuda.name if cuda else None,
       "kernels_cuda": [has("torchrig_kernels::" + op, "CUDA") for op in _stable.OPS],
       "public": {key: [has("torchrig::" + op, key) for op in _stable.OPS] for key in ("CPU", "CUDA", "XPU")}}
if cuda is None:
    try:
        torch.ops.torchrig.skin.default.redispatch(torch._C.DispatchKeySet(torch._C.DispatchKey.CUDA), x, fk, idx, w)
    except _stable.NoKernelsError as exc:
        out["gpu_error"] = str(exc)
info = subprocess.run([sys.executable, "-m", "torchrig", "info"], capture_output=True, text=True, timeout=300)
out["info_rc"], out["info_out"] = info.returncode, info.stdout
print(json.dumps(out))
"""
ONE_WHEEL: dict[str, Path] = {}


@pytest.fixture(scope="module")
def one_wheel(tmp_path_factory) -> Path:
    """The one wheel as the release builds it for CUDA 13: TORCHRIG_ABI=stable, TORCHRIG_CUDA=ON,
    nvcc 13, torch's own CUDA 13 arch list (cmake/cuda-arch-lists.txt wheel-cu13), against the
    cached torch 2.14.1+cu130 venv (build dir reused: a rerun compiles nothing)."""
    nvcc = next((p for p in (os.environ.get("CUDA_HOME", ""), "/usr/local/cuda")
                 if p and (Path(p) / "bin" / "nvcc").is_file()), None) or shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("no nvcc (set CUDA_HOME): cannot compile the CUDA 13 kernel library here")
    py = ensure_venv(torch_venv_dir(CUDA_TORCH), CUDA_TORCH, CUDA_BUILD_EXTRA)
    out = tmp_path_factory.mktemp("one-wheel")
    env = {k: v for k, v in os.environ.items() if k != "TORCH_CUDA_ARCH_LIST"}
    env.update(TORCHRIG_ABI="stable", TORCHRIG_CUDA="ON",
               CMAKE_BUILD_PARALLEL_LEVEL=os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2"))
    start = time.monotonic()
    _run([str(py), "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-q", "-C",
          "build-dir=build/onewheel-cu13-{wheel_tag}", "-w", str(out), str(ROOT)], env=env, cwd=ROOT)
    (wheel,) = out.glob("torchrig-*-py3-none-*.whl")
    RESULTS["_one_wheel"] = {"seconds": time.monotonic() - start, "wheel": wheel.name}
    return wheel


@pytest.mark.cudabuild
def test_one_wheel_holds_a_cpu_library_and_a_cuda_13_library(one_wheel, tmp_path):
    """The CPU library links no CUDA library (so it loads beside any torch); the CUDA 13 one
    launches on torch's stream and holds torch's own CUDA 13 architectures."""
    with zipfile.ZipFile(one_wheel) as zf:
        info = json.loads(zf.read("torchrig/_build_info.json"))
        zf.extractall(tmp_path)
    table = conda_forge.arch_table()
    assert info["cuda_libraries"] == {"13": {"library": "libtorchrig_stable_cuda13.so",
                                             "nvcc": info["cuda_compiler_version"],
                                             "arch_list": table["wheel-cu13"]}}
    cpu, cu13 = (tmp_path / "torchrig" / n for n in ("libtorchrig_stable.so", "libtorchrig_stable_cuda13.so"))
    assert not [n for n in elf.needed_libraries(cpu) if n.startswith(("libcudart", "libtorch_cuda", "libc10_cuda"))]
    assert "libcudart.so.13" in elf.needed_libraries(cu13)
    for lib in (cpu, cu13):
        verdict = check_stable_symbols(elf.undefined_symbols(lib), {})
        assert verdict.ok, verdict.problems
    assert "aoti_torch_get_current_cuda_stream" in check_stable_symbols(elf.undefined_symbols(cu13), {}).shim
    from elftools.elf.elffile import ELFFile
    with open(cu13, "rb") as f:
        fatbin = ELFFile(f).get_section_by_name(".nv_fatbin").data()
    for arch in table["wheel-cu13"].split(";"):
        assert f"sm_{arch.replace('.', '')}".encode() in fatbin, arch


@pytest.mark.cudabuild
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_one_wheel_beside_each_torch(scenario, one_wheel, tmp_path):
    """The same wheel beside torch 2.13.0 CPU, 2.14.1+cu130, 2.10.0 (CUDA 12.8) and 2.15.0 (CUDA
    13.2), no GPU visible: it imports, the CPU ops match the reference, the CUDA 13 library loads
    where torch's CUDA major is 13 (its kernels registered), none elsewhere, and there a GPU
    tensor gets NoKernelsError naming what to install; `python -m torchrig info` exits 0; and
    abi-check, which checks the CUDA 13 library only against a CUDA 13 torch, says it loads."""
    python = _python(scenario.python)
    if python is None:
        pytest.skip(f"no Python {scenario.python} on this machine (pyenv)")
    venv_py = ensure_venv(torch_venv_dir(scenario.torch, scenario.python), scenario.torch,
                          VENV_EXTRA, python=python)
    site = tmp_path / "site"
    _run([str(venv_py), "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(one_wheel)])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TORCHRIG_", "PYTEST_"))}
    env.update(PYTHONPATH=str(site), CUDA_VISIBLE_DEVICES="")
    proc = _run([str(venv_py), "-c", ONE_WHEEL_PROBE], env=env, cwd=tmp_path)
    assert "OPS OK" in proc.stdout, proc.stdout
    probe = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"\n[one wheel beside torch {probe['torch']}] cuda library: {probe['cuda_library']}; "
          f"gpu tensor: {probe.get('gpu_error', '(CUDA 13 kernels registered; no GPU here runs them)')}")
    assert Path(probe["file"]).is_relative_to(site) and not probe["cuda_available"]
    assert probe["info_rc"] == 0, probe["info_out"]
    assert all(probe["public"]["CPU"]) and all(probe["public"]["CUDA"]) and all(probe["public"]["XPU"])
    torch_cuda = (probe["torch_cuda"] or "").split(".")[0]
    RESULTS.setdefault("_one_wheel_rows", []).append((probe["torch"], probe["torch_cuda"], probe["cuda_library"]))
    if torch_cuda == "13":
        assert probe["cuda_library"] == "libtorchrig_stable_cuda13.so" and all(probe["kernels_cuda"])
        assert "libtorchrig_stable_cuda13.so" in probe["info_out"]
    else:
        assert probe["cuda_library"] is None and not any(probe["kernels_cuda"])
        assert "The CPU ops work" in probe["gpu_error"] and "torchrig-" not in probe["gpu_error"]
        if torch_cuda == "12":  # the release's wheel holds CUDA 12 kernels; this build does not
            assert "pip install --force-reinstall --no-deps torchrig" in probe["gpu_error"]
    report = check_artifact(str(one_wheel), [str(venv_py.parents[1])])
    (target,) = report.targets
    assert report.ok, to_text(report)
    assert ("libtorch_cuda.so" in target.libraries) == (torch_cuda == "13"), target.libraries
