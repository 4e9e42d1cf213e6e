"""The wheel pipeline end to end against a real index: build-wheel -> repair -> check ->
publish to pypiserver on 127.0.0.1 (tests/support/pypi_server.py), then the four install
scenarios of the incident in fresh venvs that install torchrig-cpu from that index:

  1. the torch it was built for (2.13) installed and pinned -> installs, ops match reference;
  2. the next torch minor (2.14.1) installed and pinned -> pip refuses torchrig-cpu at resolve
     time; the stable-ABI wheel (TORCHRIG_ABI=stable: build-wheel -> repair -> check ->
     publish to the same index as torchrig-stable-cpu) installs there and its ops work;
  3. nothing pinned, no torch -> pip resolves a compatible torch (2.13) by itself;
  4. torchrig-cpu forced with --no-deps beside a torch outside its range (a copy of the cached
     torch 2.14.1 venv) -> the guard's ImportError, never `undefined symbol`;
plus re-publishing (rejected without --skip-existing, skipped with it) and a wrong password
(refused, nothing uploaded).

Slow (one classic and one stable wheel build, each in a reused build dir: the stable one in
build/stable-{wheel_tag}, where tests/packaging/test_stable_abi.py builds it too; venvs cloned with hard links from the cached
venv-py3.11-torch<version>, torches installed from the machine image's wheel files).
Outputs of every step are left in .cache/wheels/ (docs/publishing.md quotes them); the
scenario venvs are removed at the end.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.cache_inventory import IMAGE_INDEXES, IMAGE_WHEELS
from support.probes import OPS_PROBE
from support.venv_clone import clone
from support.pypi_server import running_index
from torchrig_release import machine
from torchrig_release.paths import REPO
from support.timeouts import COMMAND_S

pytestmark = [pytest.mark.slow, pytest.mark.scenario]

WORK = REPO / ".cache" / "wheels"
BUILD_TORCH, NEXT_TORCH = machine.BUILD_TORCH, machine.CUDA_TORCH
# The stable build's folder: the one tests/packaging/test_stable_abi.py builds in (scikit-build-core
# reads SKBUILD_BUILD_DIR), so whichever of the two runs second rebuilds nothing.
STABLE_BUILD = {"TORCHRIG_CUDA": "OFF", "TORCHRIG_ABI": "stable",
                "SKBUILD_BUILD_DIR": "build/stable-{wheel_tag}"}
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


def _fresh(name: str) -> Path:
    target = WORK / "venvs" / name
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(target)], check=True, timeout=COMMAND_S)
    return target / "bin" / "python"


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
    _ok(_release("build-wheel", "--dist", d, env={"TORCHRIG_CUDA": "OFF"}, log="build-wheel.txt"))
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
    assert len(wheels) == 1 and wheels[0].name.endswith("-manylinux_2_28_x86_64.whl"), wheels
    assert wheels[0].name.startswith("torchrig_cpu-0.1.0-"), wheels[0].name
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
    assert published.files() == before and len(classic(before)) == 1


def classic(files: list[str]) -> list[str]:
    """The index's torchrig-cpu files (the stable wheel may be published beside them)."""
    return [f for f in files if f.startswith("torchrig_cpu-")]


def test_1_built_for_torch_installs_and_ops_match_the_reference(published):
    py = _clone(BUILD_TORCH, "s1-torch213")
    proc = _ok(_pip(py, published, "torchrig-cpu", constraint=_pin("213", BUILD_TORCH),
                    log="scenario-1-pip.txt"))
    assert "Successfully installed torchrig-cpu-0.1.0" in proc.stdout, proc.stdout
    ops = _ok(_run([py, "-c", OPS_PROBE], log="scenario-1-ops.txt"))
    assert "OPS OK" in ops.stdout


def test_2_next_torch_minor_pinned_pip_refuses_at_resolve_time(published):
    py = _clone(NEXT_TORCH, "s2-torch214")   # torch 2.14.1 installed (the cached venv's copy)
    proc = _pip(py, published, "torchrig-cpu", constraint=_pin("214", NEXT_TORCH),
                log="scenario-2-pip.txt")
    assert proc.returncode != 0, proc.stdout
    text = proc.stdout + proc.stderr
    assert "ResolutionImpossible" in text, text
    assert "torchrig-cpu 0.1.0 depends on torch<2.14 and >=2.13" in text, text
    assert "The user requested (constraint) torch==2.14.1" in text, text
    listed = _run([py, "-m", "pip", "list", "--format=freeze"]).stdout
    assert "torchrig" not in listed and "torch==2.14.1" in listed


def test_3_nothing_pinned_pip_resolves_a_compatible_torch(published):
    py = _fresh("s3-no-torch")
    proc = _ok(_pip(py, published, "torchrig-cpu", log="scenario-3-pip.txt"))
    version = _ok(_run([py, "-c", "import torch, torchrig; print(torch.__version__)"],
                       log="scenario-3-import.txt")).stdout.strip()
    assert version.startswith("2.13."), (version, proc.stdout)


def test_4_torch_outside_the_range_beside_it_raises_the_guard_error(published):
    """torchrig-cpu (built for 2.13) forced with --no-deps into a copy of the cached torch 2.14.1
    venv: the state of a user who upgraded torch afterwards, reached without installing a torch
    wheel (no torch wheel file but the image's lies on a fresh machine)."""
    py = _clone(NEXT_TORCH, "s4-forced")      # torch 2.14.1 and its CUDA libraries
    proc = _ok(_pip(py, published, "--no-deps", "torchrig-cpu", log="scenario-4-pip-install.txt"))
    assert "Successfully installed torchrig-cpu-0.1.0" in proc.stdout, proc.stdout
    listed = _run([py, "-m", "pip", "list", "--format=freeze"]).stdout
    assert f"torch=={NEXT_TORCH}" in listed, listed   # the torch outside the range stayed
    proc = _run([py, "-c", "import torchrig"], log="scenario-4-import.txt")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "ImportError: torchrig was built for torch 2.13.0" in proc.stderr, proc.stderr
    # the torch forced in is a CUDA 13 build: the guard names the flavour that fits it
    assert "pip install torchrig-cu13" in proc.stderr and "undefined symbol" not in proc.stderr
    assert "pip install torchrig-stable-cu13" in proc.stderr   # the stable build loads there


@pytest.fixture(scope="module")
def stable_published(dist, published) -> Path:
    """build-wheel (TORCHRIG_ABI=stable) -> repair -> check -> publish, to the same index as
    torchrig-cpu; each step's seconds in .cache/wheels/stable-seconds.txt."""
    d, seconds = WORK / "dist-stable", {}
    creds = {"TORCHRIG_INDEX_USERNAME": published.user, "TORCHRIG_INDEX_PASSWORD": published.password}
    steps = [("build-wheel", ["--dist", d], STABLE_BUILD),
             ("repair", ["--dist", d], None),
             ("check", ["--dist", d], None),
             ("publish", ["--dist", d, "--url", published.url, "--yes"], creds)]
    for verb, args, env in steps:
        start = time.monotonic()
        _ok(_release(verb, *args, env=env, log=f"stable-{verb}.txt"))
        seconds[verb] = round(time.monotonic() - start, 1)
    (WORK / "stable-seconds.txt").write_text(
        "".join(f"{verb} {s} s\n" for verb, s in seconds.items()))
    return d


def test_2_stable_wheel_installs_beside_the_next_torch_minor_and_works(stable_published, published):
    (wheel,) = (stable_published / "repaired").glob("*.whl")
    assert wheel.name == "torchrig_stable_cpu-0.1.0-py3-none-manylinux_2_28_x86_64.whl", wheel.name
    text = (WORK / "stable-check.txt").read_text()
    for check in ("twine", "name", "pin", "platform", "manylinux", "abi"):
        assert f"ok     {check}" in text, text
    assert "torchrig_stable_cpu" in " ".join(published.files())
    assert len(classic(published.files())) == 1          # both builds on one index
    py = _clone(NEXT_TORCH, "s2-stable-torch214")         # torch 2.14.1 (CUDA 13 build) installed
    pin = _pin("214-stable", NEXT_TORCH)
    proc = _ok(_pip(py, published, "torchrig-stable-cpu", constraint=pin,
                    log="scenario-2-stable-pip.txt"))
    assert "Successfully installed torchrig-stable-cpu-0.1.0" in proc.stdout, proc.stdout
    ops = _ok(_run([py, "-c", OPS_PROBE], log="scenario-2-stable-ops.txt"))
    assert f"LOADED torch {NEXT_TORCH}" in ops.stdout and "OPS OK" in ops.stdout, ops.stdout
    # the classic name is still refused in that same environment, from that same index
    refused = _pip(py, published, "torchrig-cpu", constraint=pin, log="scenario-2-stable-classic.txt")
    assert refused.returncode != 0 and "ResolutionImpossible" in refused.stdout + refused.stderr
