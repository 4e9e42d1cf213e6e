"""`repair`: auditwheel repair DIST/raw/*.whl to manylinux_2_28 into DIST/repaired.

torch's libraries (libtorch*, libc10*, libtorch_python), the CUDA libraries of torch's
nvidia wheels and the OpenMP runtime (libgomp.so.1) are excluded: never vendored, the
installed torch's are used. Prints
`auditwheel show` of each repaired wheel. Next: `check`.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from .wheel import dist_dir, wheels_in
from .wheel.repair import PLAT, repair, show

__all__ = ["configure_parser", "run"]


def configure_parser(sub) -> None:
    p = sub.add_parser("repair", help="auditwheel repair to manylinux, torch's libraries excluded",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("wheels", nargs="*", type=Path, help="wheels or folders (default: DIST/raw)")
    p.add_argument("--dist", type=Path, default=None, help="DIST folder (default: dist/<env>)")
    p.add_argument("--plat", default=PLAT, help=f"target tag (default: {PLAT}, torch's own; a "
                   "builder with a newer glibc gets there through cmake/manylinux.cmake); `best`: "
                   "the most compatible tag this build allows (check refuses one above 2_28)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    dist = args.dist or dist_dir()
    for wheel in wheels_in(args.wheels, dist / "raw"):
        out = repair(wheel, dist / "repaired", args.plat)
        print(out)
        print(show(out))
    return 0
