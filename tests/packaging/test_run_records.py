"""Figures in the docs come from run records (docs/runs/*.json, `torchrig-release record`) and
from the files that own them (`gen docs`): how a record is made, read and shown."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from support.timeouts import COMMAND_S
from torchrig_release import gpu_check
from torchrig_release.errors import ReleaseError
from torchrig_release.gen import code_blocks, runs
from torchrig_release.paths import REPO

# lines as .ci/run and pytest print them (a run of 2026-12-06, shortened)
CI_OUTPUT = """\
[ci] commit 2b5e335, 2 cores, load average 0.20 0.30 0.40; cache /root/.cache/torchrig: 0 entries at start
[dev-setup] creating .venv
[ci] setup: 92s
[pythons] 3.10 torch 2.14.1: passed (278 passed, 52 skipped, 5 warnings in 119.92s (0:01:59); venv 59s, build 92s, tests 124s)
[pythons] 3/3 passed in 683s
[ci] setup + per-Python runs: 780s (rc 0: non-zero fails CI after the run below)
========== 567 passed, 47 skipped, 36 warnings in 1345.23s (0:22:25) ===========
[ci] seconds per test file (README's run with the slow suites):
   327.1 s    10 tests  tests/packaging/test_conda_cuda.py
   261.1 s    11 tests  tests/packaging/test_stable_abi.py
     1.0 s     1 test   tests/unit/test_rig.py
[ci] ccache: Hits: 31 / 108 (28.70%)
[ci] total 2130s
========== 567 passed, 47 skipped, 36 warnings in 1345.23s (0:22:25) ===========
"""


def _record(output: str, name: str = "x", command: str = "cmd") -> runs.Record:
    return runs.make(name, command, output, 0, 12.3, "2026-12-06 20:00 UTC", commit="abc1234")


def test_pytest_summary_is_read_with_every_count():
    assert runs.pytest_counts("x\n====== 789 passed, 124 skipped, 44 warnings in 157.53s (0:02:37) ======\n") == (
        {"passed": 789, "skipped": 124, "warnings": 44}, 157.53)
    assert runs.pytest_counts("== 1 failed, 2 passed, 1 error in 3.00s ==") == (
        {"failed": 1, "passed": 2, "error": 1}, 3.0)
    assert runs.pytest_counts("no summary here") is None


def test_pytest_block_shows_counts_and_where_they_come_from():
    text = runs.render_block(_record("== 789 passed, 124 skipped, 44 warnings in 157.53s ==", "tests-default",
                                     ".venv/bin/python -m pytest"), "pytest")
    assert text.startswith("**789 passed, 124 skipped in 158 s**")
    assert "`docs/runs/tests-default.json`" in text and "commit abc1234" in text and "2026-12-06 20:00 UTC" in text
    with pytest.raises(ReleaseError, match="no pytest summary"):
        runs.render_block(_record("nothing"), "pytest")


def test_ci_block_reads_what_ci_run_prints():
    text = runs.render_block(_record(CI_OUTPUT, "ci-cold"), "ci")
    assert text.startswith("- total **2130 s** (the machine-wide cache: 0 entries at the start), exit status 0: "
                           "setup 92 s (tools/dev-setup), the CPU unit suite under the other Pythons 688 s, "
                           "README's test command with the slow suites 1350 s: 567 passed, 47 skipped in 1345 s\n")
    assert "- per Python: 3.10 torch 2.14.1: passed (278 passed" in text
    assert "- slowest test files: test_conda_cuda 327.1 s, test_stable_abi 261.1 s, test_rig 1.0 s" in text
    assert "- compiler cache hits 31 / 108" in text
    with pytest.raises(ReleaseError, match="not the output of .ci/run"):
        runs.render_block(_record("== 1 passed in 1.00s =="), "ci")


def test_a_long_output_keeps_its_tagged_lines_and_its_end():
    body = "\n".join(f"line {i}" for i in range(5000))
    kept = runs.make("x", "c", "[ci] setup: 5s\n" + body + "\n[ci] total 9s", 0, 1, "d", commit="c").output
    assert kept.startswith("[ci] setup: 5s\n[… ")
    assert kept.endswith("line 4999\n[ci] total 9s")
    assert len(kept.splitlines()) == runs.KEEP_TAIL + 2


def test_paths_of_this_machine_are_shortened():
    out = runs.make("x", "c", f"{REPO}/build/x and {runs.cache_dir()}/venv-a", 0, 1, "d", commit="c").output
    assert out == "build/x and <cache>/venv-a"


def test_blocks_are_filled_from_records_and_a_missing_record_is_named():
    doc = "a\n<!-- run:t:pytest:begin -->\nstale 1 passed\n<!-- run:t:end -->\nb\n"
    text, used = runs.update(doc, {"t": _record("== 2 passed in 1.00s ==", "t")}, "README.md")
    assert used == {"t"} and "**2 passed in 1 s**" in text and "stale" not in text
    with pytest.raises(ReleaseError, match=r"README.md: block run:t has no record docs/runs/t.json; "
                                           r"make it with `torchrig-release record t COMMAND`"):
        runs.update(doc, {}, "README.md")
    assert runs.records_unused({"t": None, "old": None}, {"t"}) == ["old"]


def _release(*args: str, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "torchrig_release", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=COMMAND_S)


def test_record_runs_the_command_and_keeps_a_failing_run(tmp_path):
    proc = _release("record", "demo", 'echo "here: $PWD"; echo "== 3 passed in 1.00s =="; exit 3',
                    "--runs", str(tmp_path), "--no-gen")
    assert proc.returncode == 3, proc.stderr
    assert "here: " in proc.stdout  # shown as it runs
    data = json.loads((tmp_path / "demo.json").read_text())
    assert data["exit"] == 3 and data["name"] == "demo"
    assert data["output"].splitlines() == ["here: .", "== 3 passed in 1.00s =="]
    assert data["commit"] and data["machine"].split()[1].startswith("cores") and data["load"]
    assert runs.load(tmp_path)["demo"].exit == 3


def test_record_from_a_log_needs_its_exit_status(tmp_path):
    log = tmp_path / "ci.out"
    log.write_text(CI_OUTPUT)
    proc = _release("record", "ci-x", "CI=true bash .ci/run", "--log", str(log), "--runs", str(tmp_path), "--no-gen")
    assert proc.returncode == 2 and "--log needs --exit" in proc.stderr
    proc = _release("record", "ci-x", "CI=true bash .ci/run", "--log", str(log), "--exit", "0", "--commit", "2b5e335",
                    "--runs", str(tmp_path), "--no-gen")
    assert proc.returncode == 0, proc.stderr
    record = runs.load(tmp_path)["ci-x"]
    assert (record.seconds, record.commit, record.load) == (2130, "2b5e335", None)


def test_a_file_that_is_not_a_record_is_named(tmp_path):
    (tmp_path / "bad.json").write_text('{"name": "bad"}')
    with pytest.raises(ReleaseError, match="bad.json: not a run record"):
        runs.load(tmp_path)


def test_gpu_steps_come_from_gpu_check(monkeypatch):
    monkeypatch.setitem(gpu_check.TIMEOUTS, "memcheck", 123)
    assert "| 3 memcheck, each build | 123 s |" in code_blocks.gpu_steps()
    assert f"| all (each step's timeout is cut to what is left) | {gpu_check.TOTAL_S} s |" in code_blocks.gpu_steps()


def test_a_code_block_in_the_wrong_doc_is_refused():
    with pytest.raises(ReleaseError, match="belongs once in README.md"):
        code_blocks.update("<!-- generated:gpu-steps:begin -->\n<!-- generated:gpu-steps:end -->\n", "docs/conda.md")
