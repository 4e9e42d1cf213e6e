"""Every test gets what it needs by itself: only files of the machine image (named in
support/cache_inventory.py) and entries of the machine-wide cache that the inventory lists,
made by the code it names. Fast (source and log checks); the slow run's own report is
written by tests/conftest.py from $TORCHRIG_CACHE_LOG."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from support import cache_inventory as inv
from torchrig_release.paths import CACHE_LOG, REPO

# An absolute machine path, or a home-relative cache: anything a checkout does not make.
MACHINE_PATH = re.compile(r"""["'](?:/opt/[^"']*|~/\.cache[^"']*|file:///opt/[^"']*)["']""")
# A cache entry named in code: cache_entry("<prefix>...") or cache_entry(f"<prefix>{...}").
CACHE_NAME = re.compile(r"""cache_entry\(f?["']([^"'{]*)""")


EXAMPLE = "# an example path, never read"


def _sources(*also: str) -> list:
    files = sorted((REPO / "tests").rglob("*.py")) + sorted((REPO / "python").rglob("*.py"))
    return [f for f in files if f.name not in ("cache_inventory.py", "test_cache_inventory.py")
            or f.name in also]


def machine_paths(text: str) -> list[str]:
    """The machine paths of ``text``, less those on a line that says it is an example."""
    return [m for line in text.splitlines() if EXAMPLE not in line for m in MACHINE_PATH.findall(line)]


def test_no_test_or_tool_names_a_machine_path_outside_the_inventory():
    """What a warm machine has and a fresh one lacks comes in by a literal path: a folder of
    torch wheels left by earlier work (~/.cache/torchrig/wheels), a file under /opt that no
    image has. Such paths belong in support/cache_inventory.py, nowhere else."""
    found = [f"{f.relative_to(REPO)}: {m}" for f in _sources() for m in machine_paths(f.read_text())]
    assert not found, "\n".join(found)


def test_the_check_catches_the_warm_machine_wheel_folder():
    """The line of test_wheels.py that failed on a fresh machine (a cp311 torch 2.15.0 wheel only
    a warm machine's ~/.cache/torchrig/wheels had) is found."""
    before = ('LOCAL_SOURCES = ["--find-links", "/opt/wheels", "--find-links",\n'
              '                 str(Path("~/.cache/torchrig/wheels").expanduser()),')
    assert machine_paths(before) == ['"/opt/wheels"', '"~/.cache/torchrig/wheels"']


def test_every_cache_entry_named_in_code_is_in_the_inventory():
    """Each prefix passed to cache_entry() in the tree, with a name it makes, is matched by an
    Entry; a new prefix fails here until it has an example below and an Entry."""
    names = {m for f in _sources("cache_inventory.py") for m in CACHE_NAME.findall(f.read_text())}
    examples = {"venv-": ["venv-py3.12-torch2.15.0", "venv-pypiserver-2.4.1"],
                "venv-asan-": ["venv-asan-py3.11-torch2.13.0"], "venv-quetz-": ["venv-quetz-py3.11"],
                "conda-channel-": ["conda-channel-py3.11-torch2.13.0-0123456789ab"],
                "conda-channel-cuda": ["conda-channel-cuda13.0-torch2.13.0-py3.11"],
                "wheels-torch": ["wheels-torch2.13.0-cp311-manylinux_2_28_x86_64"]}
    assert names == set(examples), names
    missing = [n for prefix in names for n in examples[prefix] if inv.entry_for(n) is None]
    assert not missing, missing


def test_image_files_are_on_this_machine_or_can_be_fetched():
    for (dist, version), (folder, name) in inv.IMAGE.items():
        assert name.startswith(f"{dist}-{version}") and name.endswith(".whl"), name
        if not (folder / name).is_file():
            pytest.skip(f"{folder / name} is not on this machine: the tests that need it make "
                        "it fail by name")


def test_report_names_each_test_entry_and_source_and_refuses_an_unlisted_entry(tmp_path):
    log = tmp_path / "log.jsonl"
    rows = [{"entry": "venv-py3.11-torch2.15.0", "existed": False, "by": "tests/x.py::test_a"},
            {"entry": "venv-py3.11-torch2.15.0", "existed": True, "by": "tests/y.py::test_b"},
            {"entry": "venv-py3.11-torch2.15.0.lock", "existed": True, "by": "tests/y.py::test_b"},
            {"entry": "leftovers", "existed": True, "by": "tests/z.py::test_c"}]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    lines, problems = inv.report(inv.read_log(log))
    assert "tests/x.py::test_a: venv-py3.11-torch2.15.0 MADE (by torchrig_release.venv.ensure_venv;" \
           " from PyPI (pip, torch pinned exactly, the machine's pip cap lifted))" in lines
    assert any(line.startswith("tests/y.py::test_b: venv-py3.11-torch2.15.0 reused") for line in lines)
    assert problems == ["tests/z.py::test_c used <cache>/leftovers, which support/cache_inventory.py "
                        "does not list: add an Entry saying what makes it and from where"]
    proc = subprocess.run([sys.executable, "-m", "support.cache_inventory", str(log)], cwd=REPO / "tests",
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "PROBLEM tests/z.py::test_c" in proc.stdout


def test_cache_entry_logs_each_use_with_the_test_running(tmp_path, monkeypatch):
    from torchrig_release.paths import cache_entry, torch_venv_dir

    monkeypatch.setenv("TORCHRIG_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(CACHE_LOG, str(tmp_path / "log.jsonl"))
    (tmp_path / "cache" / "venv-pypiserver-1").mkdir(parents=True)
    assert cache_entry("venv-pypiserver-1") == tmp_path / "cache" / "venv-pypiserver-1"
    torch_venv_dir("2.15.0", "3.13")
    (made, reused) = inv.read_log(tmp_path / "log.jsonl")[::-1]
    assert made == {"entry": "venv-py3.13-torch2.15.0", "existed": False,
                    "by": "tests/packaging/test_cache_inventory.py::"
                          "test_cache_entry_logs_each_use_with_the_test_running"}
    assert reused["existed"] is True


def test_no_module_names_a_cache_entry_at_import():
    """A cache_entry() call logs a use: at import (collection) it would log one outside any test,
    before the test that makes the entry, and the report would credit the making to nobody."""
    at_import = re.compile(r"^\w+\s*=.*\b(?:cache_entry|torch_venv_dir)\(", re.M)
    found = [f"{f.relative_to(REPO)}: {m.group(0)}" for f in _sources()
             for m in at_import.finditer(f.read_text())]
    assert not found, "\n".join(found)
