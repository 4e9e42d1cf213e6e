"""`build-wheel`: build a torchrig wheel against this Python's torch, named for its flavour.

CPU flavour (default, TORCHRIG_CUDA=OFF) -> torchrig-cpu; CUDA flavour (TORCHRIG_CUDA=ON,
nvcc of torch's CUDA major) -> torchrig-cu<major>. TORCHRIG_ABI=stable builds over torch's
stable ABI instead (one py3-none wheel for every torch >= 2.10, docs/stable-abi.md), named
torchrig-stable-cpu / torchrig-stable-cu<major>. The wheel lands in DIST/raw (DIST:
dist/$PIXI_ENVIRONMENT_NAME, or dist/local); next: `repair`.

Examples:  TORCHRIG_CUDA=OFF python -m torchrig_release build-wheel
           TORCHRIG_ABI=stable python -m torchrig_release build-wheel --dist dist/stable-cpu
"""
from __future__ import annotations

import argparse
from pathlib import Path

from .wheel import dist_dir
from .wheel.build import build_wheel

__all__ = ["configure_parser", "run"]


def configure_parser(sub) -> None:
    p = sub.add_parser("build-wheel", help="build a flavour-named wheel (dist/<env>/raw)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dist", type=Path, default=None, help="DIST folder (default: dist/<env>)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = build_wheel((args.dist or dist_dir()) / "raw")
    print(out)
    return 0
