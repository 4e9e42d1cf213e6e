"""`check`: may these wheels be published? twine check --strict, the flavour name and the
torch pin read back from METADATA against the build record, a manylinux tag, the ABI check
(in-process) against the given torches, abi3audit for an abi3 wheel.

TORCH (repeatable, as for abi-check): an environment or a version of a cached venv;
default: this Python's environment. Exit status 1 when any check fails.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .wheel import dist_dir, wheels_in
from .wheel.check import check_wheel, refuse_failed

__all__ = ["configure_parser", "run", "run_checks"]


def configure_parser(sub) -> None:
    p = sub.add_parser("check", help="twine check, pin vs build record, ABI check, abi3audit",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("wheels", nargs="*", type=Path, help="wheels or folders (default: DIST/repaired)")
    p.add_argument("--dist", type=Path, default=None, help="DIST folder (default: dist/<env>)")
    p.add_argument("--torch", dest="torches", action="append", default=[], metavar="TORCH",
                   help="torch for the ABI check (repeatable; default: this environment)")
    p.set_defaults(func=run)


def run_checks(wheels: list[Path], torches: list[str]) -> None:
    """Check and print each wheel; WheelError (nothing may be published) if any check fails."""
    checked = {}
    for wheel in wheels:
        checked[wheel] = results = check_wheel(wheel, torches or [sys.prefix])
        print(wheel.name)
        for r in results:
            first, *rest = r.detail.splitlines() or [""]
            print(f"  {'ok    ' if r.ok else 'FAILED'} {r.check:9} {first}")
            for line in rest if not r.ok or r.check == "twine" else []:
                print(f"         {line}")
    refuse_failed(checked)


def run(args: argparse.Namespace) -> int:
    run_checks(wheels_in(args.wheels, (args.dist or dist_dir()) / "repaired"), args.torches)
    return 0
