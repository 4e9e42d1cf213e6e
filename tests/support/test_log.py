"""A pytest run that can always say what failed, even if pytest never prints its summary.

With ``$TORCHRIG_TEST_LOG`` naming a file, tests/conftest.py appends one JSON line per event,
flushed at once: ``start`` (each test as it begins), ``report`` (each failed phase, with the
last lines of its traceback), ``time`` (each phase's seconds) and ``finish`` (the exit status). So when pytest is killed, or
exits without its closing line, the log still names the test that was running and every
test that failed before.

``python -m support.test_log digest LOG [--rc N]`` (cwd tests/) prints that: the failed tests
with their last lines, and, where no ``finish`` was written, the test that was running and how
the process ended. .ci/run and support.python_matrix call it when a run fails.
``python -m support.test_log times LOG`` prints the seconds per test file, slowest first
(setup, call and teardown; a module or session fixture counts for the first test using it).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

ENV = "TORCHRIG_TEST_LOG"
TAIL_LINES = 15


class Recorder:
    """The pytest plugin (see :func:`register`)."""

    def __init__(self, path: str):
        self.out = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 (lives as long as the session)

    def _write(self, **record) -> None:
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()
        os.fsync(self.out.fileno())

    def pytest_sessionstart(self, session) -> None:
        self._write(event="session", pid=os.getpid(), argv=sys.argv[1:])

    def pytest_runtest_logstart(self, nodeid, location) -> None:
        self._write(event="start", nodeid=nodeid)

    def pytest_runtest_logreport(self, report) -> None:
        if report.failed:
            text = str(report.longrepr) if report.longrepr else ""
            self._write(event="report", nodeid=report.nodeid, when=report.when,
                        tail=text.splitlines()[-TAIL_LINES:])
        self._write(event="time", nodeid=report.nodeid, when=report.when,
                    seconds=round(report.duration, 3))

    def pytest_sessionfinish(self, session, exitstatus) -> None:
        self._write(event="finish", exitstatus=int(exitstatus))
        self.out.close()


def register(config) -> None:
    """Register a Recorder where $TORCHRIG_TEST_LOG is set; the variable is taken out, so a
    pytest that a test starts logs nothing there. tests/conftest.py calls this; elsewhere,
    ``pytest -p support.test_log`` (its ``pytest_configure``) does."""
    if os.environ.get(ENV) and not config.pluginmanager.has_plugin("torchrig-test-log"):
        config.pluginmanager.register(Recorder(os.environ.pop(ENV)), "torchrig-test-log")


pytest_configure = register


def how_it_ended(rc: int | None) -> str:
    if rc is None:
        return "exit status unknown"
    if rc < 0 or rc > 128:
        number = -rc if rc < 0 else rc - 128
        try:
            return f"killed by {signal.Signals(number).name} (rc {rc})"
        except ValueError:
            return f"rc {rc}"
    return f"rc {rc}"


def digest(path: Path, rc: int | None = None) -> list[str]:
    """Lines naming each failed test (with its last lines) and, for a run that did not finish,
    the test that was running."""
    if not path.is_file():
        return [f"no test log at {path}: pytest did not start ({how_it_ended(rc)})"]
    events = _session(path)
    lines = []
    for e in events:
        if e["event"] == "report":
            lines.append(f"FAILED {e['nodeid']} ({e['when']})")
            lines += [f"    {t}" for t in e["tail"]]
    finish = next((e for e in events if e["event"] == "finish"), None)
    if finish is None:
        started = [e["nodeid"] for e in events if e["event"] == "start"]
        running = started[-1] if started else "(none: it stopped while collecting)"
        lines.append(f"pytest stopped without finishing ({how_it_ended(rc)}) after {len(started)} "
                     f"test(s); the test running then: {running}")
    elif not lines and finish["exitstatus"] not in (0, 5):
        lines.append(f"pytest exited {finish['exitstatus']} with no failed test recorded: see the "
                     "lines marked FAILED or ERROR in its output above (a collection or usage error, "
                     "or the cache inventory of tests/conftest.py)")
    return lines


def _session(path: Path) -> list[dict]:
    """The events of the last session in the file (a log may be reused by a rerun)."""
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    last = max((i for i, e in enumerate(events) if e["event"] == "session"), default=0)
    return events[last:]


def file_times(path: Path) -> list[tuple[str, float, int]]:
    """[(test file, seconds, tests)], slowest first."""
    seconds: dict[str, float] = {}
    tests: dict[str, set] = {}
    for e in _session(path):
        if e["event"] == "time":
            name = e["nodeid"].split("::")[0]
            seconds[name] = seconds.get(name, 0.0) + e["seconds"]
            tests.setdefault(name, set()).add(e["nodeid"])
    return sorted(((n, s, len(tests[n])) for n, s in seconds.items()), key=lambda row: -row[1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m support.test_log", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="verb", required=True)
    d = sub.add_parser("digest", help="print the failed tests of a log and how the run ended")
    d.add_argument("log", type=Path)
    d.add_argument("--rc", type=int, default=None, help="the exit status of the pytest process")
    t = sub.add_parser("times", help="print the seconds per test file, slowest first")
    t.add_argument("log", type=Path)
    args = p.parse_args(argv)
    if args.verb == "times":
        rows = file_times(args.log)
        for name, seconds, count in rows:
            print(f"{seconds:8.1f} s  {count:4d} tests  {name}")
        print(f"{sum(r[1] for r in rows):8.1f} s  {sum(r[2] for r in rows):4d} tests  in all")
        return 0
    for line in digest(args.log, args.rc):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
