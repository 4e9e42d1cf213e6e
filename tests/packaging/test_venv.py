"""The shared venv cache (torchrig_release.venv): a venv other checkouts may use is never cleared."""
from __future__ import annotations

import json

from torchrig_release.venv import ensure_venv


def _fake_venv(path, torch, extra):
    (path / "bin").mkdir(parents=True)
    (path / "bin" / "python").write_text("#!/bin/sh\nexit 0\n")
    (path / "bin" / "python").chmod(0o755)
    (path / "torchrig-venv.json").write_text(json.dumps({"torch": torch, "extra": extra}))
    (path / "marker").write_text("still here")


def test_a_venv_with_more_extras_is_reused_untouched(tmp_path):
    venv = tmp_path / "venv-py3.11-torch2.14.1"
    _fake_venv(venv, "2.14.1", ["hypothesis", "numpy", "pytest"])
    assert ensure_venv(venv, "2.14.1", ["numpy", "pytest"]) == venv / "bin" / "python"
    assert (venv / "marker").read_text() == "still here"
    assert json.loads((venv / "torchrig-venv.json").read_text())["extra"] == ["hypothesis", "numpy", "pytest"]


def test_missing_extras_are_added_not_cleared(tmp_path):
    venv = tmp_path / "venv"
    _fake_venv(venv, "2.14.1", ["numpy"])  # its 'python' accepts any pip call
    ensure_venv(venv, "2.14.1", ["numpy", "pytest"])
    assert (venv / "marker").read_text() == "still here"
    assert json.loads((venv / "torchrig-venv.json").read_text())["extra"] == ["numpy", "pytest"]
