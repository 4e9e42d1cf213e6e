"""`sanitize`: build torchrig with ASan + UBSan in its own venv and run the op tests under it.

See sanitize.py for the steps. Exit status 0 only if pytest passed and no sanitizer
report was printed. Arguments after `--` go to pytest.
"""
from __future__ import annotations

import argparse
import logging
import os
import pathlib
import time

from . import sanitize
from .machine import BUILD_TORCH
from .paths import cache_entry, python_tag
from .venv import ensure_venv

log = logging.getLogger(sanitize.__name__)
TORCH = BUILD_TORCH  # the CPU torch on this machine's disk


def configure_parser(sub) -> None:
    p = sub.add_parser("sanitize", help="ASan + UBSan build and the op tests under it",
                       description=sanitize.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--venv", type=pathlib.Path, default=None,
                   help="venv to build and test in (default: <cache>/venv-asan-pyX.Y-torch<torch>)")
    p.add_argument("--torch", default=TORCH, help=f"torch version of that venv (default: {TORCH})")
    p.add_argument("--build-dir", default="build/asan", help="CMake build dir, relative to the repo")
    p.add_argument("--jobs", type=int, default=int(os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", 2)),
                   help="parallel compile jobs (default: $CMAKE_BUILD_PARALLEL_LEVEL or 2)")
    p.add_argument("--fuzz-examples", type=int, default=1000,
                   help="hypothesis examples per fuzz test (TORCHRIG_FUZZ_EXAMPLES; default 1000)")
    p.add_argument("--skip-build", action="store_true", help="reuse the instrumented install as it is")
    p.add_argument("--self-test", action="store_true", help="only check that findings are reported")
    p.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    work = sanitize.ROOT / args.build_dir
    if args.self_test:
        sanitize.check_self_test(work / "self-test")
        return 0
    start = time.monotonic()
    venv = args.venv or cache_entry(f"venv-asan-{python_tag()}-torch{args.torch}")
    python = sanitize.timed("venv", ensure_venv, venv.resolve(), args.torch,
                            sanitize.venv_requirements())
    if not args.skip_build:
        sanitize.timed("instrumented build", sanitize.build, python, args.build_dir, args.jobs)
    sanitize.check_self_test(work / "self-test")
    log_file = work / "pytest.log"
    rc, found = sanitize.timed("tests under ASan + UBSan", sanitize.run_tests, python, log_file,
                               args.fuzz_examples, args.pytest_args)
    log.info("pytest exit status %d; %d sanitizer report(s) in %s%s; total %.0fs", rc, len(found),
             log_file, "".join(f"\n  {line}" for line in found), time.monotonic() - start)
    return 0 if rc == 0 and not found else 1
