"""Wall-clock timing helpers shared by the demo and the benchmarks."""
from __future__ import annotations

import time
from collections.abc import Callable

import torch

__all__ = ["median_time"]


def _sync(device: torch.device | str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def median_time(fn: Callable[[], object], *, device: torch.device | str = "cpu",
                warmup: int = 2, min_repeats: int = 5, budget_s: float = 1.0) -> float:
    """Median seconds per call of ``fn`` after ``warmup`` calls.

    Repeats at least ``min_repeats`` times and until ``budget_s`` is spent.
    """
    for _ in range(warmup):
        fn()
    _sync(device)
    times: list[float] = []
    spent = 0.0
    while len(times) < min_repeats or spent < budget_s:
        t0 = time.perf_counter()
        fn()
        _sync(device)
        dt = time.perf_counter() - t0
        times.append(dt)
        spent += dt
        if len(times) >= 1000:
            break
    times.sort()
    return times[len(times) // 2]
