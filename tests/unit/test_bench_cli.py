"""`python -m torchrig bench`: argument validation, a tiny run, the JSON rows (no timings asserted)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def _bench(*args):
    return subprocess.run([sys.executable, "-m", "torchrig", "bench", *args], capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("args, says", [
    (["--batch", "-1"], "argument --batch: expected a positive integer (>= 1), got -1"),
    (["--batch", "two"], "argument --batch: expected a positive integer, got 'two'"),
    (["--vertices", "-5"], "argument --vertices: expected a positive integer (>= 1), got -5"),
    (["--vertices", "0"], "argument --vertices: expected a positive integer (>= 1), got 0"),
    (["-k", "0"], "argument -k/--influences: expected a positive integer"),
    (["--budget", "0"], "argument --budget: expected a positive number of seconds"),
    (["--device", "banana"], "argument --device: expected cpu, cuda or cuda:N, got 'banana'"),
    (["--device", "meta"], "argument --device: expected cpu, cuda or cuda:N, got 'meta'"),
    (["--dtype", "float16"], "argument --dtype: invalid choice"),
    # hostile sizes, refused before any work (issue 29: tracebacks, MemoryError, rc 139)
    (["-k", "25"], "-k 25: the smallest of the benchmark's rigs has 24 joints; pass -k 1 .. 24"),
    (["--threads", "100000"], "argument --threads: expected a positive integer of at most"),
    (["--batch", "1e9"], "argument --batch: expected a positive integer, got '1e9'"),
    (["--batch", "1000000000"], "--batch 1000000000 with --vertices 50000 needs about"),
    (["--batch", "1", "--vertices", "100000000000"], "GiB of memory is available; pass a smaller"),
])
def test_bad_arguments_are_usage_errors_before_any_output(args, says):
    proc = _bench(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""  # no header first
    assert says in proc.stderr and "Traceback" not in proc.stderr


def test_unwritable_json_is_refused_before_measuring(tmp_path):
    proc = _bench("--batch", "2", "--vertices", "100", "--json", str(tmp_path / "no" / "x.json"))
    assert proc.returncode == 2 and proc.stdout == ""
    assert "cannot write --json" in proc.stderr and "Traceback" not in proc.stderr


def test_cuda_without_a_device_says_so():
    import torch
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    proc = _bench("--device", "cuda", "--batch", "2")
    assert proc.returncode == 2 and "no CUDA device is available" in proc.stderr


def test_tiny_run_prints_every_table_and_writes_rows(tmp_path):
    out = tmp_path / "rows.json"
    proc = _bench("--batch", "2", "17", "--vertices", "300", "--budget", "0.01", "--repeats", "1",
                  "--no-pymomentum", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "memory:" in proc.stdout and "GB/s" in proc.stdout and "x floor" in proc.stdout
    rows = json.loads(out.read_text())
    assert [(r["B"], r["pass"]) for r in rows["reference"]] == [
        (2, "fwd"), (2, "fwd+bwd"), (17, "fwd"), (17, "fwd+bwd")]
    assert {(r["rig"], r["B"]) for r in rows["bandwidth"]} == {
        ("humanoid", 2), ("humanoid", 17), ("J=55", 2), ("J=55", 17)}
    assert all(r["gbs"] > 0 and r["copy_gbs"] > 0 for r in rows["bandwidth"])


def test_bench_package_is_an_alias_of_the_one_command_line():
    """`python -m torchrig.bench` (the benchmark's module name before it became a package)."""
    proc = subprocess.run([sys.executable, "-m", "torchrig.bench", "--help"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: python -m torchrig bench")
    assert "--batch" in proc.stdout and "--dtype" in proc.stdout and "--device" in proc.stdout


def test_compare_abi_arguments_are_checked(tmp_path):
    import torchrig

    classic_site = str(Path(torchrig.__file__).parent.parent)
    proc = _bench("--compare-abi", str(tmp_path))
    assert proc.returncode == 2 and proc.stdout == ""
    assert "argument --compare-abi: expected a directory holding a stable-ABI torchrig" in proc.stderr
    assert "holds no torchrig package" in proc.stderr and "Traceback" not in proc.stderr
    proc = _bench("--compare-abi", classic_site)
    assert proc.returncode == 2 and "holds a classic build" in proc.stderr
    proc = _bench("--classic-site", classic_site)
    assert proc.returncode == 2 and "--classic-site needs --compare-abi STABLE_SITE" in proc.stderr
    proc = _bench("--rounds", "0")
    assert proc.returncode == 2 and "argument --rounds: expected a positive integer" in proc.stderr
