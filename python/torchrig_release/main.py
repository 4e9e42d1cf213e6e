"""The command line ``torchrig-release <verb>`` (or ``python -m torchrig_release <verb>``): one subparser per verb module.

Each verb is ``main_<verb>.py`` with ``configure_parser(sub)`` (which sets
``func``) and ``run(args) -> int``. Progress goes to stderr through ``logging``
(stdout is for results); a :class:`~torchrig_release.errors.ReleaseError` from any
helper becomes ``error: <message>`` and its exit status. Only this function exits.
"""
from __future__ import annotations

import argparse
import logging
import pathlib
import sys

from . import helptext
from . import (main_abi_check, main_build, main_build_conda, main_build_wheel, main_check, main_ci_matrix,
               main_conda_forge, main_gen, main_gpu_check, main_merge_wheels, main_pixi, main_publish,
               main_record, main_render, main_repair, main_sanitize, main_test_gpu, main_upload, main_venv)
from .errors import ReleaseError

VERBS = (main_build, main_render, main_build_conda, main_abi_check, main_upload, main_build_wheel,
         main_merge_wheels, main_repair, main_check, main_publish, main_ci_matrix, main_gen, main_record, main_pixi,
         main_sanitize, main_conda_forge, main_test_gpu, main_gpu_check, main_venv)


def parser() -> argparse.ArgumentParser:
    # the console script (python/pyproject.toml) or `python -m torchrig_release`, as called
    prog = "torchrig-release" if pathlib.Path(sys.argv[0]).name == "torchrig-release" else "python -m torchrig_release"
    p = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0]
                                + "\n\nThe release tooling of torchrig (not shipped with it).",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors on stderr")
    sub = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb in VERBS:
        verb.configure_parser(sub)
    helptext.apply(p)  # docstrings carry RST markup; a terminal shows plain text
    return p


def main(argv: list[str] | None = None) -> int:
    args, extra = parser().parse_known_args(argv)
    if extra and not getattr(args, "accepts_extra", False):
        parser().error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="[%(name)s] %(message)s", stream=sys.stderr)
    try:
        return args.func(args)
    except ReleaseError as err:  # worded for the user: no traceback
        print(f"error: {err}", file=sys.stderr)
        return err.status
