"""The AddressSanitizer + UBSan build: findings get reported, and the ops run clean.

``torchrig-release sanitize`` builds torchrig instrumented into its own venv
(``<cache>/venv-asan-py3.11-torch2.13.0``, CMake dir ``build/asan``) and runs tests/unit/test_ops.py,
test_bad_inputs.py and test_fuzz.py under the sanitizers: about 4 minutes from
scratch on 2 cores, 1.5 once built, hence ``slow`` (CI runs it). Its self-test
is fast and runs everywhere gcc does.
"""
from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

import pytest

from torchrig_release.paths import REPO as ROOT
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc and its sanitizer runtimes")


def run_tool(*args: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "torchrig_release", "sanitize", *args], cwd=ROOT,
                          capture_output=True,
                          text=True, timeout=timeout)


@needs_gcc
def test_sanitizer_findings_are_reported():
    """A heap overflow and a signed overflow in a throw-away library are both caught."""
    run = run_tool("--self-test", timeout=300)
    assert run.returncode == 0, run.stderr
    assert "ERROR: AddressSanitizer: heap-buffer-overflow" in run.stderr
    assert "runtime error: signed integer overflow" in run.stderr


@pytest.mark.slow
@needs_gcc
def test_ops_run_clean_under_asan_and_ubsan():
    """Build instrumented, then the op, bad-input and fuzz tests: no failure, no report."""
    run = run_tool(timeout=1800)
    assert run.returncode == 0, f"{run.stdout[-6000:]}\n{run.stderr[-6000:]}"
    assert "0 sanitizer report(s)" in run.stderr
