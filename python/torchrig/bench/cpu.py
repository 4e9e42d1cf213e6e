"""CPU benchmark tables: torchrig vs the smplx-style reference, and skinning's bandwidth.

:func:`run`: median times of FK + skinning, forward and forward + backward
(gradient w.r.t. the joint rotations, as in pose fitting), of torchrig and
:mod:`torchrig.reference` (and ``torch.compile(reference)``) and their ratio
(> 1: torchrig is faster). :func:`run_bandwidth`: skinning's forward alone,
its achieved GB/s next to the machine's copy bandwidth and its distance from
the memory floor (bytes read + written / copy bandwidth). Reached through
``python -m torchrig bench`` (:mod:`torchrig.bench.command`).
"""
from __future__ import annotations

import itertools
import time
from collections.abc import Sequence

import torch

from .. import ops, reference
from ..info import cpu_isa
from ..procedural import SMPLX_PARENTS, humanoid, random_rig, wave_animation
from ..rig import Rig
from . import timing
from .timing import backward_call, copy_bandwidth_gbs, forward_call, median_time, skin_bytes

__all__ = ["J", "run", "run_bandwidth"]

J = len(SMPLX_PARENTS)  # SMPL-X's joint count (the trees here are random_rig's)


def _pipeline(fk, skin):
    def pose(rotations, offsets, parents, rest, indices, weights):
        return skin(rest, fk(rotations, offsets, parents), indices, weights)
    return pose


def _case(B: int, V: int, K: int, dtype: torch.dtype):
    parents, offsets, rest, indices, weights = random_rig(J, V, K, dtype=dtype, seed=B + V)
    rotations = wave_animation(B, J, dtype=dtype).contiguous()
    grad = torch.randn(B, V, 3, dtype=dtype)
    return (rotations, offsets, parents, rest, indices, weights), grad


def run(sizes: list[tuple[int, int]], *, compile_reference: bool = False,
        dtype: torch.dtype = torch.float32, budget_s: float = 0.5, k: int = 4,
        repeats: int = 3, out=print) -> list[dict]:
    """FK + skinning, torchrig vs reference, for every (B, V) in ``sizes``; prints a table."""
    impls = {"torchrig": _pipeline(ops.forward_kinematics, ops.skin),
             "reference": _pipeline(reference.forward_kinematics, reference.skin)}
    if compile_reference:
        impls["compiled"] = torch.compile(impls["reference"], dynamic=False)
    clock = "CPU time" if timing.default_clock() is time.process_time else "wall time"
    out(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU kernels "
        f"{cpu_isa()}, J={J}, K={k}, {dtype}, median {clock}")
    header = f"{'B':>5} {'V':>6} {'pass':<8}" + "".join(f"{n + ' ms':>14}" for n in impls)
    out(header + "".join(f"{'ref/' + 'rig' if n == 'reference' else n[:4] + '/rig':>10}"
                         for n in impls if n != "torchrig"))
    rows = []
    for B, V in sizes:
        args, grad = _case(B, V, k, dtype)
        for name, make in (("fwd", lambda f: forward_call(f, args)),
                           ("fwd+bwd", lambda f: backward_call(f, args, grad))):
            t0 = time.perf_counter()
            times = {n: median_time(make(f), budget_s=budget_s, min_repeats=repeats)
                     for n, f in impls.items()}
            row = {"B": B, "V": V, "pass": name, **{f"{n}_s": t for n, t in times.items()}}
            rows.append(row)
            ratios = [times[n] / times["torchrig"] for n in impls if n != "torchrig"]
            out(f"{B:>5} {V:>6} {name:<8}" + "".join(f"{t * 1e3:>14.3f}" for t in times.values())
                + "".join(f"{r:>9.1f}x" for r in ratios)
                + f"   ({time.perf_counter() - t0:.1f}s)")
    return rows


def run_bandwidth(batches: Sequence[int], vertices: Sequence[int], *, dtype=torch.float32,
                  k: int = 4, budget_s: float = 0.5, repeats: int = 3, out=print) -> list[dict]:
    """Skinning forward alone: achieved GB/s next to the measured copy bandwidth."""
    bw = copy_bandwidth_gbs("cpu")
    elem = torch.tensor([], dtype=dtype).element_size()
    out(f"memory: {bw:.1f} GB/s measured (torch copy of 256 MiB, read + write); skin fwd alone, "
        "floor = minimal bytes / that bandwidth")
    out(f"{'rig':<9} {'B':>5} {'V':>6} {'skin ms':>9} {'GB/s':>7} {'floor ms':>9} {'x floor':>8}")
    c = humanoid()
    hum = Rig.from_dense_weights(c.parents, c.offsets.to(dtype), c.vertices.to(dtype),
                                 c.dense_weights.to(dtype), k=k)
    cases = [("humanoid", B, hum.num_joints, hum.rest_vertices, hum.indices, hum.weights)
             for B in batches]
    for B, V in itertools.product(batches, vertices):
        _, _, rest, indices, weights = random_rig(J, V, k, dtype=dtype, seed=B + V)
        cases.append((f"J={J}", B, J, rest, indices, weights))
    rows = []
    for name, B, nj, rest, indices, weights in cases:
        V = rest.shape[0]
        tf = torch.randn(B, nj, 3, 4, dtype=dtype)
        t = median_time(forward_call(ops.skin, (rest, tf, indices, weights)), budget_s=budget_s,
                        min_repeats=repeats)
        nbytes = skin_bytes(B, V, nj, k, elem, backward=False)
        floor = nbytes / bw / 1e9
        rows.append({"rig": name, "B": B, "V": V, "skin_s": t, "gbs": nbytes / t / 1e9,
                     "copy_gbs": bw, "x_floor": t / floor})
        out(f"{name:<9} {B:>5} {V:>6} {t * 1e3:>9.3f} {nbytes / t / 1e9:>7.1f} {floor * 1e3:>9.3f} "
            f"{t / floor:>7.1f}x")
    return rows


