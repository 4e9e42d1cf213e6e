"""A run that fails says what failed (support/test_log.py), even when pytest dies before its
summary: the case CI met on a loaded machine (a per-Python run that printed `FFF.F` and no
summary line, rc 1), reproduced with a test that ends the process."""
from __future__ import annotations

import os
import subprocess
import sys

from support import test_log
from torchrig_release.paths import REPO

DYING = '''
import os
def test_ok(): pass
def test_bad():
    assert 1 == 2, "one is not two"
def test_dies():
    os._exit(1)
def test_never_runs(): pass
'''


def _pytest(folder, log) -> subprocess.CompletedProcess:
    env = {**os.environ, test_log.ENV: str(log), "PYTHONPATH": str(REPO / "tests")}
    env.pop("TORCHRIG_RUN_SLOW", None)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "support.test_log", str(folder)],
                          capture_output=True, text=True, env=env, cwd=folder, timeout=300)


def test_a_run_that_dies_names_its_failures_and_the_test_running(tmp_path):
    (tmp_path / "test_dying.py").write_text(DYING)
    log = tmp_path / "log.jsonl"
    proc = _pytest(tmp_path, log)
    assert proc.returncode == 1 and " passed" not in proc.stdout  # no summary line: the CI symptom
    lines = test_log.digest(log, proc.returncode)
    assert lines[0].startswith("FAILED ") and lines[0].endswith("test_dying.py::test_bad (call)"), lines
    assert any("one is not two" in line for line in lines)
    assert lines[-1].startswith("pytest stopped without finishing (rc 1) after 3 test(s); "
                                "the test running then: "), lines
    assert lines[-1].endswith("test_dying.py::test_dies")
    assert test_log.digest(log, -9)[-1].startswith("pytest stopped without finishing (killed by SIGKILL")


def test_a_finished_run_names_its_failures_and_times_each_file(tmp_path):
    (tmp_path / "test_plain.py").write_text(DYING.replace("    os._exit(1)", "    pass"))
    log = tmp_path / "log.jsonl"
    proc = _pytest(tmp_path, log)
    assert proc.returncode == 1 and "1 failed, 3 passed" in proc.stdout
    lines = test_log.digest(log, proc.returncode)
    assert [line for line in lines if not line.startswith("    ")] == [
        f"FAILED {lines[0].split()[1]} (call)"] and lines[0].endswith("::test_bad (call)")
    ((name, seconds, count),) = test_log.file_times(log)
    assert name.endswith("test_plain.py") and count == 4 and seconds >= 0
    assert test_log.digest(tmp_path / "absent.jsonl", 2) == [
        f"no test log at {tmp_path / 'absent.jsonl'}: pytest did not start (rc 2)"]
