"""`build-conda` says which channel it cannot read, before any work (issue 32: an offline
machine got a raw PyRattlerBuildError traceback, "Failed to resolve dependencies")."""
from __future__ import annotations

import socket

from torchrig_release import main, variants


def _build_conda(channel: str, tmp_path) -> list[str]:
    pytorch = variants.matrix()["pytorch"][-1]
    return ["build-conda", "--no-test", "--pytorch", pytorch, "--channel", channel,
            "--output-dir", str(tmp_path / "out")]


def test_a_folder_that_is_not_a_channel_is_named(tmp_path, capsys):
    status = main.main(_build_conda(str(tmp_path / "nothing-here"), tmp_path))
    err = capsys.readouterr().err
    assert status == 2, err
    assert "is not a conda channel (no noarch/repodata.json)" in err
    assert "Traceback" not in err and "--channel" in err
    assert not (tmp_path / "out").exists()  # refused before rattler-build started


def test_an_unreachable_url_is_named(tmp_path, capsys):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    status = main.main(_build_conda(f"http://127.0.0.1:{port}/conda-forge", tmp_path))
    err = capsys.readouterr().err
    assert status == 2, err
    assert f"http://127.0.0.1:{port}/conda-forge/noarch/repodata.json cannot be reached" in err
    assert "Traceback" not in err
