"""`build-wheel`: build the one torchrig wheel against this Python's torch.

TORCHRIG_ABI=stable (the default here): one py3-none wheel for every Python and every torch
>= 2.10, distribution `torchrig`: CPU kernels, plus with TORCHRIG_CUDA=ON the CUDA kernel
library of nvcc's CUDA major (nvcc of torch's CUDA major; arch list: torch's own,
cmake/cuda-arch-lists.txt). Build once per CUDA toolkit and join the builds with
`merge-wheels`. TORCHRIG_ABI=classic builds the one-torch-minor cp3XX wheel for local use;
`check` refuses it for an index. The wheel lands in DIST/raw (DIST: dist/$PIXI_ENVIRONMENT_NAME,
or dist/local); next: `merge-wheels` or `repair`. It shows one line per compile step; the whole
pip/CMake output goes to DIST/build-wheel.log, and a failed build shows the compiler's error.

--python builds against the torch of another interpreter (a venv's python), e.g. the CUDA
library from a venv holding PyPI's CUDA torch while the tooling runs here.

--abi and --cuda-arch-list set TORCHRIG_ABI and TORCH_CUDA_ARCH_LIST (pixi.toml's
`build-wheel` task passes its arguments to them, so pixi's task cache sees them:
`pixi run -e wheel-cpu build-wheel classic`); a variable that disagrees is refused.

Examples:  torchrig-release build-wheel --dist dist/cpu
           TORCHRIG_CUDA=ON CUDA_HOME=/usr/local/cuda-13.0 torchrig-release build-wheel
               --dist dist/cu13 --python venv-cu13/bin/python   (one command)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import build_switches
from .errors import ReleaseError
from .wheel import dist_dir
from .wheel.build import DEFAULT_ABI, build_wheel

__all__ = ["configure_parser", "run"]


def configure_parser(sub) -> None:
    p = sub.add_parser("build-wheel", help="build the one torchrig wheel (DIST/raw)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    build_switches.add_arguments(p, default_abi=DEFAULT_ABI)
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
