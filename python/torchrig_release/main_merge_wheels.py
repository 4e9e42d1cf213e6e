"""`merge-wheels`: join the CUDA kernel libraries of stable builds into the one wheel.

Each stable build (TORCHRIG_ABI=stable TORCHRIG_CUDA=ON) holds the CUDA kernel library of its
nvcc's CUDA major (libtorchrig_stable_cuda<major>.so). The release builds once per CUDA
toolkit on the same platform and joins them: the first WHEEL is kept whole, every other
adds its CUDA library and its entry of the build record's cuda_libraries. They must be
builds of the same wheel (name, version, tags, Requires-Dist, stable target) with different
CUDA majors. The joined wheel lands in DIST/raw (next: `repair`).

Example:  torchrig-release merge-wheels --dist dist/ci dist/cu13/raw/*.whl dist/cu12/raw/*.whl
"""
from __future__ import annotations

import argparse
from pathlib import Path

from .wheel import dist_dir
from .wheel.merge import merge_wheels

__all__ = ["configure_parser", "run"]


def configure_parser(sub) -> None:
    p = sub.add_parser("merge-wheels", help="join stable builds' CUDA libraries into one wheel (DIST/raw)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dist", type=Path, default=None, help="DIST folder (default: dist/<env>)")
    p.add_argument("wheels", nargs="+", type=Path, metavar="WHEEL",
                   help="stable wheels of one platform; the first is the base")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(merge_wheels(args.wheels, (args.dist or dist_dir()) / "raw"))
    return 0
