"""Benchmark: torchrig vs the smplx-style reference (and pymomentum), one run.

CPU (default): median times of FK + skinning, forward and forward + backward
(gradient w.r.t. the joint rotations, as in pose fitting), of torchrig and
:mod:`torchrig.reference` and their ratio (> 1: torchrig is faster);
``--compile`` adds ``torch.compile(reference)``. Then the machine's memory
bandwidth (a large copy) next to skinning's achieved GB/s and its distance
from the memory floor (bytes read + written / copy bandwidth), and, when
``pymomentum`` is importable, the side-by-side table of
:mod:`torchrig.bench_pymomentum`.

``--device cuda``: the GPU benchmark (:mod:`torchrig.bench_gpu`) with the
same flags.

``--compare-abi STABLE_SITE``: instead, the stable-ABI build (a directory
holding one, e.g. ``pip install --no-deps --target DIR <py3-none wheel>``) vs
the classic one (``--classic-site DIR``, default: the installed torchrig),
per-call time at ``--batch`` (default 1 512), in alternating child processes
(:mod:`torchrig.bench_abi`).
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Sequence

import torch

from . import ops, reference
from .procedural import humanoid, random_rig, wave_animation
from .rig import Rig
from .timing import copy_bandwidth_gbs, median_time, set_default_clock, skin_bytes

__all__ = ["add_arguments", "cli", "main", "run"]

J = 55  # SMPL-X's joint count


def _pipeline(fk, skin):
    def pose(rotations, offsets, parents, rest, indices, weights):
        return skin(rest, fk(rotations, offsets, parents), indices, weights)
    return pose


def _case(B: int, V: int, K: int, dtype: torch.dtype):
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
        dtype: torch.dtype = torch.float32, budget_s: float = 0.5, k: int = 4,
        repeats: int = 3, out=print) -> list[dict]:
    """FK + skinning, torchrig vs reference, for every (B, V) in ``sizes``; prints a table."""
    impls = {"torchrig": _pipeline(ops.forward_kinematics, ops.skin),
             "reference": _pipeline(reference.forward_kinematics, reference.skin)}
    if compile_reference:
        impls["compiled"] = torch.compile(impls["reference"], dynamic=False)
    clock = "CPU time" if timing_clock() is time.process_time else "wall time"
    out(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU kernels "
        f"{_cpu_isa()}, J={J}, K={k}, {dtype}, median {clock}")
    header = f"{'B':>5} {'V':>6} {'pass':<8}" + "".join(f"{n + ' ms':>14}" for n in impls)
    out(header + "".join(f"{'ref/' + 'rig' if n == 'reference' else n[:4] + '/rig':>10}"
                         for n in impls if n != "torchrig"))
    rows = []
    for B, V in sizes:
        args, grad = _case(B, V, k, dtype)
        for name, make in (("fwd", lambda f: _fwd(f, args)), ("fwd+bwd", lambda f: _fwd_bwd(f, args, grad))):
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


def timing_clock():
    from . import timing
    return timing._CLOCK


def _cpu_isa() -> str:
    from . import _C
    return _C.cpu_isa() if hasattr(_C, "cpu_isa") else "?"


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
        t = median_time(_fwd(ops.skin, (rest, tf, indices, weights)), budget_s=budget_s,
                        min_repeats=repeats)
        nbytes = skin_bytes(B, V, nj, k, elem, backward=False)
        floor = nbytes / bw / 1e9
        rows.append({"rig": name, "B": B, "V": V, "skin_s": t, "gbs": nbytes / t / 1e9,
                     "copy_gbs": bw, "x_floor": t / floor})
        out(f"{name:<9} {B:>5} {V:>6} {t * 1e3:>9.3f} {nbytes / t / 1e9:>7.1f} {floor * 1e3:>9.3f} "
            f"{t / floor:>7.1f}x")
    return rows


# --- command line ----------------------------------------------------------

def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer (>= 1), got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {value}")
    return value


def _device(text: str) -> str:
    try:
        dev = torch.device(text)
    except RuntimeError:
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda"):
        raise argparse.ArgumentTypeError(f"expected cpu, cuda or cuda:N, got {text!r}")
    return str(dev)


def _torchrig_site(abi: str):
    def parse(text: str) -> str:
        from .bench_abi import site_abi

        found = site_abi(text)
        if found != abi:
            what = "holds no torchrig package" if found is None else f"holds a {found} build"
            raise argparse.ArgumentTypeError(
                f"expected a directory holding a {abi}-ABI torchrig (e.g. pip install --no-deps "
                f"--target DIR <its wheel>), but {text!r} {what}")
        return text
    return parse


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The benchmark's flags, one set for both devices."""
    p.add_argument("--device", type=_device, default="cpu",
                   help="cpu (default), cuda or cuda:N for the GPU benchmark")
    p.add_argument("--batch", type=_positive_int, nargs="+", metavar="B",
                   help="batch sizes (default: 1 64 512 on CPU, 1 64 1024 4096 on CUDA)")
    p.add_argument("--vertices", type=_positive_int, nargs="+", default=[7000, 50000], metavar="V",
                   help="vertex counts (default: 7000 50000)")
    p.add_argument("-k", "--influences", type=_positive_int, default=4, dest="k",
                   help="influences per vertex K (default 4)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--compile", action="store_true",
                   help="also time torch.compile(reference) (slow to compile on CPU)")
    p.add_argument("--budget", type=_positive_float, default=0.5, metavar="S",
                   help="CPU: seconds of repeats per measurement (default 0.5)")
    p.add_argument("--repeats", type=_positive_int, default=5,
                   help="minimum timed repeats per measurement (default 5)")
    p.add_argument("--threads", type=_positive_int, metavar="N",
                   help="CPU: torch threads (default: torch's choice)")
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                   help="CPU: time each call by wall clock (default) or by the process's CPU "
                        "time (steadier on a shared machine; with --threads 1 it is the work "
                        "of one core)")
    p.add_argument("--no-pymomentum", action="store_true",
                   help="CPU: skip the side-by-side table with pymomentum even if it is importable")
    p.add_argument("--vertex-order", choices=["mesh", "random"], default="mesh",
                   help="CUDA: vertex order of the generated rig")
    p.add_argument("--peak-gbs", type=_positive_float, metavar="GBS",
                   help="CUDA: override the device's peak bandwidth (GB/s)")
    p.add_argument("--compare-abi", type=_torchrig_site("stable"), metavar="STABLE_SITE",
                   help="CPU: compare the stable-ABI torchrig in STABLE_SITE with the classic "
                        "build (default B: 1 512; V: the first --vertices)")
    p.add_argument("--classic-site", type=_torchrig_site("classic"), metavar="DIR",
                   help="with --compare-abi: the classic torchrig to compare (default: the "
                        "installed one)")
    p.add_argument("--rounds", type=_positive_int, default=3,
                   help="with --compare-abi: alternating rounds per build (default 3)")
    p.add_argument("--json", metavar="FILE", help="also write every table's rows to FILE")


def main(args: argparse.Namespace) -> int:
    dtype = getattr(torch, args.dtype)
    results: dict[str, list] = {}
    if args.json:  # an unwritable path fails now, not after the measurements
        try:
            open(args.json, "a").close()
        except OSError as exc:
            print(f"bench: cannot write --json {args.json}: {exc.strerror}; pass a writable path",
                  file=sys.stderr)
            return 2
    if args.classic_site and not args.compare_abi:
        print("bench: --classic-site needs --compare-abi STABLE_SITE", file=sys.stderr)
        return 2
    if args.compare_abi:
        if args.device != "cpu":
            print("bench: --compare-abi measures the CPU ops; drop --device", file=sys.stderr)
            return 2
        from . import bench_abi
        results["abi"] = bench_abi.compare(args.classic_site, args.compare_abi,
                                           rounds=args.rounds,
                                           budget_s=args.budget, batches=args.batch or [1, 512],
                                           vertices=args.vertices[0], threads=args.threads)
    elif args.device.startswith("cuda"):
        if not torch.cuda.is_available():
            print("bench: --device cuda, but no CUDA device is available", file=sys.stderr)
            return 2
        from . import bench_gpu
        results["gpu"] = bench_gpu.run(
            args.device, args.batch or [1, 64, 1024, 4096], args.vertices, args.k, dtype,
            compile=args.compile, vertex_order=args.vertex_order, repeats=args.repeats,
            peak_gbs=args.peak_gbs)
    else:
        if args.threads:
            torch.set_num_threads(args.threads)
        if args.clock == "cpu":
            set_default_clock(time.process_time)
        say = lambda line: print(line, flush=True)  # noqa: E731
        batch = args.batch or [1, 64, 512]
        results["reference"] = run(list(itertools.product(batch, args.vertices)),
                                   compile_reference=args.compile, dtype=dtype, budget_s=args.budget,
                                   k=args.k, repeats=args.repeats, out=say)
        say("")
        results["bandwidth"] = run_bandwidth(batch, args.vertices, dtype=dtype, k=args.k,
                                             budget_s=args.budget, repeats=args.repeats, out=say)
        from . import bench_pymomentum
        if not args.no_pymomentum and bench_pymomentum.available():
            say("")
            results["pymomentum"] = bench_pymomentum.run(budget_s=args.budget, out=say)
        elif not args.no_pymomentum:
            say("\n(pymomentum not importable: no side-by-side table; it needs pymomentum-cpu, "
                "Python 3.12/3.13 and torch 2.8)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


def cli(argv: Sequence[str] | None = None) -> int:
    """``python -m torchrig.bench``: the same as ``python -m torchrig bench``."""
    p = argparse.ArgumentParser(prog="python -m torchrig bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    return main(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
