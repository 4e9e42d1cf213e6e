"""`pixi`: print pixi.toml's environments and task graph (what pixi would resolve; no pixi needed)."""
from __future__ import annotations

import argparse
import pathlib

from . import pixi


def configure_parser(sub) -> None:
    p = sub.add_parser("pixi", help="print pixi.toml's environments and task graph",
                       description=__doc__ + "\n\n" + pixi.__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", type=pathlib.Path, default=pixi.MANIFEST, help="pixi.toml to read")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(pixi.describe(pixi.load_manifest(args.manifest)))
    return 0
