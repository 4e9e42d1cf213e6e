"""``python -m torchrig info | demo | bench``."""
from __future__ import annotations

import argparse
import sys

from . import _GUARD_REFUSAL, info


def parser() -> argparse.ArgumentParser:
    """The command line's parser (the docs' commands are checked against it)."""
    from .bench import command as bench, demo

    parser = argparse.ArgumentParser(
        prog="python -m torchrig",
        description="torchrig: forward kinematics and sparse linear-blend skinning for PyTorch.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="build record, running torch, whether they match, devices",
                   description=info.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, module in (("demo", demo), ("bench", bench)):
        p = sub.add_parser(name, help=module.__doc__.splitlines()[0], description=module.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    if _GUARD_REFUSAL is not None:  # only kept for `python -m torchrig info` (see __init__)
        return info.main(_GUARD_REFUSAL)
    from .bench import command as bench, demo

    args = parser().parse_args(argv)
    if args.command == "info":
        return info.main()
    if args.command == "demo":
        return demo.main(args)
    return bench.main(args)


if __name__ == "__main__":
    sys.exit(main())
