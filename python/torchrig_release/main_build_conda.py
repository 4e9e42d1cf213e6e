"""`build-conda`: build the torchrig conda package for one variant with rattler-build.

recipe/variants.yaml is narrowed to one python x pytorch x flavour x binding layer -- by
default this machine's: the running Python, the installed torch's minor, CPU, classic --
and recipe/recipe.yaml is built into output/ (py-rattler-build ``run_build``).
rattler-build then runs the recipe's tests (import, ``python -m torchrig info``,
the ops against the reference, ``pip check``) in a fresh environment, unless
--no-test.

--variants FILE replaces recipe/variants.yaml (rattler-build's --variant-config), for a
build outside the release matrix: the offline proof builds against the stand-in channel's
pytorch, whose minor is that of the one CPU torch wheel on the machine, and uses the copy
that ``support.local_channel`` writes beside its packages (``<channel>/variants.yaml``).

Channels come from --channel (repeatable, default conda-forge); a local folder
becomes a file:// URL, e.g. the offline stand-in channel that
``pixi run local-channel`` (tests/support/local_channel.py) prints. Prints the
package path; --json prints a summary with the depends read back from the
package's info/index.json.
"""
from __future__ import annotations

import argparse
import json
import logging
import pathlib

from .conda.build import build, local_variant
from .errors import ReleaseError
from .paths import OUTPUT_DIR, VARIANTS
from .variants import ABI_KEY, MATRIX_KEYS, load

log = logging.getLogger(__name__)


def configure_parser(sub) -> None:
    p = sub.add_parser("build-conda", help="build the conda package for one variant (rattler-build)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = local_variant()
    p.add_argument("--channel", action="append", dest="channels",
                   help="channel name, URL or local folder; repeatable (default: conda-forge)")
    p.add_argument("--output-dir", type=pathlib.Path, default=OUTPUT_DIR,
                   help="where the package goes (default: %(default)s)")
    p.add_argument("--python", default=default["python"], help="python variant (default: %(default)s)")
    p.add_argument("--pytorch", default=default["pytorch"], help="pytorch minor (default: %(default)s)")
    p.add_argument("--cuda", default="None", dest="cuda_compiler_version",
                   help="cuda_compiler_version: None for CPU, or e.g. 13.0 (default: %(default)s)")
    p.add_argument("--abi", choices=["classic", "stable"], default="classic", dest=ABI_KEY,
                   help="binding layer: classic (one pytorch minor) or stable (every pytorch >= "
                        "the stable target) (default: %(default)s)")
    p.add_argument("--variants", type=pathlib.Path, default=VARIANTS,
                   help="the variant config to narrow (default: %(default)s)")
    p.add_argument("--no-test", action="store_true", help="skip the recipe's tests")
    p.add_argument("--json", action="store_true", help="print a JSON summary instead of paths")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    variant = {k: getattr(args, k) for k in (*MATRIX_KEYS, ABI_KEY)}
    if not args.variants.is_file():
        raise ReleaseError(f"--variants {args.variants}: no such file", 2)
    have = load(args.variants)["pytorch"]
    if variant["pytorch"] not in have:
        raise ReleaseError(
            f"pytorch {variant['pytorch']} (the --pytorch default is the installed torch's minor) is "
            f"not in {args.variants} ({', '.join(have)}): pass --pytorch {have[-1]}, or --variants "
            "with a copy that lists it (the stand-in channel's <channel>/variants.yaml)", 2)
    summary = build(variant, args.channels or ["conda-forge"], args.output_dir.resolve(),
                    test=not args.no_test, variants_file=args.variants.resolve())
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        for package in summary:
            print(package["file"])
            for dep in package["depends"]:
                log.info("  depends: %s", dep)
    return 0
