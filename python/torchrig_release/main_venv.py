"""`venv`: create (or reuse) a venv with one torch version in the machine-wide cache; print its python.

e.g. ``torchrig-release venv --torch 2.14.1`` -> <cache>/venv-py3.11-torch2.14.1,
the venv `abi-check --torch 2.14.1` and `upload` look for.
"""
from __future__ import annotations

import argparse
import pathlib

from .paths import torch_venv_dir
from .venv import ensure_venv


def configure_parser(sub) -> None:
    p = sub.add_parser("venv", help="create or reuse a venv holding one torch version",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--torch", required=True, help="torch version to install, e.g. 2.14.1")
    p.add_argument("--dir", type=pathlib.Path, default=None,
                   help="venv directory (default: <cache>/venv-pyX.Y-torch<version>)")
    p.add_argument("extra", nargs="*", help="further requirements (e.g. numpy pytest)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    directory = (args.dir or torch_venv_dir(args.torch)).resolve()
    print(ensure_venv(directory, args.torch, args.extra))
    return 0
