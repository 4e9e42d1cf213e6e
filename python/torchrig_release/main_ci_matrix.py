"""`ci-matrix`: print the CI build matrix as one line of JSON.

One entry per conda package the recipe builds, for every platform of pixi's
`package` environment, as {"include": [...]}, ready for
`echo "build=$(torchrig-release ci-matrix)" >> "$GITHUB_OUTPUT"` and
`strategy.matrix: ${{ fromJSON(...) }}`. Nothing in it is typed by hand: the
versions come from recipe/variants.yaml, rendered as the `render` verb renders
them: recipe/variants.yaml also decides which flavours a platform builds (CUDA versions
are listed for linux only, so osx-arm64 and win-64 build the CPU flavour; the recipe has no
build.skip). Rendering
needs no network, for any target platform.

Each entry: os (the GitHub runner), platform, python, pytorch, cuda
(cuda_compiler_version, "None" for CPU), abi (classic|stable), flavour (cpu|cuda),
build_string, and abi_check: whether the abi-check verb can check the package (it
reads ELF, so Linux only; `upload` publishes nothing it has not checked).
--abi-checkable keeps the entries with abi_check true (those a release can
publish); --gpu prints instead the pixi environments that run the `test-gpu`
task, as {"environment": [...]}.
"""
from __future__ import annotations

import argparse
import json
import logging

from . import ci_matrix

log = logging.getLogger(__name__)


def configure_parser(sub) -> None:
    p = sub.add_parser("ci-matrix", help="print the CI build matrix (JSON) from recipe/ and pixi.toml",
                       description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--platform", action="append", dest="platforms", metavar="PLATFORM",
                   help="only this target platform (repeatable; default: pixi.toml's package platforms)")
    p.add_argument("--abi-checkable", action="store_true",
                   help="only the entries abi-check can check (the ones a release publishes)")
    p.add_argument("--gpu", action="store_true",
                   help=f"print the pixi environments with the {ci_matrix.GPU_TASK} task instead")
    p.add_argument("--indent", type=int, default=None, help="pretty-print the JSON (for people)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.gpu:
        print(json.dumps(ci_matrix.gpu_environments(), indent=args.indent))
        return 0
    platforms = args.platforms or ci_matrix.build_platforms()
    matrix = ci_matrix.build_matrix(platforms)
    log.info("%s", ci_matrix.summary(matrix, platforms))
    if args.abi_checkable:
        matrix = {"include": [e for e in matrix["include"] if e["abi_check"]]}
        log.info("%d of them can be ABI-checked (and so published)", len(matrix["include"]))
    print(json.dumps(matrix, indent=args.indent))
    return 0
