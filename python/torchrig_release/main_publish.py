"""`publish`: upload checked wheels to a package index with twine (a dry run unless --yes).

Every wheel is checked first (the `check` verb, in-process; no way to skip it). The index
URL: --url or $TORCHRIG_INDEX_URL (PyPI: https://upload.pypi.org/legacy/). Credentials
from the environment only: TORCHRIG_INDEX_USERNAME/TORCHRIG_INDEX_PASSWORD, else
TWINE_USERNAME/TWINE_PASSWORD; the password is never printed and is cut out of any error.
A re-run of a published version fails (the index refuses it) unless --skip-existing.
On GitHub, tags publish by trusted publishing instead (.github/workflows/wheels.yml).

exit status: 0 done (or dry run ok), 1 refused or upload failed, 2 usage/setup error.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from .errors import WheelError
from .wheel import dist_dir, wheels_in
from .wheel.check import check_wheels
from .wheel.publish import URL_ENV, credentials, display_url, twine_upload

__all__ = ["configure_parser", "run"]


def configure_parser(sub) -> None:
    p = sub.add_parser("publish", help="check, then twine-upload wheels (dry run unless --yes)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("wheels", nargs="*", type=Path, help="wheels or folders (default: DIST/repaired)")
    p.add_argument("--dist", type=Path, default=None, help="DIST folder (default: dist/<env>)")
    p.add_argument("--url", default=None, help=f"upload URL (default: ${URL_ENV})")
    p.add_argument("--torch", dest="torches", action="append", default=[], metavar="TORCH",
                   help="torch for the ABI check (repeatable; default: this environment)")
    p.add_argument("--skip-existing", action="store_true",
                   help="leave out files the index already lists (re-runs; read from its simple index)")
    p.add_argument("--yes", action="store_true", help="really upload (default: dry run)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    wheels = wheels_in(args.wheels, (args.dist or dist_dir()) / "repaired")
    url = args.url or os.environ.get(URL_ENV)
    if not url:
        raise WheelError(f"no index URL: pass --url or set ${URL_ENV}", 2)
    creds = credentials()
    shown = display_url(url, creds.password)
    print(f"{'publish' if args.yes else 'dry run (nothing is sent; add --yes to upload)'}: "
          f"{len(wheels)} wheel(s) to {shown}")
    print(creds.describe())
    check_wheels(wheels, args.torches, show=print)
    if not args.yes:
        print("dry run: checks passed; nothing uploaded")
        return 0
    if not creds.password:
        raise WheelError("no credentials: export TORCHRIG_INDEX_USERNAME and "
                         "TORCHRIG_INDEX_PASSWORD (or TWINE_USERNAME/TWINE_PASSWORD); "
                         "nothing uploaded", 2)
    sent, text = twine_upload(wheels, url, creds, args.skip_existing)
    print(text)
    print(f"published {sent} wheel(s) to {shown}" + (f" ({len(wheels) - sent} already there, skipped)"
                                                    if sent < len(wheels) else ""))
    return 0
