"""`pip install torchrig` as two real resolvers see it: uv and pip (support.resolvers.TOOLS,
from PyPI), resolution only (`uv pip compile`, `uv pip install --dry-run`, `pip install
--dry-run --report`), against pypiserver on 127.0.0.1 (support.pypi_server) holding the one
wheel (build-wheel -> repair, TORCHRIG_ABI=stable, against this interpreter's torch) and the
distributions of the cached torch venvs (support.resolvers.metadata_wheels: torch 2.10.0
(CUDA 12.8), 2.13.0+cpu, 2.14.1 (CUDA 13.0), 2.15.0 (CUDA 13.2) and what each pulled in),
plus PyPI's torch 2.9.1 for Python 3.11 and what it pulls in, as metadata only (support.resolvers.pypi_metadata_wheels:
no cached venv holds a torch older than 2.10).

Scenarios (issue 26): the first seed (Python 3.13, a torch range from 2.10; and the seed
incident's advice, plain `pip install torchrig`), the second seed's four (torch 2.13, 2.14,
2.15, a torch older than 2.10 refused), a CUDA 12 torch, and an unpinned `pip install
torchrig` beside an installed CPU torch, which keeps it. Each resolver's output is left in
.cache/resolvers/<scenario>-<resolver>.txt (docs/publishing.md quotes them).

Slow: the wheel build (CPU only, build dir build/stable-{wheel_tag} as in test_stable_abi.py).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.pypi_server import running_index
from support.resolvers import metadata_wheels, pypi_metadata_wheels, tools_python, uv
from support.timeouts import COMMAND_S
from support.venv_clone import clone
from torchrig_release import machine
from torchrig_release.paths import REPO

pytestmark = [pytest.mark.slow, pytest.mark.scenario]

WORK = REPO / ".cache" / "resolvers"
# (torch, Python) of the cached venvs whose distributions the index holds
TORCHES = [("2.10.0", "3.10"), (machine.BUILD_TORCH, "3.11"), (machine.CUDA_TORCH, "3.11"),
           (machine.NEWEST_TORCH, "3.12"), (machine.NEWEST_TORCH, "3.13")]
OLD_TORCH = "2.9.1"   # older than torchrig's stable target (2.10), from PyPI's metadata


@dataclass(frozen=True)
class Case:
    id: str
    python: str
    requirements: tuple[str, ...]
    torch: str | None          # the torch both resolvers must pick; None: resolution must fail


CASES = [
    # seed 1: Python 3.13, a torch range from 2.10; its advice: plain `pip install torchrig`
    Case("seed1-py313-torch-range", "3.13", ("torchrig", "torch>=2.10"), machine.NEWEST_TORCH),
    Case("seed1-advice-py313", "3.13", ("torchrig",), machine.NEWEST_TORCH),
    # seed 2: the torch minor pinned by the user
    Case("seed2-torch2.13", "3.11", ("torchrig", "torch==2.13.*"), machine.BUILD_TORCH + "+cpu"),
    Case("seed2-torch2.14", "3.11", ("torchrig", "torch==2.14.*"), machine.CUDA_TORCH),
    Case("seed2-torch2.15", "3.12", ("torchrig", "torch==2.15.*"), machine.NEWEST_TORCH),
    Case("seed2-torch-older-than-2.10", "3.11", ("torchrig", f"torch=={OLD_TORCH}"), None),
    # a CUDA 12 torch (PyPI's 2.10.0 is CUDA 12.8)
    Case("cuda12-torch2.10", "3.10", ("torchrig", "torch==2.10.0"), "2.10.0"),
]


def _run(cmd: list, log: str, env: dict | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("PIP_", "UV_", "TORCHRIG_", "VIRTUAL_ENV"))}
    clean.update({"PIP_CONFIG_FILE": os.devnull, "UV_NO_CONFIG": "1", "NO_COLOR": "1"}, **(env or {}))
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=clean,
                          timeout=COMMAND_S, cwd=WORK)
    (WORK / log).write_text(f"$ {' '.join(map(str, cmd))}\n{proc.stdout}{proc.stderr}[exit {proc.returncode}]\n")
    return proc


@pytest.fixture(scope="module")
def tools() -> Path:
    return tools_python()


@pytest.fixture(scope="module")
def index(tmp_path_factory, tools):
    """pypiserver holding the one wheel and the cached torches' distributions."""
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    dist = WORK / "dist"
    for verb, extra in (("build-wheel", []), ("repair", ["--plat", "best"])):
        proc = subprocess.run([sys.executable, "-m", "torchrig_release", verb, "--dist", str(dist), *extra],
                              capture_output=True, text=True, timeout=COMMAND_S, cwd=REPO,
                              env={**os.environ, "TORCHRIG_ABI": "stable", "TORCHRIG_CUDA": "OFF",
                                   "SKBUILD_BUILD_DIR": "build/stable-{wheel_tag}"})
        assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = (dist / "repaired").glob("torchrig-0.1.0-py3-none-manylinux_*.whl")
    workdir = tmp_path_factory.mktemp("index")
    packages = workdir / "packages"
    metadata_wheels(TORCHES, packages, [])
    pypi_metadata_wheels(tools, f"torch=={OLD_TORCH}", "3.11", packages)
    shutil.copy(wheel, packages / wheel.name)
    with running_index(workdir) as idx:
        yield idx


def _uv_compile(tools: Path, index, case: Case) -> subprocess.CompletedProcess:
    (WORK / f"{case.id}.in").write_text("\n".join(case.requirements) + "\n")
    return _run([uv(tools), "pip", "compile", f"{case.id}.in", "--python-version", case.python,
                 "--index-url", index.simple, "--cache-dir", WORK / "uv-cache", "--no-header",
                 "--no-annotate", "--quiet"], f"{case.id}-uv.txt")


def _pip_report(tools: Path, index, case: Case) -> tuple[subprocess.CompletedProcess, dict | None]:
    report = WORK / f"{case.id}-pip-report.json"
    proc = _run([tools, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                 "--disable-pip-version-check", "--report", report, "--python-version", case.python,
                 "--only-binary=:all:", "--index-url", index.simple, "--no-cache-dir",
                 *case.requirements], f"{case.id}-pip.txt")
    return proc, (json.loads(report.read_text()) if proc.returncode == 0 else None)


def _installed(report: dict) -> dict[str, str]:
    return {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in report["install"]}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_uv_and_pip_resolve_torchrig_beside_the_torch_asked_for(case, index, tools):
    compiled = _uv_compile(tools, index, case)
    proc, report = _pip_report(tools, index, case)
    if case.torch is None:   # a torch older than 2.10: both refuse, naming torchrig's requirement
        assert compiled.returncode != 0 and "torch>=2.10" in compiled.stderr, compiled.stderr
        assert proc.returncode != 0 and "torchrig 0.1.0 depends on torch>=2.10" in proc.stdout + proc.stderr, \
            proc.stdout + proc.stderr
        return
    assert compiled.returncode == 0, compiled.stderr
    pins = dict(line.split("==") for line in compiled.stdout.splitlines() if "==" in line)
    assert pins["torchrig"] == "0.1.0" and pins["torch"] == case.torch, compiled.stdout
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = _installed(report)
    assert got["torchrig"] == "0.1.0" and got["torch"] == case.torch, got
    assert not [n for n in got if n.startswith("torchrig-")]   # one name, nothing beside it


def test_unpinned_install_beside_an_installed_cpu_torch_keeps_it(index, tools):
    """Issue 26 item 6: `pip install torchrig` beside torch 2.13.0+cpu adds only torchrig (the
    old torchrig-cpu swapped the torch for PyPI's CUDA one and ~18 nvidia packages)."""
    py = clone(machine.BUILD_TORCH, WORK / "venvs" / "cpu-torch")
    try:
        report_path = WORK / "beside-cpu-torch-pip-report.json"
        pip = _run([tools, "-m", "pip", "--python", py, "install", "--dry-run",
                    "--disable-pip-version-check", "--report", report_path, "--index-url", index.simple,
                    "--no-cache-dir", "torchrig"], "beside-cpu-torch-pip.txt")
        assert pip.returncode == 0, pip.stdout + pip.stderr
        assert _installed(json.loads(report_path.read_text())) == {"torchrig": "0.1.0"}
        assert "Would install torchrig-0.1.0\n" in pip.stdout, pip.stdout
        uvp = _run([uv(tools), "pip", "install", "--dry-run", "--python", py, "--index-url", index.simple,
                    "--cache-dir", WORK / "uv-cache", "torchrig"], "beside-cpu-torch-uv.txt")
        assert uvp.returncode == 0, uvp.stderr
        assert "Would install 1 package" in uvp.stderr and "+ torchrig==0.1.0" in uvp.stderr, uvp.stderr
        assert "torch==" not in uvp.stderr.replace("+ torchrig==", "")
    finally:
        shutil.rmtree(WORK / "venvs", ignore_errors=True)


def test_publishing_md_table_says_what_the_cases_assert():
    """docs/publishing.md's table of what pip and uv resolve is these cases' expectations: a
    row per case with its requirements, Python, and the torch both resolvers must pick."""
    table = [line for line in (REPO / "docs" / "publishing.md").read_text().splitlines()
             if line.startswith("| ") and "torchrig" in line and ("refused" in line or "torch==" in line)]
    for case in CASES:
        wanted = ", ".join(f"`{r}`" for r in case.requirements) + f" ({case.python})"
        rows = [row for row in table if f"| {wanted} |" in row]
        assert len(rows) == 1, f"publishing.md: no row for {wanted} (case {case.id})"
        shown = f"`torch=={case.torch}`" if case.torch else "refused"
        assert shown in rows[0] and (case.torch is None or f"torch-{case.torch} " in rows[0]), \
            f"publishing.md says {rows[0]!r}; case {case.id} asserts {case.torch or 'a refusal'}"
