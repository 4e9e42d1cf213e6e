"""`test-gpu`: run the GPU tests (pytest -m gpu); an error (exit 2) when no GPU can run them.

Extra arguments go to pytest. --memcheck runs the op, bad-input and fuzz tests under
compute-sanitizer --tool memcheck instead. See test_gpu.py.
"""
from __future__ import annotations

import argparse

from . import build_switches, install, test_gpu


def configure_parser(sub) -> None:
    p = sub.add_parser("test-gpu", help="GPU tests; fails when no CUDA device is present",
                       description=test_gpu.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                       usage="%(prog)s [-h] [--memcheck] [--build] [pytest arguments ...]")
    p.add_argument("--memcheck", action="store_true",
                   help="run the op tests under compute-sanitizer --tool memcheck")
    p.add_argument("--build", action="store_true",
                   help="first compile and install torchrig into this environment (classic ABI, "
                        "build/<environment>/classic): `pixi run test-gpu` does, so that the build "
                        "and the tests share one environment")
    p.set_defaults(func=run, accepts_extra=True)


def run(args: argparse.Namespace) -> int:
    if args.build:  # the classic build; a TORCHRIG_ABI=stable in the shell is refused
        build_switches.apply(argparse.Namespace(abi="classic", cuda_arch_list=None))
        install.install(install.build_dir("classic"))
    print(test_gpu.device_line())
    return test_gpu.run_gpu_tests(args.memcheck, args.extra)
