"""`python -m torchrig info|demo|bench` and the installed wheel's torch pin."""
from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import numpy as np
import torch
from PIL import Image

from torchrig._guard import minor_of


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "torchrig", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=600)


def test_wheel_requires_the_torch_minor_it_was_built_with():
    major, minor = minor_of(torch.__version__)
    reqs = [r for r in importlib.metadata.requires("torchrig") if r.split(";")[0].startswith("torch")]
    assert len(reqs) == 1
    spec = reqs[0].replace("torch", "", 1).replace(" ", "")
    assert sorted(spec.split(",")) == sorted([f">={major}.{minor}", f"<{major}.{minor + 1}"])


def test_info_reports_match_and_pin():
    proc = _cli("info")
    assert proc.returncode == 0, proc.stderr
    assert f"torch_version          {torch.__version__}" in proc.stdout
    assert "match                  yes" in proc.stdout
    assert "declared requirement   torch" in proc.stdout


def test_help_explains_commands():
    proc = _cli("--help")
    assert proc.returncode == 0
    for word in ("info", "demo", "bench"):
        assert word in proc.stdout
    proc = _cli("bench", "--help")
    assert "--batch" in proc.stdout and "ratio" in proc.stdout


def test_demo_checks_and_draws(tmp_path):
    out = tmp_path / "demo.png"
    proc = _cli("demo", "--frames", "12", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "(OK)" in proc.stdout and "torchrig" in proc.stdout
    with Image.open(out) as im:
        assert im.size[0] > im.size[1] > 100
        assert np.unique(np.asarray(im.convert("L"))).size > 10  # something was drawn


def test_bench_prints_ratios():
    proc = _cli("bench", "--batch", "2", "--vertices", "500", "--budget", "0.05")
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.strip().startswith("2 ")]
    assert [r.split()[2] for r in rows] == ["fwd", "fwd+bwd"]
    assert all(r.split()[-2].endswith("x") for r in rows)


def test_demo_rejects_bad_arguments_before_any_work(tmp_path, capsys):
    """In process (argparse exits with status 2): no traceback, no work done."""
    from torchrig.__main__ import main

    blocker = tmp_path / "a_file"
    blocker.write_text("")
    cases = [(("--frames", "0"), "--frames: expected a positive integer (>= 1), got 0"),
             (("--frames", "ten"), "--frames: expected a positive integer, got 'ten'"),
             (("--k", "99"), "the character has 24 joints; pass --k 1 .. 24"),
             (("--device", "banana"), "'banana' is not a device; pass cpu, cuda or cuda:N"),
             (("--out", str(blocker / "pic.png")), "is a file, not a folder"),
             (("--out", str(tmp_path / "pic.txt")), "use one of .png"),
             # hostile sizes and paths (issue 29): a traceback, or all the work and then a failure
             (("--frames", "99999999999999999999999"), "--frames: expected a positive integer of "
                                                       "at most 10000000"),
             (("--frames", "1e12"), "--frames: expected a positive integer, got '1e12'"),
             (("--frames", "9999999"), "GiB of memory is available; pass fewer --frames"),
             (("--out", "/proc/torchrig_demo.png"), "cannot write '/proc/torchrig_demo.png'")]
    for args, message in cases:
        try:
            status = main(["demo", *args])
        except SystemExit as stop:
            status = stop.code
        out, err = capsys.readouterr()
        assert status == 2, (args, out, err)
        assert message in err, (args, err)
        assert "[demo] character" not in out, args


def test_demo_without_matplotlib_says_so_before_any_work(tmp_path, capsys, monkeypatch):
    """A wheel installs no matplotlib: the demo refused only after posing and timing (issue 32)."""
    from torchrig.__main__ import main

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    status = main(["demo", "--frames", "2", "--out", str(tmp_path / "d.png")])
    out, err = capsys.readouterr()
    assert status == 2, (out, err)
    assert "needs matplotlib" in err and "--no-plot" in err, err
    assert "[demo] character" not in out
    assert main(["demo", "--frames", "2", "--no-plot"]) == 0  # still runs without the picture
    assert "[demo] done" in capsys.readouterr().out


def test_demo_out_folder_gets_the_picture_inside(tmp_path):
    folder = tmp_path / "pictures"
    proc = _cli("demo", "--frames", "3", "--out", f"{folder}/")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    written = folder / "torchrig_demo.png"
    assert written.is_file() and f"wrote {written}" in proc.stdout
    assert not (tmp_path / "pictures.png").exists()
    proc = _cli("demo", "--frames", "1", "--out", str(tmp_path / "noext"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "noext.png").is_file() and f"wrote {tmp_path / 'noext.png'}" in proc.stdout
