"""`gen`: regenerate environments/*.yml and docs/compatibility.md's tables from pixi.toml
and recipe/variants.yaml.

WHAT is `environments`, `docs` or `all` (default). With --check nothing is written:
the verb lists what differs and exits 1 when anything is out of date.
"""
from __future__ import annotations

import argparse
import logging
import pathlib

from . import pixi as pm
from . import variants
from .gen import compat_docs, environments

log = logging.getLogger(__name__)


def configure_parser(sub) -> None:
    p = sub.add_parser("gen", help="regenerate environments/*.yml and docs/compatibility.md tables",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", nargs="?", choices=["environments", "docs", "all"], default="all")
    p.add_argument("--manifest", type=pathlib.Path, default=pm.MANIFEST, help="pixi.toml to read")
    p.add_argument("--out-dir", type=pathlib.Path, default=environments.OUT_DIR,
                   help="where the environment files go (default: environments/)")
    p.add_argument("--doc", type=pathlib.Path, default=compat_docs.DOC,
                   help="the markdown file with generated blocks (default: docs/compatibility.md)")
    p.add_argument("--check", action="store_true", help="only compare; exit 1 if out of date")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    manifest = pm.load_manifest(args.manifest)
    changes = []
    if args.what in ("environments", "all"):
        env_changes = environments.sync(manifest, args.out_dir, args.check)
        log.info("%d environment file(s) %s in %s", len(env_changes),
                 "out of sync" if args.check else "updated", args.out_dir)
        changes += env_changes
    if args.what in ("docs", "all"):
        text = compat_docs.update(args.doc.read_text(), variants.load(), manifest)
        change = pm.sync_file(args.doc, text, args.check)
        log.info("%s", change or f"in sync: {args.doc}")
        changes += [change] if change else []
    for line in changes:
        print(line)
    if args.check and changes:
        log.error("out of date: run `python -m torchrig_release gen %s`", args.what)
        return 1
    return 0
