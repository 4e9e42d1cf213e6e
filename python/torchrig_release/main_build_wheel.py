"""`build-wheel`: build a torchrig wheel against this Python's torch, named for its flavour.

CPU flavour (default, TORCHRIG_CUDA=OFF) -> torchrig-cpu; CUDA flavour (TORCHRIG_CUDA=ON,
nvcc of torch's CUDA major) -> torchrig-cu<major>. TORCHRIG_ABI=stable builds over torch's
stable ABI instead (one py3-none wheel for every torch >= 2.10, docs/stable-abi.md), named
torchrig-stable-cpu / torchrig-stable-cu<major>. The wheel lands in DIST/raw (DIST:
dist/$PIXI_ENVIRONMENT_NAME, or dist/local); next: `repair`.

--python builds against the torch of another interpreter (a venv's python), e.g. the CUDA
flavour from a venv holding PyPI's CUDA torch while the tooling runs here.

--abi and --cuda-arch-list set TORCHRIG_ABI and TORCH_CUDA_ARCH_LIST (pixi.toml's
`build-wheel` task passes its arguments to them, so pixi's task cache sees them:
`pixi run -e wheel-cpu build-wheel stable`); a variable that disagrees is refused.

Examples:  TORCHRIG_CUDA=OFF torchrig-release build-wheel
           TORCHRIG_ABI=stable torchrig-release build-wheel --dist dist/stable-cpu
           TORCHRIG_CUDA=ON torchrig-release build-wheel --python venv-cu13/bin/python
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import build_switches
from .errors import ReleaseError
from .wheel import dist_dir
from .wheel.build import build_wheel

__all__ = ["configure_parser", "run"]


def configure_parser(sub) -> None:
    p = sub.add_parser("build-wheel", help="build a flavour-named wheel (dist/<env>/raw)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    build_switches.add_arguments(p)
    p.add_argument("--dist", type=Path, default=None, help="DIST folder (default: dist/<env>)")
    p.add_argument("--python", type=Path, default=Path(sys.executable),
                   help="the interpreter whose torch the wheel is built against (default: %(default)s)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.python.is_file():
        raise ReleaseError(f"--python {args.python}: no such interpreter", 2)
    build_switches.apply(args)
    out = build_wheel((args.dist or dist_dir()) / "raw", python=str(args.python))
    print(out)
    return 0
