#!/usr/bin/env python3
"""Build torchrig with AddressSanitizer + UBSan and run the op tests under it.

Steps (each prints its time):

1. a separate venv, ``.cache/venv-asan`` by default (tools/torch_venv.py:
   torch + the build and test tools; never the main ``.venv``);
2. ``TORCHRIG_SANITIZE=address,undefined pip install --no-build-isolation .``
   into it, CMake build dir ``build/asan`` (RelWithDebInfo), so the normal
   build dir is left alone; the build record must say it is sanitized;
3. a self-test: a tiny C library with a heap overflow and a signed overflow,
   loaded with the same runtime and options, must produce one report each -
   proof that a finding would not go unnoticed;
4. ``pytest tests/test_ops.py tests/test_bad_inputs.py tests/test_fuzz.py``
   with the sanitizer runtimes in LD_PRELOAD. Only torchrig's module is
   instrumented; torch's libraries are not, but ASan's malloc/free (redzones
   around every tensor's storage) serve the whole process.

Reports go to stderr (UBSan's standalone runtime ignores ``log_path``);
pytest runs with ``--capture=sys`` so that they reach the terminal even when
a report aborts the process, and its output is kept in ``build/asan/pytest.log``
and scanned. Exit status 0 only if pytest passed and no report was printed.
The ``torch.compile`` test is included: inductor's g++ subprocesses inherit
LD_PRELOAD and still finish in about 30 s with a cold cache.

  tools/sanitize_check.py                 # build + self-test + tests
  tools/sanitize_check.py --self-test     # only step 3 (no torch needed)
  tools/sanitize_check.py -- -k fuzz -x   # extra pytest arguments
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

from torch_venv import ensure_venv

ROOT = pathlib.Path(__file__).resolve().parent.parent
SANITIZERS = "address,undefined"
RUNTIMES = ("libasan.so", "libubsan.so")
BUILD_REQUIREMENTS = ["scikit-build-core>=0.10", "pybind11>=2.12", "cmake>=3.26", "ninja",
                      "numpy", "pytest", "hypothesis"]
TESTS = ["tests/test_ops.py", "tests/test_bad_inputs.py", "tests/test_fuzz.py"]
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


def log(msg: str) -> None:
    print(f"[sanitize_check] {msg}", file=sys.stderr, flush=True)


def runtime_libraries() -> list[str]:
    """Paths of the gcc sanitizer runtimes that must come first in the process."""
    paths = []
    for name in RUNTIMES:
        path = subprocess.run(["gcc", f"-print-file-name={name}"], capture_output=True, text=True,
                              check=True).stdout.strip()
        if not os.path.isabs(path) or not os.path.exists(path):
            sys.exit(f"gcc has no {name}; install the sanitizer runtimes (e.g. apt install gcc)")
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
        sys.exit(f"sanitizer self-test: no report for {missing}; findings would go unnoticed")
    log("self-test: " + "; ".join(f"{func}: {lines[0].strip()}" for func, lines in found.items()))


def build(python: pathlib.Path, build_dir: str, jobs: int) -> None:
    """Install torchrig, instrumented, into the venv of ``python``."""
    env = dict(os.environ, TORCHRIG_SANITIZE=SANITIZERS, CMAKE_BUILD_PARALLEL_LEVEL=str(jobs))
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "--no-build-isolation", "--no-deps",
                    f"--config-settings=build-dir={build_dir}",
                    "--config-settings=cmake.build-type=RelWithDebInfo", "."],
                   cwd=ROOT, env=env, check=True)
    out = subprocess.run([str(python), "-c", "import importlib.util as u, pathlib; "
                          "print(pathlib.Path(u.find_spec('torchrig').origin).parent)"],
                         capture_output=True, text=True, check=True).stdout.strip()
    info = json.loads((pathlib.Path(out) / "_build_info.json").read_text())
    if info.get("sanitize") != SANITIZERS:
        sys.exit(f"the installed build is not sanitized: {info.get('sanitize')!r} in {out}")


def run_tests(python: pathlib.Path, log_file: pathlib.Path, examples: int,
              extra: list[str]) -> tuple[int, list[str]]:
    """Run the tests under the sanitizers, teeing their output to ``log_file``.

    Returns pytest's exit status and the report lines found in its output.
    """
    env = sanitizer_env()
    env["TORCHRIG_FUZZ_EXAMPLES"] = str(examples)
    cmd = [str(python), "-m", "pytest", "-q", "--capture=sys", *TESTS, *extra]
    log(f"LD_PRELOAD={env['LD_PRELOAD']} ASAN_OPTIONS={env['ASAN_OPTIONS']} "
        f"UBSAN_OPTIONS={env['UBSAN_OPTIONS']} TORCHRIG_FUZZ_EXAMPLES={examples} {' '.join(cmd)}")
    with subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace") as proc, log_file.open("w") as out:
        for line in proc.stdout:
            sys.stdout.write(line)
            out.write(line)
    return proc.returncode, reports(log_file.read_text())


def timed(what: str, fn, *args):
    start = time.monotonic()
    result = fn(*args)
    log(f"{what}: {time.monotonic() - start:.0f}s")
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--venv", type=pathlib.Path, default=ROOT / ".cache" / "venv-asan",
                   help="venv to build and test in (default: .cache/venv-asan)")
    p.add_argument("--torch", default="2.13.0", help="torch version of that venv (default: 2.13.0)")
    p.add_argument("--build-dir", default="build/asan", help="CMake build dir, relative to the repo")
    p.add_argument("--jobs", type=int, default=int(os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", 2)),
                   help="parallel compile jobs (default: $CMAKE_BUILD_PARALLEL_LEVEL or 2)")
    p.add_argument("--fuzz-examples", type=int, default=1000,
                   help="hypothesis examples per fuzz test (TORCHRIG_FUZZ_EXAMPLES; default 1000)")
    p.add_argument("--skip-build", action="store_true", help="reuse the instrumented install as it is")
    p.add_argument("--self-test", action="store_true", help="only check that findings are reported")
    p.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = p.parse_args()
    work = ROOT / args.build_dir
    if args.self_test:
        check_self_test(work / "self-test")
        return 0
    start = time.monotonic()
    python = timed("venv", ensure_venv, args.venv.resolve(), args.torch, BUILD_REQUIREMENTS)
    if not args.skip_build:
        timed("instrumented build", build, python, args.build_dir, args.jobs)
    check_self_test(work / "self-test")
    log_file = work / "pytest.log"
    rc, found = timed("tests under ASan + UBSan", run_tests, python, log_file, args.fuzz_examples,
                      args.pytest_args)
    log(f"pytest exit status {rc}; {len(found)} sanitizer report(s) in {log_file}"
        + "".join(f"\n  {line}" for line in found) + f"; total {time.monotonic() - start:.0f}s")
    return 0 if rc == 0 and not found else 1


if __name__ == "__main__":
    sys.exit(main())
