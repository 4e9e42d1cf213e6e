"""The wheel pipeline end to end against a real index: build-wheel (the one wheel:
TORCHRIG_ABI=stable, distribution `torchrig`) -> repair -> check -> publish to pypiserver on
127.0.0.1 (tests/support/pypi_server.py), then installs of `torchrig` from that index:

  1. beside the torch it was built against (2.13.0+cpu, pinned) -> installs, ops match reference;
  2. beside the next torch minor (2.14.1, a CUDA 13 build, pinned; a copy of the cached venv)
     -> installs, ops match the reference on the CPU (what the four flavour names and the
     classic one-minor pin used to refuse);
plus: check refuses an unrepaired wheel and a classic build (one torch minor: conda and source
builds only), re-publishing (rejected without --skip-existing, skipped with it) and a wrong
password (refused, nothing uploaded). What resolvers choose without installing (seed
scenarios, a CUDA 12 torch, an installed CPU torch kept): tests/packaging/test_resolvers.py.

Slow (one stable wheel build in build/stable-{wheel_tag}, where tests/packaging/test_stable_abi.py
builds it too; venvs cloned with hard links from the cached venv-py3.11-torch<version>).
Outputs of every step are left in .cache/wheels/ (docs/publishing.md quotes them); the
scenario venvs are removed at the end.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.cache_inventory import IMAGE_INDEXES, IMAGE_WHEELS
from support.probes import OPS_PROBE
from support.venv_clone import clone
from support.pypi_server import running_index
from torchrig_release import machine
from torchrig_release.paths import REPO

pytestmark = [pytest.mark.slow, pytest.mark.scenario]

WORK = REPO / ".cache" / "wheels"
BUILD_TORCH, NEXT_TORCH = machine.BUILD_TORCH, machine.CUDA_TORCH
# The stable build's folder: the one tests/packaging/test_stable_abi.py builds in (scikit-build-core
# reads SKBUILD_BUILD_DIR), so whichever of the two runs second rebuilds nothing.
STABLE_BUILD = {"TORCHRIG_CUDA": "OFF", "TORCHRIG_ABI": "stable",
                "SKBUILD_BUILD_DIR": "build/stable-{wheel_tag}"}
CLASSIC_BUILD = {"TORCHRIG_CUDA": "OFF", "TORCHRIG_ABI": "classic"}
TIMEOUT = 1200
# Where this machine's torches lie: files of the machine image (support.cache_inventory lists
# them); pip's own config files are ignored (PIP_CONFIG_FILE), so nothing else is consulted:
# no pypi.org, no machine-wide constraint, nothing an earlier run left behind.
LOCAL_SOURCES = ["--find-links", str(IMAGE_WHEELS), "--extra-index-url", IMAGE_INDEXES[0],
                 "--extra-index-url", IMAGE_INDEXES[1]]


def _run(cmd: list, env: dict | None = None, log: str | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("TWINE_", "TORCHRIG_INDEX_"))}
    full.update(env or {})
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=full,
                          timeout=TIMEOUT, cwd=REPO)
    if log:
        (WORK / log).write_text(f"$ {' '.join(map(str, cmd))}\n{proc.stdout}{proc.stderr}"
                                f"[exit {proc.returncode}]\n")
    return proc


def _ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _release(*args, env=None, log=None):
    return _run([sys.executable, "-m", "torchrig_release", *args], env, log)


def _clone(torch_version: str, name: str) -> Path:
    """A fresh venv holding the cached venv's packages (support.venv_clone: hard links)."""
    return clone(torch_version, WORK / "venvs" / name)


def _pip(py: Path, index, *args, log=None, constraint=None):
    env = {"PIP_CONFIG_FILE": os.devnull, "PIP_CONSTRAINT": str(constraint or "")}
    return _run([py, "-m", "pip", "install", "--disable-pip-version-check",
                 "--index-url", index.simple, *LOCAL_SOURCES, *args], env, log)


def _pin(name: str, version: str) -> Path:
    path = WORK / f"pin-{name}.txt"
    path.write_text(f"torch=={version}\n")
    return path


@pytest.fixture(scope="module", autouse=True)
def _drop_venvs():
    """The scenario venvs (GBs of new torch files) go at the end; the logs stay."""
    yield
    shutil.rmtree(WORK / "venvs", ignore_errors=True)


@pytest.fixture(scope="module")
def dist() -> Path:
    """build-wheel -> repair -> check, in this test's Python (torch 2.13.0+cpu)."""
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    d = WORK / "dist"
    _ok(_release("build-wheel", "--dist", d, env=STABLE_BUILD, log="build-wheel.txt"))
    _ok(_release("repair", "--dist", d, log="repair.txt"))  # manylinux_2_28 (cmake/manylinux.cmake)
    _ok(_release("check", "--dist", d, log="check.txt"))
    return d


@pytest.fixture(scope="module")
def index(dist, tmp_path_factory):
    """A pypiserver index holding the repaired wheel, published by the `publish` verb."""
    with running_index(tmp_path_factory.mktemp("index")) as idx:
        yield idx


def test_repaired_wheel_is_manylinux_and_vendors_no_torch_library(dist):
    wheels = list((dist / "repaired").glob("*.whl"))
    assert len(wheels) == 1, wheels
    assert wheels[0].name == "torchrig-0.1.0-py3-none-manylinux_2_28_x86_64.whl", wheels[0].name
    import zipfile
    vendored = [Path(n).name for n in zipfile.ZipFile(wheels[0]).namelist() if ".libs/" in n]
    assert not vendored, vendored   # no torch library, and no libgomp: torch's own is used
    text = (WORK / "check.txt").read_text()
    for check in ("twine", "name", "pin", "platform", "manylinux", "abi"):
        assert f"ok     {check}" in text, text


def test_check_refuses_an_unrepaired_wheel(dist):
    proc = _release("check", *(dist / "raw").glob("*.whl"))
    assert proc.returncode == 1 and "FAILED platform" in proc.stdout, proc.stdout + proc.stderr
    assert "nothing published" in proc.stderr


def test_check_refuses_a_classic_build_for_an_index(dist):
    """A classic wheel (one torch minor) under the one name: `check` refuses it (issue 26: the
    index holds only the one wheel; the classic build is for conda and source builds)."""
    d = WORK / "dist-classic"
    _ok(_release("build-wheel", "--dist", d, env=CLASSIC_BUILD, log="classic-build-wheel.txt"))
    _ok(_release("repair", "--dist", d, "--plat", "best", log="classic-repair.txt"))
    proc = _release("check", "--dist", d, log="classic-check.txt")
    assert proc.returncode == 1 and "FAILED name" in proc.stdout, proc.stdout + proc.stderr
    assert "conda and source builds" in proc.stdout


def test_wrong_password_is_refused_and_nothing_is_uploaded(dist, index):
    proc = _release("publish", "--dist", dist, "--url", index.url, "--yes",
                    env={"TORCHRIG_INDEX_USERNAME": index.user,
                         "TORCHRIG_INDEX_PASSWORD": "wrong-" + index.password},
                    log="publish-wrong-password.txt")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "403" in proc.stderr or "401" in proc.stderr, proc.stderr
    assert index.password not in proc.stdout + proc.stderr
    assert index.files() == []


def test_dry_run_sends_nothing(dist, index):
    proc = _ok(_release("publish", "--dist", dist, "--url", index.url,
                        env={"TORCHRIG_INDEX_USERNAME": index.user,
                             "TORCHRIG_INDEX_PASSWORD": index.password}))
    assert "nothing uploaded" in proc.stdout and index.files() == []
    assert index.password not in proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def published(dist, index):
    creds = {"TORCHRIG_INDEX_USERNAME": index.user, "TORCHRIG_INDEX_PASSWORD": index.password}
    proc = _ok(_release("publish", "--dist", dist, "--url", index.url, "--yes", env=creds,
                        log="publish.txt"))
    assert index.password not in proc.stdout + proc.stderr
    return index


def test_republishing_is_rejected_without_skip_existing_and_skipped_with_it(dist, published):
    creds = {"TWINE_USERNAME": published.user, "TWINE_PASSWORD": published.password}
    before = published.files()
    again = _release("publish", "--dist", dist, "--url", published.url, "--yes", env=creds,
                     log="publish-again.txt")
    assert again.returncode == 1 and "--skip-existing" in again.stderr, again.stdout + again.stderr
    skipped = _ok(_release("publish", "--dist", dist, "--url", published.url, "--yes",
                           "--skip-existing", env=creds, log="publish-skip-existing.txt"))
    assert "Skipping" in skipped.stdout or "already exists" in skipped.stdout, skipped.stdout
    assert published.files() == before and len(before) == 1


def test_1_built_for_torch_installs_and_ops_match_the_reference(published):
    py = _clone(BUILD_TORCH, "s1-torch213")
    proc = _ok(_pip(py, published, "torchrig", constraint=_pin("213", BUILD_TORCH),
                    log="scenario-1-pip.txt"))
    assert "Successfully installed torchrig-0.1.0" in proc.stdout, proc.stdout
    ops = _ok(_run([py, "-c", OPS_PROBE], log="scenario-1-ops.txt"))
    assert "OPS OK" in ops.stdout


def test_2_next_torch_minor_pinned_installs_and_works(published):
    py = _clone(NEXT_TORCH, "s2-torch214")   # torch 2.14.1 (CUDA 13 build) installed
    proc = _ok(_pip(py, published, "torchrig", constraint=_pin("214", NEXT_TORCH),
                    log="scenario-2-pip.txt"))
    assert "Successfully installed torchrig-0.1.0" in proc.stdout, proc.stdout
    listed = _run([py, "-m", "pip", "list", "--format=freeze"]).stdout
    assert f"torch=={NEXT_TORCH}" in listed, listed       # the user's torch stayed
    ops = _ok(_run([py, "-c", OPS_PROBE], log="scenario-2-ops.txt"))
    assert f"LOADED torch {NEXT_TORCH}" in ops.stdout and "OPS OK" in ops.stdout, ops.stdout
