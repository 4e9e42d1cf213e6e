"""Figures from runs: the docs quote what a tool printed only through a run record.

A record, ``docs/runs/NAME.json``, holds one run of one command: the command, its output
(paths of this checkout and of the machine-wide cache shortened), exit status, seconds, the
commit, the date and the machine (cores, CPU, load average). ``torchrig-release record NAME
COMMAND`` makes one (it runs the command, or takes a finished run's output with --log).

``gen runs`` rewrites every block ``<!-- run:NAME:AS:begin -->`` ... ``<!-- run:NAME:end -->``
of README.md and docs/*.md from record NAME, shown AS:

* ``pytest``: the counts and seconds of pytest's summary line;
* ``ci``: what ``.ci/run`` printed: total, setup, per-Python runs, README's run with the slow
  suites, the slowest test files, the compiler cache;
* ``text``: the output itself, as printed.

Each block ends with where its figures come from. Outside these blocks (and the other
generated ones) the docs hold no test count, duration, symbol count, build count or speed
ratio: tests/packaging/test_docs.py checks that, and ``gen runs --check`` that every block
is what its record says.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import platform
import re
import subprocess
from collections.abc import Callable, Mapping
from typing import Any

from .. import pixi as pm
from ..errors import ReleaseError
from ..paths import REPO, cache_dir

RUNS = REPO / "docs" / "runs"
BLOCK = re.compile(r"(<!-- run:([\w-]+):(\w+):begin -->\n)(.*?)(<!-- run:\2:end -->)", re.S)
PYTEST_SUMMARY = re.compile(r"^=+ (?P<body>.*\b(?:passed|failed|error|errors|no tests ran)\b.*?) "
                            r"in (?P<seconds>[\d.]+)s(?: \([\d:]+\))? =+$")
KEEP_TAIL = 300  # lines of a long output kept besides its tagged ([ci], [pythons]) lines
FIELDS = ("name", "command", "exit", "seconds", "date", "commit", "machine", "load", "output")

__all__ = ["BLOCK", "RENDER", "RUNS", "Record", "ci_seconds", "documents", "load", "make", "pytest_counts",
           "records_unused", "render_block", "sync", "update", "write"]


@dataclasses.dataclass(frozen=True)
class Record:
    """One run of one command (the JSON file's fields)."""

    name: str
    command: str
    exit: int
    seconds: float
    date: str          # when the run ended, UTC, to the minute
    commit: str        # short hash, "+changes" when the tracked files differed from it
    machine: str       # cores and CPU model
    load: str | None   # load average (1, 5, 15 min) at the end; None when not recorded
    output: str

    def source(self) -> str:
        """Where a block's figures come from, in one line."""
        load = f", load average {self.load}" if self.load else ""
        return (f"From `docs/runs/{self.name}.json`: `{self.command}` at commit {self.commit}, "
                f"{self.date}, {self.machine}{load}; exit status {self.exit}, {self.seconds:.0f} s. "
                f"Made by `torchrig-release record {self.name}`.")


def _shorten(text: str) -> str:
    """The output without this machine's paths: the checkout becomes ``.``, the cache ``<cache>``."""
    for path, short in ((str(cache_dir()), "<cache>"), (str(REPO) + "/", ""), (str(REPO), "."),
                        (str(pathlib.Path.home()), "~")):
        text = text.replace(path, short)
    return text


def _kept(output: str) -> str:
    """A long output's tagged lines ([ci], [pythons], pytest's summaries) plus its last lines."""
    lines = output.splitlines()
    if len(lines) <= 2 * KEEP_TAIL:
        return "\n".join(lines)
    head = [line for line in lines[:-KEEP_TAIL]
            if line.startswith(("[ci]", "[pythons]")) or PYTEST_SUMMARY.match(line)]
    return "\n".join([*head, f"[… {len(lines) - KEEP_TAIL - len(head)} lines left out …]",
                      *lines[-KEEP_TAIL:]])


def _commit(repo: pathlib.Path = REPO) -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              timeout=60, check=True).stdout.strip()
    try:
        head = git("rev-parse", "--short=7", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return head + ("+changes" if changed else "")


def _machine() -> str:
    model = ""
    try:
        model = next((line.split(":", 1)[1].strip() for line in
                      pathlib.Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    except OSError:
        pass
    return f"{os.cpu_count()} cores{', ' + model if model else ''}, {platform.system()}"


def make(name: str, command: str, output: str, exit: int, seconds: float, date: str,
         commit: str | None = None, load: str | None = None) -> Record:
    """A record of a finished run (``commit`` defaults to this checkout's)."""
    return Record(name=name, command=command, exit=exit, seconds=round(seconds, 1), date=date,
                  commit=commit or _commit(), machine=_machine(), load=load,
                  output=_kept(_shorten(output)))


def write(record: Record, runs: pathlib.Path = RUNS) -> pathlib.Path:
    runs.mkdir(parents=True, exist_ok=True)
    path = runs / f"{record.name}.json"
    path.write_text(json.dumps(dataclasses.asdict(record), indent=1, ensure_ascii=False) + "\n")
    return path


def load(runs: pathlib.Path = RUNS) -> dict[str, Record]:
    """Every record of ``runs``, by name; a file that is not a record is an error naming it."""
    records = {}
    for path in sorted(runs.glob("*.json")):
        try:
            data = json.loads(path.read_text())
            record = Record(**{k: data[k] for k in FIELDS})
        except (ValueError, KeyError, TypeError) as exc:
            raise ReleaseError(f"{path}: not a run record ({exc}); make it with "
                               f"`torchrig-release record {path.stem} COMMAND`", 2) from None
        if record.name != path.stem:
            raise ReleaseError(f"{path}: names itself {record.name!r}", 2)
        records[record.name] = record
    return records


# ---- how a record is shown ------------------------------------------------------------------
def pytest_counts(output: str) -> tuple[dict[str, int], float] | None:
    """The counts ({'passed': 789, 'skipped': 124, ...}) and seconds of the last pytest
    summary line in ``output``; None when there is none."""
    found = None
    for line in output.splitlines():
        match = PYTEST_SUMMARY.match(line.strip())
        if match:
            found = match
    if found is None:
        return None
    counts = {}
    for part in found["body"].split(", "):
        number, _, what = part.partition(" ")
        if number.isdigit():
            counts[what] = int(number)
    return counts, float(found["seconds"])


def _summary(record: Record) -> str:
    found = pytest_counts(record.output)
    if found is None:
        raise ReleaseError(f"docs/runs/{record.name}.json: no pytest summary line in its output", 1)
    counts, seconds = found
    shown = ", ".join(f"{n} {what}" for what, n in counts.items() if what not in ("warning", "warnings"))
    return f"{shown} in {seconds:.0f} s"


def _as_pytest(record: Record) -> str:
    return f"**{_summary(record)}**. {record.source()}\n"


def ci_seconds(output: str, label: str) -> int | None:
    match = re.search(rf"^\[ci\] {re.escape(label)}:? (\d+)s", output, re.M)
    return int(match[1]) if match else None


def _as_ci(record: Record) -> str:
    out = record.output
    total, setup, pythons = (ci_seconds(out, label) for label in
                             ("total", "setup", "setup + per-Python runs"))
    if total is None or setup is None or pythons is None:
        raise ReleaseError(f"docs/runs/{record.name}.json: not the output of .ci/run "
                           "(its [ci] setup / per-Python / total lines are missing)", 1)
    start = re.search(r"^\[ci\] commit .*: (\d+) entries at start", out, re.M)
    cache = f" (the machine-wide cache: {start[1]} entries at the start)" if start else ""
    lines = [f"- total **{total} s**{cache}, exit status {record.exit}: setup {setup} s (tools/dev-setup), "
             f"the CPU unit suite under the other Pythons {pythons - setup} s, README's test "
             f"command with the slow suites {total - pythons} s: {_summary(record)}"]
    per_python = [line.removeprefix("[pythons] ") for line in out.splitlines()
                  if re.match(r"\[pythons\] 3\.\d+ torch \S+: (passed|FAILED|failed)", line)]
    if per_python:
        lines.append("- per Python: " + "; ".join(re.sub(r" \(\d+:\d\d:\d\d\)", "", p) for p in per_python))
    files = re.findall(r"^\s+([\d.]+) s\s+\d+ tests?\s+(\S+)$", out, re.M)
    if files:
        slowest = sorted(files, key=lambda f: -float(f[0]))[:6]
        lines.append("- slowest test files: " + ", ".join(
            f"{pathlib.Path(path).stem} {seconds} s" for seconds, path in slowest))
    hits = re.search(r"^\[ci\] ccache: Hits: *(\d+ / \d+)", out, re.M)
    if hits:
        lines.append(f"- compiler cache hits {hits[1]}")
    return "\n".join(lines) + f"\n\n{record.source()}\n"


def _as_text(record: Record) -> str:
    return f"```text\n$ {record.command}\n{record.output.rstrip()}\n```\n\n{record.source()}\n"


RENDER: dict[str, Callable[[Record], str]] = {"pytest": _as_pytest, "ci": _as_ci, "text": _as_text}


def render_block(record: Record, shown_as: str) -> str:
    if shown_as not in RENDER:
        raise ReleaseError(f"run block {record.name}: unknown way {shown_as!r} (known: {', '.join(RENDER)})", 2)
    return RENDER[shown_as](record)


def update(text: str, records: Mapping[str, Record], where: str = "",
           missing_ok: bool = False) -> tuple[str, set[str]]:
    """``text`` with every run block refilled from its record, and the records it used; a
    block without a record is an error, or with ``missing_ok`` left as it is."""
    used: set[str] = set()

    def fill(match: re.Match[str]) -> str:
        name, shown_as = match[2], match[3]
        if name not in records and missing_ok:
            return match[0]
        if name not in records:
            raise ReleaseError(f"{where}: block run:{name} has no record docs/runs/{name}.json; "
                               f"make it with `torchrig-release record {name} COMMAND`", 1)
        used.add(name)
        return match[1] + render_block(records[name], shown_as) + match[5]

    return BLOCK.sub(fill, text), used


def documents(repo: pathlib.Path = REPO) -> list[pathlib.Path]:
    """The docs a user reads: README.md and docs/*.md."""
    return [repo / "README.md", *sorted((repo / "docs").glob("*.md"))]


def records_unused(records: Mapping[str, Any], used: set[str]) -> list[str]:
    return sorted(set(records) - used)


def sync(runs_dir: pathlib.Path = RUNS, check: bool = False, missing_ok: bool = False) -> list[str]:
    """Rewrite (or, with ``check``, compare) every run block of the docs from the records in
    ``runs_dir``: what changed (or differs), and each record no block uses. ``missing_ok``
    leaves blocks whose record is not made yet as they are (``record`` makes one at a time)."""
    records = load(runs_dir)
    changes, used = [], set()
    for doc in documents():
        text, seen = update(doc.read_text(), records, where=str(doc.relative_to(REPO)), missing_ok=missing_ok)
        used |= seen
        change = pm.sync_file(doc, text, check)
        changes += [change] if change else []
    for name in records_unused(records, used):
        changes.append(f"unused: {runs_dir / name}.json (no block <!-- run:{name}:AS:begin --> shows it)")
    return changes
