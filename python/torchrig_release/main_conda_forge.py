"""`conda-forge`: compare this project's files with the record of what conda-forge really builds
(recipe/conda-forge-facts.yaml) and list every disagreement; exit 1 when there is one.

Checked: every pytorch minor of recipe/variants.yaml is built by conda-forge for every Python
and flavour we build (linux-64 cpu and CUDA, osx-arm64 and win-64 cpu); the stable build
compiles against the newest recorded minor; the gcc/glibc zipped with each CUDA are those of
conda-forge's pytorch dependents; win-64 builds with vs2022; cmake/cuda-arch-lists.txt has
pytorch's CF_TORCH_CUDA_ARCH_LIST for each CUDA. --show prints the record's pytorch builds.

Refreshing the record (when conda-forge moves): read, at the newest commit of each feedstock
(the `fetch` of a public mirror, or a clone), these files, named <feedstock>/<path>:
  pytorch-cpu-feedstock/recipe/meta.yaml, on main and on the vX.Y.x branches: version,
    build number, build strings, run_exports, the test requirements of the CMake consumer test;
  pytorch-cpu-feedstock/recipe/conda_build_config.yaml: blas_impl per platform;
  pytorch-cpu-feedstock/recipe/build.sh and bld.bat: TORCH_CUDA_ARCH_LIST per CUDA version;
  pytorch-cpu-feedstock/.ci_support/*.yaml: Pythons, platforms, the toolchain;
  conda-forge-pinning-feedstock/recipe/conda_build_config.yaml: pytorch, libtorch, compilers,
    cuda_compiler_version; conda-forge-pinning-feedstock/recipe/migrations/pytorch*.yaml, cuda*.yaml;
  torchvision-feedstock/.ci_support/*.yaml: the toolchain a pytorch dependent gets;
then write the facts, each source's commit and date, and `checked` into the record, run this
verb, and change recipe/variants.yaml (and cmake/cuda-arch-lists.txt) until it reports nothing.
Nothing else changes: the stand-in channels of the tests are made from the record.
"""
from __future__ import annotations

import argparse
import json
import logging
import pathlib

from . import conda_forge
from .paths import VARIANTS

__all__ = ["configure_parser", "run"]

log = logging.getLogger(__name__)


def configure_parser(sub) -> None:
    p = sub.add_parser("conda-forge", help="where our files disagree with conda-forge's feedstocks",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--facts", type=pathlib.Path, default=conda_forge.FACTS,
                   help="the record to compare with (default: recipe/conda-forge-facts.yaml)")
    p.add_argument("--variants", type=pathlib.Path, default=VARIANTS,
                   help="the variant config to check (default: recipe/variants.yaml)")
    p.add_argument("--arch-table", type=pathlib.Path, default=conda_forge.ARCH_TABLE,
                   help="the CUDA arch table to check (default: cmake/cuda-arch-lists.txt)")
    p.add_argument("--show", action="store_true", help="also print the record's linux-64 pytorch builds")
    p.add_argument("--json", action="store_true", help="print {record sources, disagreements} as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    record = conda_forge.load(args.facts)
    found = conda_forge.disagreements(args.variants, args.arch_table, record)
    if args.json:
        print(json.dumps({"facts": str(args.facts), "checked": record["checked"],
                          "sources": record["sources"], "disagreements": found}, indent=1))
    else:
        if args.show:
            for b in conda_forge.pytorch_builds("linux-64", record=record):
                print(f"pytorch {b.version} {b.build_string('…', record)}")
        for name, source in record["sources"].items():
            log.info("%s: %s@%s (%s), %s", name, source["repo"], source["branch"],
                     source["commit"][:10], source["date"])
        for line in found:
            print(line)
    if found:
        log.error("%d disagreement(s) with %s (checked %s): change recipe/variants.yaml or "
                  "cmake/cuda-arch-lists.txt, or refresh the record (see --help)",
                  len(found), args.facts, record["checked"])
        return 1
    log.info("recipe/variants.yaml and cmake/cuda-arch-lists.txt agree with %s", args.facts)
    return 0
