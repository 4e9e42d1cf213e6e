"""Run a pip build of torchrig and show what it does: a line before the work, one line per build
step while it runs, the compiler's own error when it fails.

``pip install -v`` / ``pip wheel -v`` print scikit-build-core's and ninja's output: the CMake
configure chatter, then one ``[n/N] Building CXX object CMakeFiles/_C.dir/csrc/...cpp.o`` line
per step (ninja's status line; its command lines only on failure or with ninja -v), then pip's
own lines. :class:`Progress` condenses that into ``[n/N] csrc/... (C++)`` lines with the time
so far, the stage lines of scikit-build-core (``*** Configuring CMake...``) and torchrig's own
CMake messages (``-- torchrig: ...``), and keeps every line in a log file. A failed build
raises :class:`~torchrig_release.errors.ReleaseError` whose message holds the failure itself
(ninja's ``FAILED:`` block with the compiler's errors, or CMake's error), overlong lines (the
compiler's command line) shortened, and the log's path. No carriage returns: the same lines
read well in a terminal and in a CI log.

The `build`, `build-wheel` and `sanitize` verbs (and so ``pixi run build``, ``pixi run test``
and the other tasks that depend on `build`, ``test-gpu --build``, and ``tools/dev-setup``, which
calls `build`) run their pip through :func:`run`.
"""
from __future__ import annotations

import logging
import os
import re
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import ReleaseError

__all__ = ["FIRST_BUILD", "Progress", "announce", "describe", "run"]

log = logging.getLogger(__name__)

# What the first build costs: said before it starts (issue 32: it printed nothing for minutes).
FIRST_BUILD = ("the first build compiles every kernel and takes minutes (about 4-5 on 2 cores for "
               "the CPU kernels, much longer with CUDA); later builds recompile only what changed")
LONG_LINE = 240  # longer lines (a compiler's command line) are shortened in the error message
ERROR_LINES = 80  # at most this many lines of the failure go into the error message
PIP_WRAP_UP = "error: subprocess-exited-with-error"  # pip's own lines after the backend's failure

_STEP = re.compile(r"^\[(\d+)/(\d+)\]\s+(.*)$")
_OBJECT = re.compile(r"^Building (CXX|CUDA|C) object (?:\S*?\.dir/)?(\S+?)\.o(?:bj)?$")
_LINK = re.compile(r"^Linking \S+ (?:shared module|shared library|static library|executable) (\S+)$")
_WARNING = re.compile(r":\d+(?::\d+)?: warning: ")
# where a failure starts: ninja's failed step, CMake's error, a compiler's or the linker's error
_FAILURE = re.compile(r"^(FAILED: |CMake Error|ninja: error|ninja: build stopped)"
                      r"|: (?:fatal )?error: |^collect2: error|undefined reference to ")
_LANGUAGE = {"CXX": "C++", "CUDA": "CUDA", "C": "C"}


def _condense(description: str) -> str:
    """``Building CXX object CMakeFiles/_C.dir/csrc/a.cpp.o`` -> ``csrc/a.cpp (C++)``;
    ``Linking CXX shared module _C...so`` -> ``linking _C...so``; anything else as it is."""
    if m := _OBJECT.match(description):
        return f"{m.group(2)} ({_LANGUAGE[m.group(1)]})"
    if m := _LINK.match(description):
        return f"linking {m.group(1)}"
    return description


class Progress:
    """Turns pip's verbose build output, line by line, into progress lines.

    :meth:`feed` takes one line of output and returns the lines to show (often none);
    :meth:`failure` returns the lines that explain a failed build."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._start = clock()
        self.lines: list[str] = []  # everything fed, for the failure excerpt
        self.warnings = 0
        self._failure_at: int | None = None

    def elapsed(self) -> str:
        seconds = int(self._clock() - self._start)
        return f"{seconds // 60}:{seconds % 60:02d}"

    def feed(self, raw: str) -> list[str]:
        line = raw.rstrip("\r\n")
        self.lines.append(line)
        text = line.strip()
        if self._failure_at is None and _FAILURE.search(text):
            self._failure_at = len(self.lines) - 1
        if _WARNING.search(text):
            self.warnings += 1
        if m := _STEP.match(text):
            done, total, what = m.groups()
            return [f"[{done.rjust(len(total))}/{total}] {_condense(what)}  ({self.elapsed()})"]
        if text.startswith("*** ") and not text.startswith("*** scikit-build-core"):  # its stages
            stage = text[4:].rstrip(".")
            if stage.startswith("Building project with Ninja"):
                stage += " (one line per step; a step that compiles the kernels takes a while)"
            return [stage]
        if text.startswith("-- torchrig:"):  # the project's own CMake messages
            return [text[3:]]
        if text.startswith("-- Build files have been written to: "):
            return [f"CMake build folder: {text.split(': ', 1)[1]}"]
        if text.startswith("Successfully installed "):
            return [text]
        return []

    def summary(self) -> list[str]:
        return ([f"{self.warnings} compiler warning{'s' * (self.warnings != 1)} (in the log)"]
                if self.warnings else [])

    def failure(self, log_path: Path | None = None) -> list[str]:
        """The lines that say why the build failed: from the first error on (ninja's FAILED
        block, CMake's error) up to pip's own wrap-up, else the last lines; pip's two-space
        indent taken off (the compiler's caret lines keep their columns), blank lines left out,
        overlong lines shortened."""
        if self._failure_at is not None:
            lines = self.lines[self._failure_at:]
            lines = lines[:next((i for i, line in enumerate(lines)
                                 if line.strip().startswith(PIP_WRAP_UP)), len(lines))]
        else:
            lines = self.lines[-30:]
        excerpt = [line[2:] if line.startswith("  ") else line for line in lines if line.strip()]
        if len(excerpt) > ERROR_LINES:
            excerpt = excerpt[:ERROR_LINES - 10] + [f"... ({len(excerpt) - ERROR_LINES} lines left out)"] \
                + excerpt[-10:]
        where = f" in {log_path}" if log_path else ""
        return [line if len(line) <= LONG_LINE else
                f"{line[:LONG_LINE]} ... ({len(line) - LONG_LINE} more characters{where})"
                for line in excerpt]


def announce(what: str, build_dir: str | Path, log_path: Path) -> None:
    """Say, before the work (``what``: "building ..."), what is built, what the first build costs and where it happens."""
    log.info("%s", what)
    log.info("%s", FIRST_BUILD)
    log.info("CMake build folder: %s; the whole output goes to %s", build_dir, log_path)


def describe(env: Mapping[str, str] | None = None) -> str:
    """``torchrig (classic ABI, CPU kernels)`` from the switches pyproject.toml reads."""
    env = os.environ if env is None else env
    abi = env.get("TORCHRIG_ABI") or "classic"
    cuda = (env.get("TORCHRIG_CUDA") or "OFF").upper() in ("ON", "1", "TRUE", "YES")
    arch = env.get("TORCH_CUDA_ARCH_LIST")
    kernels = f"CPU + CUDA kernels{f', arch list {arch}' if arch else ''}" if cuda else "CPU kernels"
    return f"torchrig ({abi} ABI, {kernels})"


def run(cmd: Sequence[str], *, what: str, build_dir: str | Path, log_path: Path,
        cwd: Path | None = None, env: Mapping[str, str] | None = None,
        error: type[ReleaseError] = ReleaseError, timeout: float | None = None) -> None:
    """Run the pip build ``cmd`` (it must pass ``-v``), show its progress through this module's
    logger (INFO: the verbs show it on stderr, ``-q`` hides it) and keep its whole output in
    ``log_path``. Raises ``error`` with the failure's own lines when the command fails (or is
    killed after ``timeout`` seconds; default: no limit)."""
    announce(what, build_dir, log_path)
    progress = Progress()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as keep:
        keep.write(" ".join(cmd) + "\n")
        with subprocess.Popen(list(cmd), cwd=cwd, env=None if env is None else dict(env),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              errors="replace", bufsize=1) as proc:
            assert proc.stdout is not None
            killed: list[bool] = []
            timer = threading.Timer(timeout, lambda: (killed.append(True), proc.kill())) if timeout else None
            if timer:
                timer.start()
            for line in proc.stdout:
                keep.write(line)
                keep.flush()
                for shown in progress.feed(line):
                    log.info("%s", shown)
        rc = proc.wait()
        if timer:
            timer.cancel()
    for shown in progress.summary():
        log.info("%s", shown)
    if rc != 0:
        status = f"killed after {timeout} s" if killed else f"exit status {rc}"
        raise error("\n  ".join([f"{what} failed ({status}):",
                                 *progress.failure(log_path),
                                 f"the whole output: {log_path}", f"the command: {' '.join(cmd)}"]))
    log.info("done in %s (the whole output: %s)", progress.elapsed(), log_path)
