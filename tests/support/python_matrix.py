"""CI runner: the CPU unit suite (tests/unit) under every Python this machine has, each with a torch of its own.

``python -m support.python_matrix`` (cwd tests/, from .ci/run) finds the interpreters in
``$(pyenv root)/versions/3.X.*``, and for each Python in :data:`TORCH_FOR_PYTHON`:

1. reuses (or creates) the cached venv ``<cache>/venv-py3.X-torch<version>``
   (torchrig_release.venv; PyPI's torch is a CUDA build, run here on the CPU) with the
   build tools of pyproject.toml and the test requirements;
2. builds torchrig (classic) with ``pip install --no-build-isolation --no-deps --target``
   into ``build/pythons/py3.X-torch<version>/site`` (its own build dir beside it), so the
   shared venv itself never holds a torchrig; the release tooling (torchrig-release,
   python/pyproject.toml) is installed there too, editable, for the release-tooling unit tests;
3. runs ``pytest tests/unit`` with that folder first on PYTHONPATH.

Prints one line per Python: ``[pythons] 3.12 torch 2.15.0: passed (214 passed in 80s; build 95s)``
and exits 1 when any run failed (or an interpreter named in --python is missing). Python
3.11 with torch 2.13.0 is .venv, tested by README's test command that .ci/run runs next.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

from torchrig_release import build_requirements, machine
from torchrig_release.paths import REPO, torch_venv_dir
from torchrig_release.venv import ensure_venv

from support import test_log
from support.timeouts import COMMAND_S

# The torch each Python is tested with: the newest PyPI has for that Python (machine.py;
# torch 2.15.0 has no cp310 wheel: 3.10 gets 2.14.1), newer than the conda matrix's minors;
# 3.11 is .venv (tools/dev-setup: the CPU torch 2.13.0 on disk).
TORCH_FOR_PYTHON = {"3.10": machine.CUDA_TORCH, "3.12": machine.NEWEST_TORCH, "3.13": machine.NEWEST_TORCH}
MAIN_RUN = ("3.11", machine.BUILD_TORCH)  # .venv, README's test command
# test + demo extras, and what the release-tooling unit tests (abi, wheel, variants) import;
# tests/packaging/test_python_matrix.py checks this against tests/unit's import closure
TEST_EXTRAS = ["numpy", "pytest", "hypothesis", "pillow", "matplotlib", "packaging", "pyelftools",
               "pyyaml", "cxxfilt", "conda-package-handling", "py-rattler", "py-rattler-build"]
TEST_TIMEOUT = 1800  # seconds for one Python's unit run (about 120 s here): a hang fails, by name
SUMMARY = re.compile(r"^=*\s*(\d+ (?:passed|failed|error).* in [\d.]+s.*?)\s*=*$", re.M)


def pyenv_interpreters() -> dict[str, pathlib.Path]:
    """{'3.12': .../versions/3.12.1/bin/python3.12} for every pyenv CPython 3.X, then any
    other python3.X on PATH (CI's setup-python) for the Pythons of TORCH_FOR_PYTHON."""
    root = os.environ.get("PYENV_ROOT") or (shutil.which("pyenv") and subprocess.run(
        ["pyenv", "root"], capture_output=True, text=True, timeout=COMMAND_S).stdout.strip()) or str(pathlib.Path.home() / ".pyenv")
    found = {}
    for version in sorted(pathlib.Path(root).glob("versions/3.*")):
        match = re.match(r"^(3\.\d+)\.\d+$", version.name)
        exe = version / "bin" / f"python{match.group(1)}" if match else None
        if exe and exe.is_file():
            found[match.group(1)] = exe
    for python in TORCH_FOR_PYTHON:
        on_path = shutil.which(f"python{python}")
        if python not in found and on_path:
            found[python] = pathlib.Path(on_path)
    return found


def run_one(python: str, interpreter: pathlib.Path, torch: str) -> tuple[bool, str]:
    """Build torchrig for (python, torch) and run tests/unit; (passed, one-line detail)."""
    extras = [*TEST_EXTRAS, *build_requirements.names()]
    start = time.monotonic()
    # ensure_venv lifts the machine's pip cap for its exact torch pin (torch 2.15.0 is above it)
    venv_python = ensure_venv(torch_venv_dir(torch, python), torch, extras, python=str(interpreter))
    venv_s = time.monotonic() - start
    work = REPO / "build" / "pythons" / f"py{python}-torch{torch}"
    site = work / "site"
    shutil.rmtree(site, ignore_errors=True)
    start = time.monotonic()
    build = subprocess.run([str(venv_python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                            "--no-build-isolation", "--no-deps", "--target", str(site),
                            f"--config-settings=build-dir={work / 'cmake'}", "."],
                           cwd=REPO, capture_output=True, text=True, timeout=COMMAND_S)
    build_s = time.monotonic() - start
    if build.returncode == 0:
        build = install_release_tool(venv_python, site)
    if build.returncode != 0:
        sys.stderr.write(build.stdout[-4000:] + build.stderr[-4000:])
        return False, f"build failed (rc {build.returncode}, {build_s:.0f}s)"
    start = time.monotonic()
    log = work / "tests.jsonl"          # support.test_log: each test as it starts and fails
    log.unlink(missing_ok=True)
    test_env = dict(os.environ, PYTHONPATH=str(site), TORCHRIG_RUN_SLOW="", **{test_log.ENV: str(log)})
    try:
        test = subprocess.run([str(venv_python), "-m", "pytest", "tests/unit", "-q", "-rfE",
                               "-p", "no:cacheprovider"], cwd=REPO, env=test_env, capture_output=True,
                              text=True, timeout=TEST_TIMEOUT)
        rc, stdout, stderr = test.returncode, test.stdout, test.stderr
    except subprocess.TimeoutExpired as late:
        rc, stdout, stderr = None, _text(late.stdout), _text(late.stderr) + f"\n(killed after {TEST_TIMEOUT}s)"
    test_s = time.monotonic() - start
    (work / "pytest.log").write_text(stdout + stderr)
    found = SUMMARY.findall(stdout)
    summary = found[-1] if found else f"no pytest summary line, {test_log.how_it_ended(rc)}"
    if rc != 0:
        # what failed, by name, whether or not pytest printed its summary
        sys.stderr.write(f"[pythons] {python} torch {torch}: the last lines of {work / 'pytest.log'}:\n"
                         + "\n".join((stdout + stderr).splitlines()[-30:]) + "\n"
                         + "".join(f"[pythons] {python}: {line}\n" for line in test_log.digest(log, rc)))
    return rc == 0, f"{summary}; venv {venv_s:.0f}s, build {build_s:.0f}s, tests {test_s:.0f}s"


def install_release_tool(venv_python: pathlib.Path, site: pathlib.Path) -> subprocess.CompletedProcess:
    """torchrig-release (this checkout's, editable) into ``site`` beside the built torchrig.

    ``site`` reaches the tests through PYTHONPATH, where Python reads no .pth file, so the
    editable install's own .pth (its import hook) is read by a sitecustomize.py there."""
    done = subprocess.run([str(venv_python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           "--no-deps", "--target", str(site), "-e", "python"],
                          cwd=REPO, capture_output=True, text=True, timeout=COMMAND_S)
    (site / "sitecustomize.py").write_text(
        "# written by tests/support/python_matrix.py: read the .pth files of this folder\n"
        "import os, site\nsite.addsitedir(os.path.dirname(os.path.abspath(__file__)))\n")
    return done


def _text(data) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m support.python_matrix", description=__doc__.splitlines()[0])
    p.add_argument("--python", action="append", help="only these Pythons (e.g. 3.12); default: all of "
                   + ", ".join(TORCH_FOR_PYTHON))
    args = p.parse_args(argv)
    wanted = args.python or list(TORCH_FOR_PYTHON)
    unknown = [v for v in wanted if v not in TORCH_FOR_PYTHON]
    if unknown:
        p.error(f"no torch chosen for Python {', '.join(unknown)}: add it to TORCH_FOR_PYTHON in {__file__}")
    have = pyenv_interpreters()
    failed = 0
    total = time.monotonic()
    for python in wanted:
        torch = TORCH_FOR_PYTHON[python]
        if python not in have:
            print(f"[pythons] {python} torch {torch}: FAILED (no python{python} in $(pyenv root)/versions/ or on PATH)",
                  flush=True)
            failed += 1
            continue
        ok, detail = run_one(python, have[python], torch)
        failed += not ok
        print(f"[pythons] {python} torch {torch}: {'passed' if ok else 'FAILED'} ({detail})", flush=True)
    print(f"[pythons] {MAIN_RUN[0]} torch {MAIN_RUN[1]}: .venv, README's test command (next)")
    print(f"[pythons] {len(wanted) - failed}/{len(wanted)} passed in {time.monotonic() - total:.0f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
