"""The one way the release tooling and the tests run py-rattler's coroutines (solve, install,
index): :func:`run_async`, ``asyncio.run`` with the workaround for py-rattler's exit race."""
from __future__ import annotations

import asyncio
import atexit
import time

__all__ = ["run_async"]

_EXIT_PAUSE_S = 0.3
_exit_pause_registered = False


def run_async(coroutine):
    """``asyncio.run`` for py-rattler coroutines (solve, install, index), made safe at exit.

    py-rattler hands results back from a tokio thread that keeps a Python thread
    state a moment longer; if the interpreter is finalizing right then, Python
    aborts ("PyGILState_Release: thread state ... must be current when releasing",
    the pyo3-async-runtimes shutdown race; SIGSEGV/SIGABRT after the work is done).
    Here that hit 23 of 60 short runs that indexed twice. A short pause at exit,
    while the interpreter is still whole, lets those threads finish (0 of 60 with it).
    """
    global _exit_pause_registered
    if not _exit_pause_registered:
        atexit.register(time.sleep, _EXIT_PAUSE_S)
        _exit_pause_registered = True
    return asyncio.run(coroutine)
