"""Timing and memory-traffic helpers shared by the demo and the benchmarks."""
from __future__ import annotations

import time
from collections.abc import Callable

import torch

__all__ = ["backward_call", "copy_bandwidth_gbs", "default_clock", "forward_call", "median_time",
           "set_default_clock", "skin_bytes"]


_CLOCK = time.perf_counter  # the default clock of median_time (the bench's --clock sets it)


def set_default_clock(clock: Callable[[], float]) -> None:
    """Make ``clock`` the default of :func:`median_time` (e.g. ``time.process_time``)."""
    global _CLOCK
    _CLOCK = clock


def default_clock() -> Callable[[], float]:
    """The clock :func:`median_time` uses when given none."""
    return _CLOCK


def _sync(device: torch.device | str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def median_time(fn: Callable[[], object], *, device: torch.device | str = "cpu",
                warmup: int = 2, min_repeats: int = 5, budget_s: float = 1.0,
                clock: Callable[[], float] | None = None) -> float:
    """Median seconds per call of ``fn`` after ``warmup`` calls.

    Repeats at least ``min_repeats`` times and until ``budget_s`` (wall) is
    spent. ``clock`` measures each call (default: wall time, ``perf_counter``;
    ``time.process_time`` gives CPU seconds, steadier on a busy machine).
    """
    clock = clock or _CLOCK
    for _ in range(warmup):
        fn()
    _sync(device)
    times: list[float] = []
    spent = 0.0
    while len(times) < min_repeats or spent < budget_s:
        w0, t0 = time.perf_counter(), clock()
        fn()
        _sync(device)
        times.append(clock() - t0)
        spent += time.perf_counter() - w0
        if len(times) >= 1000:
            break
    times.sort()
    return times[len(times) // 2]


def forward_call(fn: Callable, args: tuple) -> Callable[[], None]:
    """What :func:`median_time` times for a forward pass: ``fn(*args)`` without autograd."""
    def call():
        with torch.no_grad():
            fn(*args)
    return call


def backward_call(fn: Callable, args: tuple, grad: torch.Tensor) -> Callable[[], None]:
    """What :func:`median_time` times for forward + backward: ``fn(*args)`` with
    ``args[0]`` a fresh leaf each call, then ``.backward(grad)``."""
    def call():
        leaf = args[0].detach().requires_grad_()
        fn(leaf, *args[1:]).backward(grad)
    return call


def copy_bandwidth_gbs(device: torch.device | str = "cpu", nbytes: int = 256 << 20) -> float:
    """Measured memory bandwidth of ``device`` in GB/s: bytes read + written per
    second by ``dst.copy_(src)`` of two ``nbytes`` buffers (far beyond any cache)."""
    src = torch.ones(nbytes // 4, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    t = median_time(lambda: dst.copy_(src), device=device, warmup=2, min_repeats=7, budget_s=0.3,
                    clock=time.perf_counter)  # bandwidth is bytes per wall second
    return 2 * nbytes / t / 1e9


def skin_bytes(B: int, V: int, J: int, K: int, elem: int, backward: bool) -> int:
    """Minimal DRAM bytes of one skinning call (shared rest mesh, int64 indices):
    forward reads rest, transforms, indices, weights and writes ``[B, V, 3]``;
    the backward to transforms reads the ``[B, V, 3]`` gradient and the mesh
    again and writes ``[B, J, 3, 4]``."""
    mesh = V * 3 * elem + V * K * (8 + elem)
    fwd = mesh + B * J * 12 * elem + B * V * 3 * elem
    return fwd + (mesh + B * V * 3 * elem + B * J * 12 * elem if backward else 0)
