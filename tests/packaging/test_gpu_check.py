"""The gpu-check verb (torchrig_release/gpu_check.py): the GPU machine's one command, and its dry run.

Fast: the GPU machine's entry point imports the standard library only; the GPU test files are
exactly those pytest selects with -m gpu; a command past its timeout is killed with its
children; logs are capped; the send size is counted from git and checked; a changed kit wheel
is refused; a part that fails does not stop the others; without a GPU the command refuses and
names --dry-run.

Slow (``cudabuild``): the dry run itself - the kit (stable CUDA wheel for sm_90 against the
cached torch 2.14.1+cu130), the classic CUDA build, both installed with `info`, every GPU step
run up to the device - and its summary.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time

import pytest
from torchrig_release import gpu_check, test_gpu
from torchrig_release.errors import ReleaseError
from torchrig_release.paths import REPO
from support.timeouts import COMMAND_S

PYTHON_DIR = REPO / "python"


def test_the_gpu_machine_entry_point_needs_only_the_standard_library():
    """`python -S` (no site-packages): what the GPU machine's bare Python can import."""
    env = {**os.environ, "PYTHONPATH": str(PYTHON_DIR)}
    imported = subprocess.run(
        [sys.executable, "-S", "-c", "import sys, torchrig_release.main_gpu_check as m; "
         "print(sorted(n for n in sys.modules if n.split('.')[0] in ('torch', 'torchrig', 'yaml', "
         "'elftools', 'rattler', 'packaging')))"],
        capture_output=True, text=True, env=env, timeout=COMMAND_S)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "[]"
    helped = subprocess.run([sys.executable, "-S", "-m", "torchrig_release.main_gpu_check", "--help"],
                            capture_output=True, text=True, env=env, timeout=COMMAND_S, cwd=REPO)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: python -m torchrig_release.main_gpu_check")
    assert "--dry-run" in helped.stdout and "``" not in helped.stdout


def test_gpu_test_files_are_those_pytest_selects():
    """test_gpu.GPU_TESTS (what the GPU machine collects) against pytest -m gpu over tests/unit."""
    # without the run's logs: a slow run's pytest prints the cache report of every test that
    # wrote the shared cache log (tests/packaging/... lines) after its own collection
    env = {k: v for k, v in os.environ.items() if k not in ("TORCHRIG_CACHE_LOG", "TORCHRIG_TEST_LOG")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "gpu",
                           "-p", "no:cacheprovider", "tests/unit"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=COMMAND_S)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    files = {line.split("::")[0] for line in proc.stdout.splitlines()
             if line.startswith("tests/unit/") and "::" in line}
    assert files == set(test_gpu.GPU_TESTS)
    for name in test_gpu.SANITIZER_TESTS:
        assert (REPO / name).is_file()


def test_a_command_past_its_timeout_is_killed_with_its_children(tmp_path):
    log = tmp_path / "x.log"
    start = time.monotonic()
    rc, text = gpu_check.run_logged(["bash", "-c", "echo started; sleep 60 & echo $! > pid; wait"],
                                    log, 2, env=dict(os.environ), cwd=tmp_path, title="sleeper")
    assert rc is None and time.monotonic() - start < 20
    grandchild = int((tmp_path / "pid").read_text())
    for _ in range(50):  # killed with its group; reaped by init
        if not pathlib.Path(f"/proc/{grandchild}").exists() or \
                "Z" in pathlib.Path(f"/proc/{grandchild}/stat").read_text().split()[2]:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the grandchild {grandchild} outlived the timeout")
    assert "started" in text and "==== exit status timeout" in log.read_text()
    rc, text = gpu_check.run_logged([sys.executable, "-c", "print('hello')"], log, 60,
                                    env=dict(os.environ), cwd=tmp_path, title="quick")
    assert rc == 0 and "hello" in text and "started" not in text  # only this command's output
    assert log.read_text().count("==== ") == 4  # two headers, two exit lines, one file


def test_logs_are_capped_below_what_may_come_back(tmp_path):
    log = tmp_path / "big.log"
    log.write_bytes(b"head\n" + b"x" * (5 << 20) + b"\nthe end\n")
    gpu_check.cap_log(log, cap=3 << 20)
    text = log.read_bytes()
    assert len(text) < (3 << 20) + 200 and text.startswith(b"head") and text.endswith(b"the end\n")
    assert b"bytes left out by gpu-check" in text


def test_send_size_counts_tracked_untracked_and_kit_but_not_ignored(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True,  # noqa: E731
                                    timeout=COMMAND_S)
    git("init", "-q")
    (repo / ".gitignore").write_text("/dist/\n/build/\n")
    (repo / "tracked.txt").write_bytes(b"a" * 1000)
    git("add", ".")
    (repo / "untracked.txt").write_bytes(b"b" * 300)
    (repo / "build").mkdir()
    (repo / "build" / "ignored.bin").write_bytes(b"c" * 100000)
    kit = repo / "dist" / "gpu-kit"
    kit.mkdir(parents=True)
    (kit / "w.whl").write_bytes(b"d" * 5000)
    sizes = gpu_check.send_size(kit, repo)
    assert sizes == {"checkout": 1000 + 300 + len("/dist/\n/build/\n"), "kit": 5000,
                     "total": 6300 + len("/dist/\n/build/\n")}
    assert "sends 0.0 MiB of 64.0 MiB" in gpu_check.check_send_size(sizes)
    with pytest.raises(ReleaseError, match="more than 48.0 MiB"):
        gpu_check.check_send_size({"checkout": 1 << 20, "kit": 48 << 20, "total": 49 << 20})


def test_a_changed_or_missing_kit_wheel_is_refused(tmp_path):
    with pytest.raises(ReleaseError, match="gpu-check --dry-run"):
        gpu_check.kit_wheel(tmp_path)
    (tmp_path / "w.whl").write_bytes(b"wheel")
    (tmp_path / gpu_check.KIT_RECORD).write_text(json.dumps({"wheel": "w.whl", "sha256": "0" * 64}))
    with pytest.raises(ReleaseError, match="changed since the kit was built"):
        gpu_check.kit_wheel(tmp_path)
    (tmp_path / gpu_check.KIT_RECORD).write_text(
        json.dumps({"wheel": "w.whl", "sha256": gpu_check.sha256(tmp_path / "w.whl")}))
    assert gpu_check.kit_wheel(tmp_path) == tmp_path / "w.whl"


def test_a_failed_part_does_not_stop_the_others(tmp_path, monkeypatch):
    """Part 1 raising, part 2 without a kit: both failed, part 3 skipped for both, summary written."""
    def broken(ctx):
        raise RuntimeError("compiler exploded")

    monkeypatch.setattr(gpu_check, "classic_build", broken)
    ctx = gpu_check.Context(out=tmp_path / "out", python=sys.executable, dry_run=False, arch="9.0",
                            kit=tmp_path / "no-kit", work=tmp_path / "work")
    steps = gpu_check.run_check(ctx)
    status = {s.name: s.status for s in steps}
    assert status == {"classic build + info": "failed", "stable install + info": "failed",
                      "stable GPU steps": "skipped", "classic GPU steps": "skipped"}
    assert gpu_check.verdict(ctx) == 1
    text = gpu_check.summary(ctx, ["header"])
    assert "RuntimeError: compiler exploded" in text and "no-kit/kit.json" in text
    assert (ctx.out / "summary.txt").read_text() == text
    assert (ctx.out / gpu_check.LOGS["stable install"]).is_file()


@pytest.mark.parametrize("code, dry_rc, status", [
    ("print('3/9 tests collected (6 deselected) in 1.00s')", 0, "skipped"),
    ("import sys; print('ERROR collecting'); sys.exit(2)", 0, "failed"),  # pytest: collection error
    ("import sys; print('bench: --device cuda, but no CUDA device is available'); sys.exit(2)", 2, "skipped"),
    ("import sys; print('bench: -k 9: the smallest rig has 5 joints'); sys.exit(2)", 2, "failed"),
    ("import sys; sys.exit(77)", 77, "skipped"),
    ("import sys; sys.exit(1)", 77, "failed")])
def test_a_dry_step_is_skipped_only_when_it_stopped_at_the_device(tmp_path, code, dry_rc, status):
    ctx = gpu_check.Context(out=tmp_path, python=sys.executable, dry_run=True, arch="9.0",
                            work=tmp_path)
    cmd = [sys.executable, "-c", code]
    step = gpu_check.gpu_step(ctx, "classic", "x", cmd, dict(os.environ), tmp_path / "x.log", cmd,
                              "tests", dry_rc)
    assert step.status == status, step


SANITIZER_STAND_IN = """#!/bin/bash
# drops the sanitizer's options, runs the program, prints a summary line like the real tool's
tool=memcheck
while [[ "$1" == --* ]]; do [[ "$1" == --tool ]] && tool=$2; shift 2; done
"$@"; rc=$?
echo "========= ${tool^^} SUMMARY: 0 errors"
exit $rc
"""


def test_the_gpu_path_runs_each_step_and_reads_its_figure(tmp_path, monkeypatch):
    """Parts 3's steps as on the GPU machine (no --dry-run), here without a device and with a
    stand-in compute-sanitizer: each runs its real command, and a run where every GPU test
    skipped, the probe stopped or the bench refused is a failure, not a pass."""
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "compute-sanitizer").write_text(SANITIZER_STAND_IN)
    (tmp_path / "bin" / "compute-sanitizer").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    (tmp_path / "work" / "classic-site").mkdir(parents=True)  # the installed torchrig: .venv's
    ctx = gpu_check.Context(out=tmp_path / "out", python=sys.executable, dry_run=False, arch="9.0",
                            work=tmp_path / "work")
    ctx.out.mkdir()
    for step, arg in ((gpu_check.tests_step, "classic"), (gpu_check.memcheck_step, "classic"),
                      (gpu_check.racecheck_step, "classic"), (gpu_check.bench_step, "bench")):
        step(ctx, arg)
    got = {s.name: (s.status, s.figure) for s in ctx.steps}
    assert got["classic test-gpu"][0] == "failed" and "no test ran" in got["classic test-gpu"][1]
    assert " skipped" in got["classic memcheck"][1] and got["classic memcheck"][1].endswith(
        "; MEMCHECK SUMMARY: 0 errors")
    assert got["classic racecheck"] == ("failed", "racecheck probe: no CUDA device; stopping before "
                                        "the GPU; RACECHECK SUMMARY: 0 errors")
    assert got["classic bench"] == ("failed", "bench: --device cuda, but no CUDA device is available")


def test_summary_figures_from_pytest_and_the_bench():
    assert gpu_check.pytest_figure("....\n12 passed, 3 skipped in 4.10s\n") == "12 passed, 3 skipped in 4.10s"
    assert gpu_check.pytest_figure("x\n== 1 failed, 2 passed in 9.00s ==\n") == "1 failed, 2 passed in 9.00s"
    assert gpu_check.pytest_figure("a::b\n\n5/40 tests collected (35 deselected) in 2.00s\n") \
        == "5/40 tests collected (35 deselected)"
    rows = [{"op": "skin", "mode": "fwd", "B": 64, "V": 7000, "torchrig": 0.1, "reference": 1.0,
             "compiled": 0.5, "gbs": 900.0, "copy_gbs": 3000.0},
            {"op": "skin", "mode": "fwd", "B": 4096, "V": 50000, "torchrig": 2.0, "reference": "OOM",
             "compiled": 6.0, "gbs": 2400.0, "copy_gbs": 3000.0},
            {"op": "fk", "mode": "fwd", "B": 4096, "V": 0, "torchrig": 0.05, "gbs": None}]
    assert gpu_check.bench_figure(rows) == (
        "skin fwd B=4096 V=50000: 2.000 ms, 2400 GB/s = 80% of the device copy (3000 GB/s); "
        "vs reference OOM, vs compiled 3.0x")


def test_reuse_kit_goes_with_the_dry_run_and_checks_the_kit(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "torchrig_release", "gpu-check", "--reuse-kit",
                           str(tmp_path)], capture_output=True, text=True, cwd=REPO, timeout=COMMAND_S)
    assert proc.returncode == 2 and "--reuse-kit goes with --dry-run" in proc.stderr
    ctx = gpu_check.Context(out=tmp_path / "out", python=sys.executable, dry_run=True,
                            kit=tmp_path / "no-kit", work=tmp_path / "work")
    step = gpu_check.reuse_kit(ctx)
    assert step.status == "failed" and "gpu-check --dry-run" in step.figure


def test_without_a_gpu_it_refuses_and_names_the_dry_run(tmp_path):
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    proc = subprocess.run([sys.executable, "-m", "torchrig_release", "gpu-check", str(tmp_path)],
                          capture_output=True, text=True, cwd=REPO, timeout=COMMAND_S)
    assert proc.returncode == 2
    assert "sees no CUDA device" in proc.stderr and "gpu-check --dry-run OUT" in proc.stderr


@pytest.mark.slow
@pytest.mark.cudabuild
def test_dry_run_builds_the_kit_and_stops_every_gpu_step_at_the_device(tmp_path):
    out = tmp_path / "out"
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "torchrig_release", "gpu-check", "--dry-run", str(out)],
                          capture_output=True, text=True, cwd=REPO, timeout=COMMAND_S)
    seconds = time.monotonic() - start
    summary = (out / "summary.txt").read_text() if (out / "summary.txt").is_file() else ""
    print(f"[gpu-check --dry-run] {seconds:.0f}s\n{summary}")
    assert proc.returncode == 0, summary + proc.stderr[-4000:]
    rows = {line[5:29].strip(): line[30:37].strip() for line in summary.splitlines()
            if line[:1].isdigit()}
    assert rows == {"kit: stable wheel": "passed", "kit: send size": "passed",
                    "classic build + info": "passed", "stable install + info": "passed",
                    **{f"{b} {s}": "skipped" for b in ("classic", "stable")
                       for s in ("test-gpu", "memcheck", "racecheck")},
                    "classic bench": "skipped", "classic bench compiled": "skipped"}, summary
    assert "built for 9.0" in summary and "info ok, classic build, sm 9.0" in summary
    assert "info ok, stable build" in summary
    assert summary.count("tests collected") == 4 and "racecheck probe: no CUDA device" in summary
    assert "bench: --device cuda, but no CUDA device is available" in summary
    record = json.loads((gpu_check.KIT / gpu_check.KIT_RECORD).read_text())
    assert record["wheel"].startswith("torchrig-0.1.0-py3-none-"), record["wheel"]
    assert record["arch"] == "9.0" and record["built_against"].startswith("2.14.1")
    assert len(list(out.iterdir())) <= 8  # what the lending tool brings back
