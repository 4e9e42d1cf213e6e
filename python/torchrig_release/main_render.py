"""`render`: print the build matrix rattler-build renders from recipe/ (no build).

One row per python x pytorch x flavour of recipe/variants.yaml: the build string
and the run requirements as the recipe states them (the pytorch minor bound arrives
at build time through pytorch's run_exports). --json for machine-readable rows,
--platform for another target.
"""
from __future__ import annotations

import argparse
import json
import logging

from .conda.render import render_matrix

log = logging.getLogger(__name__)


def configure_parser(sub) -> None:
    p = sub.add_parser("render", help=__doc__.splitlines()[0].split(": ", 1)[1], description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--platform", help="target platform, e.g. linux-64 (default: this machine)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rows = render_matrix(args.platform)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    header = ("python", "pytorch", "flavour", "build string", "run")
    table = [header] + [(r["python"], r["pytorch"], r["flavour"], r["build_string"], ", ".join(r["run"]))
                        for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
    log.info("%d variants", len(rows))
    return 0
