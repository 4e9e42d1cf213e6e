"""`record`: run a command and keep what it printed as docs/runs/NAME.json, then rewrite the
docs' blocks that show it (`gen runs`).

The docs quote a figure a tool prints (test counts, seconds, symbol counts, speed ratios)
only from such a record, in a block `<!-- run:NAME:AS:begin -->` ... `<!-- run:NAME:end -->`
that `gen runs` writes; the block says which command, commit, date and machine gave it.

COMMAND runs with bash in the repository root; its output is shown
as it comes and kept (paths of this checkout and of the machine-wide cache shortened; of a
long output, the tagged [ci]/[pythons] lines and the last lines). A run that exits non-zero
is kept too, and the verb exits with its status.

A run made elsewhere (a fresh clone, CI) is recorded from its saved output with --log, its
exit status with --exit; --seconds, --commit and --date say what the log cannot.

Examples:
  torchrig-release record tests-default '.venv/bin/python -m pytest'
  torchrig-release record ci-warm 'CI=true bash .ci/run' --log /tmp/clone/build/ci.out --exit 0 --commit 2b5e335
"""
from __future__ import annotations

import argparse
import datetime
import logging
import os
import pathlib
import subprocess
import sys
import time

from .errors import ReleaseError
from .gen import runs
from .paths import REPO

log = logging.getLogger(__name__)

__all__ = ["configure_parser", "run"]


def configure_parser(sub) -> None:
    p = sub.add_parser("record", help="run a command, keep its output as docs/runs/NAME.json, rewrite the docs' blocks",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", metavar="NAME", help="the record's name (letters, digits, '-')")
    p.add_argument("command", metavar="COMMAND", help="one shell string, run from the repository root")
    p.add_argument("--log", type=pathlib.Path, help="do not run: take the output of a finished run from this file")
    p.add_argument("--exit", type=int, help="with --log: the run's exit status (required)")
    p.add_argument("--seconds", type=float, help="with --log: how long it ran (default: from its [ci] total line, else 0)")
    p.add_argument("--commit", help="with --log: the commit it ran at (default: this checkout's)")
    p.add_argument("--date", help="with --log: when it ended, e.g. '2026-12-06 20:05 UTC' (default: the log's mtime)")
    p.add_argument("--timeout", type=float, default=3 * 3600, help="seconds before the command is stopped (default 3 h)")
    p.add_argument("--no-gen", action="store_true", help="keep the record only; do not rewrite the docs' blocks")
    p.add_argument("--runs", type=pathlib.Path, default=runs.RUNS, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _utc(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _run(command: str, timeout: float) -> tuple[str, int, float]:
    """Run ``command``, echoing its output line by line, and return (output, exit, seconds)."""
    start, lines = time.monotonic(), []
    with subprocess.Popen(["bash", "-c", command], cwd=REPO, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace") as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            lines.append(line)
            if time.monotonic() - start > timeout:
                proc.kill()
                lines.append(f"[record] stopped after {timeout:.0f} s (--timeout)\n")
                break
        status = proc.wait()
    return "".join(lines), status, time.monotonic() - start


def run(args: argparse.Namespace) -> int:
    if not args.name.replace("-", "").isalnum():
        raise ReleaseError(f"record name {args.name!r}: use letters, digits and '-'", 2)
    if args.log is None:
        if any(v is not None for v in (args.exit, args.seconds, args.commit, args.date)):
            raise ReleaseError("--exit, --seconds, --commit and --date describe a --log; without "
                               "--log the command runs here and they are measured", 2)
        log.info("running `%s` (its output follows; kept as docs/runs/%s.json)", args.command, args.name)
        output, status, seconds = _run(args.command, args.timeout)
        record = runs.make(args.name, args.command, output, status, seconds, _utc(time.time()), load=_load())
    else:
        if args.exit is None:
            raise ReleaseError("--log needs --exit: the run's exit status", 2)
        try:
            output = args.log.read_text(errors="replace")
        except OSError as exc:
            raise ReleaseError(f"--log {args.log}: {exc.strerror}", 2) from None
        seconds = args.seconds
        if seconds is None:
            total = runs.ci_seconds(output, "total")
            seconds = float(total) if total is not None else 0.0
        record = runs.make(args.name, args.command, output, args.exit, seconds,
                           args.date or _utc(args.log.stat().st_mtime), commit=args.commit)
    path = runs.write(record, args.runs)
    print(f"recorded {path.relative_to(REPO) if path.is_relative_to(REPO) else path}: exit {record.exit}, "
          f"{record.seconds:.0f} s, commit {record.commit}")
    if not args.no_gen:
        for line in runs.sync(args.runs, check=False, missing_ok=True):
            print(line)
    return record.exit
