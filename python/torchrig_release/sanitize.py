"""`sanitize`: build torchrig with AddressSanitizer + UBSan and run the op tests under it.

Steps (each prints its time):

1. a separate venv, ``venv-asan-py3.11-torch<machine.BUILD_TORCH>`` in the machine-wide cache by
   default (venv.py: torch + the build and test tools; never the main ``.venv``);
2. ``TORCHRIG_SANITIZE=address,undefined pip install --no-build-isolation .``
   into it, CMake build dir ``build/asan`` (RelWithDebInfo), so the normal
   build dir is left alone; the build record must say it is sanitized;
3. a self-test: a tiny C library with a heap overflow and a signed overflow,
   loaded with the same runtime and options, must produce one report each -
   proof that a finding would not go unnoticed;
4. ``pytest tests/unit/test_ops.py tests/unit/test_bad_inputs.py tests/unit/test_fuzz.py``
   with the sanitizer runtimes in LD_PRELOAD. Only torchrig's module is
   instrumented; torch's libraries are not, but ASan's malloc/free (redzones
   around every tensor's storage) serve the whole process.

Reports go to stderr (UBSan's standalone runtime ignores ``log_path``);
pytest runs with ``--capture=sys`` so that they reach the terminal even when
a report aborts the process, and its output is kept in ``build/asan/pytest.log``
and scanned. Exit status 0 only if pytest passed and no report was printed.
The ``torch.compile`` test is included: inductor's g++ subprocesses inherit
LD_PRELOAD and still finish in about 30 s with a cold cache.

  torchrig-release sanitize                 # build + self-test + tests
  torchrig-release sanitize --self-test     # only step 3 (no torch needed)
  torchrig-release sanitize -- -k fuzz -x   # extra pytest arguments
"""
from __future__ import annotations

import json
import logging
import os
import pathlib
import shutil
import subprocess
import sys
import time

from . import build_progress, build_requirements
from .errors import ReleaseError
from .paths import REPO as ROOT

log = logging.getLogger(__name__)
SANITIZERS = "address,undefined"
RUNTIMES = ("libasan.so", "libubsan.so")
TEST_REQUIREMENTS = ["numpy", "pytest", "hypothesis"]


def venv_requirements() -> list[str]:
    """What the sanitizer venv holds besides torch: pyproject.toml's build tools + the tests'."""
    return [*build_requirements.specs(), *TEST_REQUIREMENTS]

# The tests run under a sanitizer: here under ASan + UBSan, and on the GPU under
# compute-sanitizer memcheck (test_gpu.py).
SANITIZER_TESTS = ("tests/unit/test_ops.py", "tests/unit/test_bad_inputs.py", "tests/unit/test_fuzz.py")
REPORT_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
ASAN_OPTIONS = [
    "detect_leaks=0",               # CPython and torch keep allocations until exit by design
    "allocator_may_return_null=1",  # a huge allocation raises in torch, as without ASan
    "halt_on_error=1",
    "abort_on_error=0",             # exit status 1 rather than a core dump
]
UBSAN_OPTIONS = ["print_stacktrace=1", "halt_on_error=1"]
SELF_TEST_C = r"""
#include <limits.h>
#include <stdlib.h>
int heap_overflow(int n) {            /* reads one int past a malloc'd block */
  volatile int* p = malloc(n * sizeof(int));
  int v = p[n];
  free((void*)p);
  return v;
}
int signed_overflow(volatile int x) { return x + INT_MAX; }
"""


def runtime_libraries() -> list[str]:
    """Paths of the gcc sanitizer runtimes that must come first in the process."""
    paths = []
    for name in RUNTIMES:
        path = subprocess.run(["gcc", f"-print-file-name={name}"], capture_output=True, text=True,
                              check=True).stdout.strip()
        if not os.path.isabs(path) or not os.path.exists(path):
            raise ReleaseError(f"gcc has no {name}; install the sanitizer runtimes (e.g. apt install gcc)", 2)
        paths.append(os.path.realpath(path))
    return paths


def sanitizer_env() -> dict[str, str]:
    """This environment plus the runtimes in LD_PRELOAD and the sanitizer options."""
    env = dict(os.environ)
    env["LD_PRELOAD"] = ":".join(runtime_libraries() + [p for p in [env.get("LD_PRELOAD")] if p])
    env["ASAN_OPTIONS"] = ":".join(ASAN_OPTIONS)
    env["UBSAN_OPTIONS"] = ":".join(UBSAN_OPTIONS)
    return env


def reports(output: str) -> list[str]:
    """The lines of ``output`` that open a sanitizer report."""
    return [line for line in output.splitlines() if any(m in line for m in REPORT_MARKERS)]


def fresh_dir(path: pathlib.Path) -> pathlib.Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def self_test(work: pathlib.Path, python: str = sys.executable) -> dict[str, list[str]]:
    """Trigger one ASan and one UBSan finding in a throw-away library; return the reports.

    Each entry point runs in its own process with :func:`sanitizer_env`.
    """
    src, lib = work / "bad.c", work / "libbad.so"
    src.write_text(SELF_TEST_C)
    subprocess.run(["gcc", "-O0", "-g", "-shared", "-fPIC", f"-fsanitize={SANITIZERS}",
                    "-fno-sanitize-recover=all", str(src), "-o", str(lib)], check=True)
    found = {}
    for func, arg in (("heap_overflow", 4), ("signed_overflow", 1)):
        code = f"import ctypes; ctypes.CDLL({str(lib)!r}).{func}({arg})"
        run = subprocess.run([python, "-c", code], env=sanitizer_env(), capture_output=True, text=True)
        found[func] = reports(run.stderr)
    return found


def check_self_test(work: pathlib.Path) -> None:
    found = self_test(fresh_dir(work))
    missing = [func for func, lines in found.items() if not lines]
    if missing:
        raise ReleaseError(f"sanitizer self-test: no report for {missing}; findings would go unnoticed")
    log.info("self-test: " + "; ".join(f"{func}: {lines[0].strip()}" for func, lines in found.items()))


def build(python: pathlib.Path, build_dir: str, jobs: int) -> None:
    """Install torchrig, instrumented, into the venv of ``python``."""
    env = dict(os.environ, TORCHRIG_SANITIZE=SANITIZERS, CMAKE_BUILD_PARALLEL_LEVEL=str(jobs))
    cmd = [str(python), "-m", "pip", "install", "-v", "--disable-pip-version-check",
           "--no-build-isolation", "--no-deps", f"--config-settings=build-dir={build_dir}",
           "--config-settings=cmake.build-type=RelWithDebInfo", "."]
    build_progress.run(cmd, what=f"building {build_progress.describe(env)} instrumented with -fsanitize="
                                 f"{SANITIZERS} (RelWithDebInfo) and installing it for {python}",
                       build_dir=build_dir, log_path=ROOT / build_dir / "pip-install.log", cwd=ROOT, env=env)
    out = subprocess.run([str(python), "-c", "import importlib.util as u, pathlib; "
                          "print(pathlib.Path(u.find_spec('torchrig').origin).parent)"],
                         capture_output=True, text=True, check=True).stdout.strip()
    info = json.loads((pathlib.Path(out) / "_build_info.json").read_text())
    if info.get("sanitize") != SANITIZERS:
        raise ReleaseError(f"the installed build is not sanitized: {info.get('sanitize')!r} in {out}")


def run_tests(python: pathlib.Path, log_file: pathlib.Path, examples: int,
              extra: list[str]) -> tuple[int, list[str]]:
    """Run the tests under the sanitizers, teeing their output to ``log_file``.

    Returns pytest's exit status and the report lines found in its output.
    """
    env = sanitizer_env()
    env["TORCHRIG_FUZZ_EXAMPLES"] = str(examples)
    cmd = [str(python), "-m", "pytest", "-q", "--capture=sys", *SANITIZER_TESTS, *extra]
    log.info("LD_PRELOAD=%s ASAN_OPTIONS=%s UBSAN_OPTIONS=%s TORCHRIG_FUZZ_EXAMPLES=%d %s",
             env["LD_PRELOAD"], env["ASAN_OPTIONS"], env["UBSAN_OPTIONS"], examples, " ".join(cmd))
    with subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace") as proc, log_file.open("w") as out:
        for line in proc.stdout:
            sys.stdout.write(line)
            out.write(line)
    return proc.returncode, reports(log_file.read_text())


def timed(what: str, fn, *args):
    start = time.monotonic()
    result = fn(*args)
    log.info("%s: %.0fs", what, time.monotonic() - start)
    return result
