"""`pixi`: print pixi.toml's environments and task graph (what pixi would resolve; no pixi needed).

For each environment: its features, the packages and settings those features merge
into, and the tasks it can run; then the depends-on graph of the tasks. The same
reader serves the environment and docs generators (`gen`), `ci-matrix` and the
manifest tests.
"""
from __future__ import annotations

import argparse
import pathlib

from . import pixi


def configure_parser(sub) -> None:
    p = sub.add_parser("pixi", help="print pixi.toml's environments and task graph",
                       description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", type=pathlib.Path, default=pixi.MANIFEST, help="pixi.toml to read")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(pixi.describe(pixi.load_manifest(args.manifest)))
    return 0
