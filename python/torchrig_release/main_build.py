"""`build`: compile torchrig and pip-install it into this environment (`pixi run build`).

Builds against the torch installed here (pip install --no-build-isolation --no-deps), in
the CMake folder build/<environment>/<abi> (environment: $PIXI_ENVIRONMENT_NAME, else
local). It says first what it builds and where, then shows one line per compile step
(the first build takes minutes); the whole pip/CMake output goes to pip-install.log in that
folder, and a failed build shows the compiler's error. tools/dev-setup builds with this verb.
The CUDA kernels follow TORCHRIG_CUDA (pixi: set by the environment); the binding
and the architectures follow --abi and --cuda-arch-list, which pixi.toml's `build` task
passes from its arguments so that pixi's task cache sees them:

  pixi run build                      # classic ABI, the default arch list
  pixi run build stable               # the stable-ABI build
  pixi run -e py314-cuda build classic '9.0;12.0+PTX'

A TORCHRIG_ABI or TORCH_CUDA_ARCH_LIST in the environment that disagrees with an option is
refused (pixi would not see it, and a cached build of the other kind would be kept).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from . import build_switches, install

__all__ = ["configure_parser", "run"]


def configure_parser(sub) -> None:
    p = sub.add_parser("build", help="compile and pip-install torchrig into this environment",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    build_switches.add_arguments(p)
    p.add_argument("--build-dir", type=Path, default=None,
                   help="CMake build folder (default: build/<environment>/<abi>)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    switches = build_switches.apply(args)
    install.install(args.build_dir or install.build_dir(switches.get("TORCHRIG_ABI", "classic")))
    return 0
