"""Cross-version install scenarios: a torchrig wheel built against torch 2.13,
met by torch 2.13.0 (CPU) and torch 2.14.1 (CUDA 13), each in its own venv.

Slow (venvs of 1-5 GB, one wheel build): runs with --run-slow / TORCHRIG_RUN_SLOW=1.
Venvs are made by torchrig_release.venv in the machine-wide cache and reused across
runs; the torch 2.14.1 one (<cache>/venv-py3.11-torch2.14.1, same extras as the CUDA compile
check, so it is shared) is only *read*: pip runs there with --dry-run, and the
build is copied into a separate directory put on PYTHONPATH. Everything else
lives in .cache/abi-scenarios/, cleared at the start of each session; the
abi-check reports and the forced-load measurement are left there
(abi-check-<torch>.txt, forced-load-<torch>.json) for docs/abi-check.md.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import torch

from support.probes import OPS_PROBE
from support.venv_clone import clone
from torchrig_release import build_requirements, machine
from torchrig_release.paths import REPO, torch_venv_dir
from torchrig_release.venv import ensure_venv

pytestmark = [pytest.mark.slow, pytest.mark.scenario]

BUILD_TORCH = machine.BUILD_TORCH
OTHER_TORCH = machine.CUDA_TORCH
# The extras of the shared venvs (also used by the CUDA compile check): keep them
# identical, or ensure_venv rebuilds the venv.
SHARED_EXTRAS = ["numpy", "pytest", *build_requirements.names()]
WORK = REPO / ".cache" / "abi-scenarios"  # this checkout's reports (the big venvs: the cache)
TIMEOUT = 900



def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "TORCHRIG_SKIP_ABI_CHECK")}
    return {**env, **extra}


def _run(cmd: list, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          env=_env(**env), timeout=TIMEOUT)


def _checked(cmd: list, **env: str) -> subprocess.CompletedProcess:
    proc = _run(cmd, **env)
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


class _Timer:
    """Prints how long each setup step took (shown with -s or on failure)."""

    def __init__(self, what: str):
        self.what = what

    def __enter__(self):
        self.start = time.monotonic()

    def __exit__(self, *exc):
        print(f"[abi-scenarios] {self.what}: {time.monotonic() - self.start:.0f}s", flush=True)


@pytest.fixture(scope="session")
def work() -> Path:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    return WORK


@pytest.fixture(scope="session")
def wheel_213(work) -> Path:
    """The torchrig wheel compiled against torch 2.13 (built once per session).

    Built by this interpreter when its torch is 2.13 (CI: .venv, whose build dir
    tools/dev-setup already filled), else by a cached venv with torch 2.13.
    """
    if torch.__version__.startswith(BUILD_TORCH.rsplit(".", 1)[0] + "."):
        python, settings = Path(sys.executable), []
    else:
        python = ensure_venv(torch_venv_dir(BUILD_TORCH), BUILD_TORCH, SHARED_EXTRAS)
        settings = [f"--config-settings=build-dir={work / 'build'}"]
    with _Timer("build the torch 2.13 wheel"):
        _checked([python, "-m", "pip", "wheel", "-q", "--no-build-isolation", "--no-deps",
                  *settings, "-w", work / "dist", REPO])
    (wheel,) = (work / "dist").glob("torchrig-*.whl")
    return wheel


@pytest.fixture(scope="session")
def torch_214() -> Path:
    """python of the shared torch 2.14.1 venv (read only: never install torchrig here)."""
    with _Timer(f"torch {OTHER_TORCH} venv (reused when present)"):
        return ensure_venv(torch_venv_dir(OTHER_TORCH), OTHER_TORCH, SHARED_EXTRAS)


@pytest.fixture(scope="session")
def user_213(work, wheel_213) -> Path:
    """A copy of the cached torch 2.13.0 venv (support.venv_clone) where `pip install <wheel>`
    kept that torch: python path. (pip resolving a torch by itself for a wheel, in a venv
    without one, is tests/packaging/test_wheels.py's scenario 3.)"""
    with _Timer("venv copy + pip install wheel"):
        python = clone(BUILD_TORCH, work / "venv-user-213", SHARED_EXTRAS)
        _checked([python, "-m", "pip", "install", "-q", wheel_213])
    return python


@pytest.fixture(scope="session")
def forced_214(work, wheel_213) -> Path:
    """The wheel's files unpacked by force into a directory for torch 2.14.1's PYTHONPATH."""
    target = work / "forced-214"
    with zipfile.ZipFile(wheel_213) as zf:
        zf.extractall(target)
    return target


def _abi_check(wheel: Path, torch_spec: Path, name: str) -> tuple[int, dict]:
    """Run the abi-check verb (text saved to WORK/abi-check-<name>.txt) and return (rc, JSON)."""
    cmd = [sys.executable, "-m", "torchrig_release", "abi-check", wheel, "--torch", torch_spec]
    text = _run(cmd)
    (WORK / f"abi-check-{name}.txt").write_text(text.stdout + text.stderr)
    print(text.stdout)
    report = _run([*cmd, "--json"])
    assert report.returncode == text.returncode, report.stderr
    return report.returncode, json.loads(report.stdout)


# --- 2.13 build, 2.13 torch -----------------------------------------------------------

def test_213_build_installs_with_213_and_ops_work(user_213):
    installed = _checked([user_213, "-c", "import torch; print(torch.__version__)"]).stdout
    assert installed.startswith("2.13."), f"pip resolved torch {installed} for the 2.13 wheel"
    assert "OPS OK" in _checked([user_213, "-c", OPS_PROBE]).stdout
    _checked([user_213, "-m", "pip", "check"])


def test_abi_check_213_build_against_213_passes(wheel_213, user_213):
    code, report = _abi_check(wheel_213, user_213, BUILD_TORCH)
    assert code == 0, report["problems"]
    assert report["targets"][0]["loads"] and report["targets"][0]["admitted"]


def test_abi_check_of_the_installed_package_passes(user_213):
    proc = _run([sys.executable, "-m", "torchrig_release", "abi-check", user_213.parent.parent,
                 "--torch", user_213])
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- 2.13 build, 2.14.1 torch ---------------------------------------------------------

def test_pip_refuses_the_213_wheel_beside_torch_214(wheel_213, torch_214):
    """Keeping torch 2.14.1, pip's resolver rejects the wheel at install time (dry run)."""
    proc = _run([torch_214, "-m", "pip", "install", "--dry-run", "--no-index", wheel_213,
                 f"torch=={OTHER_TORCH}"])
    assert proc.returncode != 0
    err = proc.stdout + proc.stderr
    assert "ResolutionImpossible" in err, err
    # "The user requested torch==2.14.1 / torchrig 0.1.0 depends on torch<2.14 and >=2.13"
    assert f"torch=={OTHER_TORCH}" in err and "torch<2.14" in err, err


def test_pip_without_a_torch_pin_swaps_torch_instead(wheel_213, torch_214, work):
    """Unpinned, pip replaces torch 2.14.1 by a 2.13 to satisfy the wheel: never both."""
    report = work / "pip-plan-214.json"
    _checked([torch_214, "-m", "pip", "install", "-q", "--dry-run", "--report", report, wheel_213])
    plan = {i["metadata"]["name"]: i["metadata"]["version"]
            for i in json.loads(report.read_text())["install"]}
    assert plan.get("torch", "").startswith("2.13."), plan


def test_forced_copy_beside_214_raises_the_guard_error(forced_214, torch_214):
    proc = _run([torch_214, "-c", "import torchrig"], PYTHONPATH=str(forced_214))
    assert proc.returncode == 1, f"expected an ImportError exit, got {proc.returncode}"
    assert "ImportError: torchrig was built for torch 2.13.0" in proc.stderr, proc.stderr
    assert "pip install 'torch>=2.13,<2.14'" in proc.stderr          # the fix
    assert "undefined symbol" not in proc.stderr


@pytest.fixture(scope="session")
def abi_check_214(wheel_213, torch_214) -> tuple[int, dict]:
    return _abi_check(wheel_213, torch_214.parent.parent, OTHER_TORCH)


def test_abi_check_213_build_against_214_fails(abi_check_214):
    code, report = abi_check_214
    target = report["targets"][0]
    assert code == 1 and not target["loads"] and not target["admitted"]
    assert target["missing"] or "torch minor 2.13 != 2.14" in "; ".join(target["guard_problems"])


def test_forced_load_beside_214_matches_the_symbol_check(forced_214, torch_214, abi_check_214, work):
    """Measure: bypass the guard and load the 2.13 build in torch 2.14.1.

    The loader must agree with abi-check's symbol verdict: missing symbols mean
    an "undefined symbol" ImportError naming one of them; none missing means the
    library loads. What the ops then do is recorded, not asserted.
    """
    _, report = abi_check_214
    missing = [s["name"] for s in report["targets"][0]["missing"]]
    proc = _run([torch_214, "-c", OPS_PROBE], PYTHONPATH=str(forced_214), TORCHRIG_SKIP_ABI_CHECK="1")
    measured = {"returncode": proc.returncode, "loaded": "LOADED" in proc.stdout,
                "ops_ok": "OPS OK" in proc.stdout, "abi_check_missing": missing,
                "stdout": proc.stdout[-2000:], "stderr": proc.stderr[-2000:]}
    (work / f"forced-load-{OTHER_TORCH}.json").write_text(json.dumps(measured, indent=2))
    print(json.dumps(measured, indent=2))
    if missing:
        assert not measured["loaded"] and "undefined symbol" in proc.stderr
        assert any(name in proc.stderr for name in missing)
    else:
        assert measured["loaded"], proc.stderr
    # the docs' tables say what this measures: they said "loads" for months after the C++
    # autograd began calling torch::autograd::_wrap_outputs, which 2.14 changed
    for doc in ("docs/abi-check.md", "docs/compatibility.md"):
        row = next(line for line in (REPO / doc).read_text().splitlines()
                   if line.startswith("|") and "2.13.0+cpu" in line.split("|")[1] and "Forced" in line)
        forced = row.split("Forced", 1)[1]
        said = "undefined symbol" if missing else "loads"
        assert said in forced, f"{doc}: the forced load of the 2.13 build in {OTHER_TORCH} is `{said}`: {row}"
