"""The CUDA conda package, built for real and proven on a machine without a GPU.

Slow suite (``--run-slow``). rattler-build builds recipe/recipe.yaml for Python
3.11 x pytorch 2.13 x CUDA 13.0 (conda-forge's newest recorded CUDA build,
recipe/conda-forge-facts.yaml) against the CUDA stand-in channel
(tests/support/cuda_channel.py, machine-wide cache) first, then the CPU stand-in
channel, with strict channel priority (so the real CUDA stand-ins shadow the CPU
channel's metadata-only CUDA records, e.g. libcusparse-dev 13.0), nvcc compiling sm_90 only (``TORCHRIG_CUDA_ARCH_LIST=9.0``, the
recipe's documented override; set it in the environment to change it), and
runs the recipe's own tests. Then, with the ``__cuda`` virtual package set
explicitly (``CONDA_OVERRIDE_CUDA``'s job) or left out:

* the package's info/index.json: the pytorch and libtorch pins (from pytorch's
  run_exports), the flavour, ``cuda-version >=13,<14`` (from nvcc's run_exports);
* a fresh prefix solved with __cuda=13.0 gets the CUDA pytorch; torchrig imports
  there, its four ops have CUDA kernels registered, its CPU ops agree with
  torchrig.reference;
* the solver refuses it beside a CPU pytorch, without __cuda, and refuses the CPU
  torchrig beside the CUDA pytorch -- each message names what conflicts;
* abi-check passes the .conda against that prefix and fails it against the CPU
  torch 2.13 of .venv (the flavour).
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
from support import cuda_channel
from support.conda_fixtures import (  # noqa: F401  (fixtures)
    REPO, built_package, by_name, local_channel, local_variants, run_tool,
)
from support.timeouts import COMMAND_S
from rattler import MatchSpec, Version, VersionSpec
from rattler.exceptions import SolverError
from torchrig_release import conda_forge
from torchrig_release.conda import channel as conda_channel
from torchrig_release.conda.rattler_async import run_async
from torchrig_release.paths import OUTPUT_DIR

pytestmark = pytest.mark.conda
slow = pytest.mark.slow

CUDA = cuda_channel.CUDA
TORCH = cuda_channel.TORCH  # e.g. "2.13.0"
MINOR = ".".join(TORCH.split(".")[:2])
VARIANT = {"python": "3.11", "pytorch": MINOR, "cuda_compiler_version": CUDA}
OUTPUT = OUTPUT_DIR / "cuda"
ARCH = os.environ.get("TORCHRIG_CUDA_ARCH_LIST", "9.0")
OPS = ["forward_kinematics", "forward_kinematics_backward", "skin", "skin_backward",
       "joint_transforms", "joint_transforms_backward"]

PROBE = """
import json, torch, torchrig
has = torch._C._dispatch_has_kernel_for_dispatch_key
from torchrig import reference
from torchrig.procedural import random_rig
from torchrig.rotations import axis_angle_to_matrix
parents, offsets, rest, idx, w = random_rig(10, 40, 4, dtype=torch.float64, seed=5)
rot = axis_angle_to_matrix(torch.randn(3, 10, 3, dtype=torch.float64))
fk = torchrig.forward_kinematics(rot, offsets, parents)
print(json.dumps({
    "torch": torch.__version__, "torch_cuda": torch.version.cuda, "file": torchrig.__file__,
    "compiled_with_cuda": torchrig._C.compiled_with_cuda(),
    "cuda_available": torch.cuda.is_available(), "build_info": torchrig.BUILD_INFO,
    "cuda_kernels": {op: has("torchrig::" + op, "CUDA") for op in %r},
    "fk_err": (fk - reference.forward_kinematics(rot, offsets, parents)).abs().max().item(),
    "skin_err": (torchrig.skin(rest, fk, idx, w) - reference.skin(rest, fk, idx, w)).abs().max().item(),
}))
""" % (OPS,)


def solve(channels, specs, *, cuda: str | None):
    """py-rattler solve for linux-64, strict channel priority (the CUDA stand-in channel's
    real packages shadow the CPU channel's metadata-only records of the same build);
    ``cuda``: the __cuda version, None = no GPU."""
    from rattler import ChannelPriority, Override, VirtualPackage, VirtualPackageOverrides
    from rattler import solve as rattler_solve

    overrides = VirtualPackageOverrides(cuda=Override.string(cuda or ""))
    return run_async(rattler_solve([conda_channel.channel_url(str(c)) for c in channels], specs,
                                      platforms=["linux-64", "noarch"],
                                      channel_priority=ChannelPriority.Strict,
                                      virtual_packages=VirtualPackage.detect(overrides)))


def refusal(channels, specs, *, cuda: str | None) -> str:
    """The solver's message for specs that must not solve (printed for the record)."""
    with pytest.raises(SolverError) as failure:
        solve(channels, specs, cuda=cuda)
    message = str(failure.value)
    print(f"\n--- refusal of {specs} (__cuda={cuda}):\n{message}")
    return message


def _bound(depends: list[str], name: str) -> str:
    (spec,) = [MatchSpec(d).version for d in depends
               if MatchSpec(d).name.normalized == name and MatchSpec(d).version not in (None, "*")]
    return spec


def _admits(bound: str, version: str) -> bool:
    return VersionSpec(bound).matches(Version(version))


@pytest.mark.parametrize("override, from_pytorch, want", [
    ("9.0", "7.5;8.0;9.0+PTX", "9.0"),              # the documented override wins
    ("", "7.5;8.0;9.0+PTX", "7.5;8.0;9.0+PTX"),    # else pytorch's activation
    ("", "", None),                                 # else the toolkit's line of the one table
])
def test_build_sh_arch_list_precedence(tmp_path, override, from_pytorch, want):
    """recipe/build.sh, run with a no-op Python: which TORCH_CUDA_ARCH_LIST it exports."""
    env = {"PATH": os.environ["PATH"], "TORCHRIG_CUDA": "ON", "TORCHRIG_CUDA_VERSION": CUDA,
           "TORCHRIG_CUDA_ARCH_LIST": override, "CF_TORCH_CUDA_ARCH_LIST": from_pytorch,
           "PYTHON": "true", "SRC_DIR": str(REPO)}
    proc = subprocess.run(["bash", str(REPO / "recipe" / "build.sh")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=True, timeout=COMMAND_S)
    shown = want or conda_forge.arch_table()[CUDA]
    assert f"recipe/build.sh: CUDA {CUDA}, TORCH_CUDA_ARCH_LIST={shown}\n" in proc.stdout


@pytest.fixture(scope="session")
def cuda_standin_channel() -> pathlib.Path:
    if sys.version_info[:2] != (3, 11):
        pytest.skip(f"the CUDA stand-ins repack the cp311 torch {TORCH} wheel: run under Python 3.11")
    if not (pathlib.Path(os.environ.get("CUDA_HOME") or "/usr/local/cuda") / "bin" / "nvcc").is_file():
        pytest.skip("no nvcc (set CUDA_HOME to a CUDA 13.0 toolkit)")
    proc = subprocess.run([sys.executable, "-m", "support.cuda_channel"],
                          cwd=REPO / "tests", stdout=subprocess.PIPE, text=True, timeout=COMMAND_S)
    if proc.returncode:
        pytest.fail(f"tests/support/cuda_channel.py exited {proc.returncode}")
    return pathlib.Path(proc.stdout.strip())


@pytest.fixture(scope="session")
def channels(cuda_standin_channel, local_channel) -> list[pathlib.Path]:
    return [cuda_standin_channel, local_channel]


@pytest.fixture(scope="session")
def cuda_package(channels) -> dict:
    """The real CUDA package: rattler-build compiles the kernels and runs the recipe's tests."""
    args = ["--python", VARIANT["python"], "--pytorch", VARIANT["pytorch"], "--cuda", CUDA,
            "--output-dir", str(OUTPUT), "--json"]
    for channel in channels:
        args += ["--channel", str(channel)]
    env = {"CONDA_OVERRIDE_CUDA": CUDA, "TORCHRIG_CUDA_ARCH_LIST": ARCH}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the tests phase needs __cuda; env.get() in the recipe reads the arch list
    try:
        (summary,) = json.loads(run_tool("torchrig_release build-conda", *args))
    finally:
        for key, value in old.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
    print(f"\nCUDA package {pathlib.Path(summary['file']).name}: built and tested in "
          f"{summary['seconds']}s, {pathlib.Path(summary['file']).stat().st_size / 2**20:.2f} MiB")
    return summary


@pytest.fixture(scope="session")
def cuda_prefix(cuda_package, channels, tmp_path_factory) -> tuple[pathlib.Path, dict]:
    """A fresh prefix with `torchrig` solved under __cuda=13.0 (a GPU-less machine)."""
    from rattler import install

    prefix = tmp_path_factory.mktemp("cuda-env") / "env"
    records = solve([OUTPUT, *channels], ["torchrig"], cuda=CUDA)
    run_async(install(records, target_prefix=prefix, show_progress=False))
    return prefix, by_name(records)


@slow
def test_index_json_has_the_pins_the_flavour_and_cuda_version(cuda_package):
    depends = cuda_package["depends"]
    print("\nCUDA package index.json depends:\n  " + "\n  ".join(depends))
    assert cuda_package["build"].startswith(f"cuda130_py311_pt{MINOR.replace('.', '')}_")
    assert "pytorch * cuda*" in depends
    for name in ("pytorch", "libtorch"):  # both from pytorch's run_exports
        bound = _bound(depends, name)
        major, minor = map(int, MINOR.split("."))
        assert _admits(bound, TORCH) and _admits(bound, f"{MINOR}.9"), (name, bound)
        assert not _admits(bound, f"{major}.{minor + 1}.0") and not _admits(bound, f"{major}.{minor - 1}.9"), (name, bound)
    cuda_version = _bound(depends, "cuda-version")
    assert _admits(cuda_version, "13.0") and _admits(cuda_version, "13.9")
    assert not _admits(cuda_version, "14.0") and not _admits(cuda_version, "12.9")
    # what the module does not link stays out (ignore_run_exports)
    assert not any(MatchSpec(d).name.normalized in ("libcublas", "libcusparse", "cuda-nvrtc")
                   for d in depends), depends


@slow
def test_recipe_tests_ran_and_kernels_were_compiled_for_the_override(cuda_package):
    log = pathlib.Path(cuda_package["log"]).read_text()
    assert f"matches the reference on torch {TORCH}" in log and "pip check passed" in log
    assert f"TORCH_CUDA_ARCH_LIST={ARCH}" in log


@slow
def test_fresh_prefix_gets_cuda_pytorch_and_cuda_kernels(cuda_package, cuda_prefix):
    prefix, records = cuda_prefix
    assert str(records["torchrig"].build) == cuda_package["build"]
    # the conda-forge build a plain solve picks (mkl, the highest build number), made real
    assert str(records["pytorch"].build).startswith("cuda130_mkl_py311_")
    assert records["pytorch"].build_number == cuda_channel.BUILD.number
    assert str(records["libtorch"].build).startswith("cuda130_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    out = subprocess.run([str(prefix / "bin" / "python"), "-c", PROBE], env=env, cwd=prefix,
                         check=True, capture_output=True, text=True, timeout=COMMAND_S).stdout
    result = json.loads(out.strip().splitlines()[-1])
    print(f"\nprobe in {prefix}: {result}")
    assert result["file"].startswith(str(prefix))
    assert result["torch"].startswith(TORCH) and result["torch_cuda"].startswith("13.")
    assert result["cuda_available"] is False  # no GPU here: kernels are registered, not run
    assert result["compiled_with_cuda"] is True
    assert result["cuda_kernels"] == {op: True for op in OPS}
    assert result["build_info"]["conda_build"] == cuda_package["build"]
    assert result["fk_err"] < 1e-10 and result["skin_err"] < 1e-10


@slow
def test_refused_beside_a_cpu_pytorch(cuda_package, channels):
    message = refusal([OUTPUT, *channels], ["torchrig * cuda*", "pytorch * cpu*"], cuda=CUDA)
    assert "pytorch * cuda*" in message or "pytorch * cpu*" in message


@slow
def test_refused_without_the_cuda_virtual_package(cuda_package, channels):
    message = refusal([OUTPUT, *channels], ["torchrig * cuda*"], cuda=None)
    assert "__cuda" in message


@slow
def test_cpu_torchrig_refused_beside_the_cuda_pytorch(built_package, cuda_package, channels):
    message = refusal([OUTPUT_DIR, *channels], ["torchrig * cpu*", "pytorch * cuda*"], cuda=CUDA)
    assert "pytorch * cpu*" in message or "pytorch * cuda*" in message


def _abi_check(package: str, torch: pathlib.Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "torchrig_release", "abi-check", package,
                           "--torch", str(torch)], cwd=REPO, capture_output=True, text=True, timeout=COMMAND_S)
    print(f"\n--- abi-check {pathlib.Path(package).name} --torch {torch}: exit {proc.returncode}\n"
          f"{proc.stdout}{proc.stderr}")
    return proc


@slow
def test_abi_check_passes_in_the_prefix_and_fails_against_cpu_torch(cuda_package, cuda_prefix):
    prefix, _ = cuda_prefix
    assert _abi_check(cuda_package["file"], prefix).returncode == 0
    cpu = _abi_check(cuda_package["file"], REPO / ".venv")  # torch 2.13.0+cpu
    assert cpu.returncode == 1
    # the flavour (CUDA build, CPU torch of the same minor)
    assert "this torch is a CPU build" in cpu.stdout
    assert "MISSING: libc10_cuda.so, libtorch_cuda.so" in cpu.stdout
