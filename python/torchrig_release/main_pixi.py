"""`pixi`: print pixi.toml's environments and task graph (what pixi would resolve; no pixi needed).

For each environment: its features, the packages and settings those features merge
into, and the tasks it can run; then the depends-on graph of the tasks. The same
reader serves the environment and docs generators (`gen`), `ci-matrix` and the
manifest tests.
"""
from __future__ import annotations

import argparse
import pathlib

from . import pixi, pixi_run


def configure_parser(sub) -> None:
    p = sub.add_parser("pixi", help="print pixi.toml's environments and task graph",
                       description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", type=pathlib.Path, default=pixi.MANIFEST, help="pixi.toml to read")
    p.add_argument("--run", metavar="COMMAND", action="append", default=[],
                   help="instead, what `pixi run [-e ENV] TASK [ARGS]` runs: each task of the chain, "
                        "in order, with its environment and arguments, by pixi 0.77's rules "
                        "(pixi_run.py), e.g. --run 'pixi run test-gpu'; may be repeated")
    p.add_argument("--machine", choices=[m.name for m in pixi_run.MACHINES],
                   default=pixi_run.MACHINES[0].name, help="where --run is typed (default: %(default)s)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    manifest = pixi.load_manifest(args.manifest)
    if not args.run:
        print(pixi.describe(manifest))
        return 0
    machine = next(m for m in pixi_run.MACHINES if m.name == args.machine)
    for command in args.run:
        print(f"{command}  (on {machine.name}):")
        for step in pixi_run.run(manifest, command, machine):  # PixiRunError: a ReleaseError
            shown = ", ".join(f"{k}={v!r}" for k, v in step.typed) or " ".join(step.args)
            print(f"  {step.task:18} in {step.environment:12} {shown}".rstrip())
    return 0
