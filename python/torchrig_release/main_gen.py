"""`gen`: regenerate the files and doc blocks that other files own.

WHAT is one of
  environments  environments/*.yml, from pixi.toml;
  docs          docs/compatibility.md's tables (recipe/variants.yaml, pixi.toml), conda.md's
                build matrix (variants.yaml, rattler-build's render), README's GPU-check steps
                (gpu_check.py);
  runs          the run blocks of README.md and docs/*.md, from the records docs/runs/*.json
                (`torchrig-release record NAME COMMAND` makes one);
  all           all three (default).
With --check nothing is written: the verb lists what differs and exits 1 when anything is
out of date (or a record is used by no block).
"""
from __future__ import annotations

import argparse
import logging
import pathlib

from . import pixi as pm
from . import variants
from .gen import code_blocks, compat_docs, environments, runs

log = logging.getLogger(__name__)


def configure_parser(sub) -> None:
    p = sub.add_parser("gen", help="regenerate environments/*.yml and docs/compatibility.md tables",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", nargs="?", choices=["environments", "docs", "runs", "all"], default="all")
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
        changes += code_blocks.sync(args.check)
    if args.what in ("runs", "all"):
        changes += runs.sync(runs.RUNS, args.check)
    for line in changes:
        print(line)
    if args.check and changes:
        log.error("out of date: run `python -m torchrig_release gen %s`", args.what)
        return 1
    return 0
