"""argparse types shared by the ``bench`` and ``demo`` verbs."""
from __future__ import annotations

import argparse
import os
from collections.abc import Callable

__all__ = ["available_memory", "check_memory", "positive", "thread_limit"]


def positive(kind: type = int, what: str | None = None,
             at_most: int | float | None = None) -> Callable[[str], int | float]:
    """argparse type: a number of ``kind`` (int or float) greater than 0 (and at most
    ``at_most``), checked before any work is done.

    ``what`` names it in the error ("integer" or "number" by default), e.g.
    ``positive(float, "number of seconds")``: "expected a positive number of
    seconds, got '0'".
    """
    what = what or ("integer" if kind is int else "number")
    at_least = " (>= 1)" if kind is int else ""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive {what}, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive {what}{at_least}, got {value}")
        if at_most is not None and value > at_most:
            raise argparse.ArgumentTypeError(f"expected a positive {what} of at most {at_most}, "
                                             f"got {value}")
        return value
    parse.__name__ = f"positive_{kind.__name__}"  # argparse names the type in some errors
    return parse


def thread_limit() -> int:
    """The most threads ``--threads`` takes: four per CPU of this machine (torch's pool
    allocates per thread; 100,000 ends in MemoryError or a crash)."""
    return 4 * (os.cpu_count() or 1)


def available_memory() -> int:
    """Bytes of memory available now (Linux: /proc/meminfo's MemAvailable; else the free
    physical pages), or 0 when unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def check_memory(nbytes: int, what: str, fix: str) -> str | None:
    """None when ``nbytes`` (an estimate of the largest case's tensors) fits in the memory
    available now, else a one-line error naming ``what`` and how to ``fix`` it."""
    free = available_memory()
    if free and nbytes > free:
        return (f"{what} needs about {nbytes / 2**30:.1f} GiB, but {free / 2**30:.1f} GiB of "
                f"memory is available; {fix}")
    return None
