"""CPU benchmark: torchrig vs the smplx-style reference, measured in one run.

Prints, per size, the median time of each and the ratio reference/torchrig
(> 1 means torchrig is faster) for FK + skinning forward, and forward +
backward (gradient w.r.t. the joint rotations, as in pose fitting).
Optionally (``--compile``) the reference under ``torch.compile`` as a second
baseline. On a CUDA machine, ``python -m torchrig bench --device cuda`` runs
the GPU benchmark (torchrig.bench_gpu) instead.
"""
from __future__ import annotations

import argparse
import itertools
import time

import torch

from . import ops, reference
from .procedural import random_rig, wave_animation
from .timing import median_time

__all__ = ["add_arguments", "run"]

J, K = 55, 4


def _pipeline(fk, skin):
    def pose(rotations, offsets, parents, rest, indices, weights):
        return skin(rest, fk(rotations, offsets, parents), indices, weights)
    return pose


def _case(B: int, V: int, dtype: torch.dtype):
    parents, offsets, rest, indices, weights = random_rig(J, V, K, dtype=dtype, seed=B + V)
    rotations = wave_animation(B, J, dtype=dtype).contiguous()
    grad = torch.randn(B, V, 3, dtype=dtype)
    return (rotations, offsets, parents, rest, indices, weights), grad


def _fwd(fn, args):
    def run():
        with torch.no_grad():
            fn(*args)
    return run


def _fwd_bwd(fn, args, grad):
    def run():
        rot = args[0].detach().requires_grad_()
        fn(rot, *args[1:]).backward(grad)
    return run


def run(sizes: list[tuple[int, int]], *, compile_reference: bool = False,
        dtype: torch.dtype = torch.float32, budget_s: float = 0.5) -> list[dict]:
    """Benchmark every (B, V) in ``sizes``; prints a table, returns its rows."""
    impls = {"torchrig": _pipeline(ops.forward_kinematics, ops.skin),
             "reference": _pipeline(reference.forward_kinematics, reference.skin)}
    if compile_reference:
        impls["compiled"] = torch.compile(impls["reference"], dynamic=False)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, J={J}, K={K}, {dtype}")
    header = f"{'B':>5} {'V':>6} {'pass':<8}" + "".join(f"{n + ' ms':>14}" for n in impls)
    print(header + "".join(f"{'ref/' + 'rig' if n == 'reference' else n[:4] + '/rig':>10}"
                           for n in impls if n != "torchrig"))
    rows = []
    for B, V in sizes:
        args, grad = _case(B, V, dtype)
        for name, make in (("fwd", lambda f: _fwd(f, args)), ("fwd+bwd", lambda f: _fwd_bwd(f, args, grad))):
            t0 = time.perf_counter()
            times = {n: median_time(make(f), budget_s=budget_s, min_repeats=3) for n, f in impls.items()}
            row = {"B": B, "V": V, "pass": name, **{f"{n}_s": t for n, t in times.items()}}
            rows.append(row)
            ratios = [times[n] / times["torchrig"] for n in impls if n != "torchrig"]
            print(f"{B:>5} {V:>6} {name:<8}" + "".join(f"{t * 1e3:>14.3f}" for t in times.values())
                  + "".join(f"{r:>9.1f}x" for r in ratios)
                  + f"   ({time.perf_counter() - t0:.1f}s)", flush=True)
    return rows


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--batch", type=int, nargs="+", default=[1, 64, 512], help="batch sizes B")
    p.add_argument("--vertices", type=int, nargs="+", default=[7000, 50000], help="vertex counts V")
    p.add_argument("--compile", action="store_true",
                   help="also time torch.compile(reference) (slow to compile on CPU)")
    p.add_argument("--float64", action="store_true", help="benchmark float64 instead of float32")
    p.add_argument("--budget", type=float, default=0.5, help="seconds of repeats per measurement")
    p.add_argument("--device", default="cpu", help="cpu, or cuda for the GPU benchmark")


def main(args: argparse.Namespace) -> None:
    if args.device != "cpu":
        from . import bench_gpu
        bench_gpu.run(device=args.device)
        return
    dtype = torch.float64 if args.float64 else torch.float32
    run(list(itertools.product(args.batch, args.vertices)), compile_reference=args.compile,
        dtype=dtype, budget_s=args.budget)
