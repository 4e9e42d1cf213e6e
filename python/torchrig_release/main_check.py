"""`check`: may these wheels be published? twine check --strict, the flavour name and the
torch pin read back from METADATA against the build record, a manylinux tag, manylinux_2_28
or older as auditwheel judges the symbol versions and no grafted OpenMP runtime (a failure
names each too-new symbol and how to fix it), the ABI check (in-process) against the given
torches, abi3audit for an abi3 wheel.

TORCH (repeatable, as for abi-check): an environment or a version of a cached venv;
default: this Python's environment. Exit status 1 when any check fails.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from .wheel import dist_dir, wheels_in
from .wheel.check import check_wheels

__all__ = ["configure_parser", "run"]


def configure_parser(sub) -> None:
    p = sub.add_parser("check", help="twine check, pin vs build record, manylinux_2_28, ABI check, abi3audit",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("wheels", nargs="*", type=Path, help="wheels or folders (default: DIST/repaired)")
    p.add_argument("--dist", type=Path, default=None, help="DIST folder (default: dist/<env>)")
    p.add_argument("--torch", dest="torches", action="append", default=[], metavar="TORCH",
                   help="torch for the ABI check (repeatable; default: this environment)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_wheels(wheels_in(args.wheels, (args.dist or dist_dir()) / "repaired"), args.torches, show=print)
    return 0
