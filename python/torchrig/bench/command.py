"""Benchmark: torchrig vs the smplx-style reference (and pymomentum), one run.

(Plain text: this is also `python -m torchrig bench --help`.)

CPU (default): median times of FK + skinning, forward and forward + backward
(gradient w.r.t. the joint rotations, as in pose fitting), of torchrig and
torchrig.reference and their ratio (> 1: torchrig is faster); --compile adds
torch.compile(reference). Then the machine's memory bandwidth (a large copy)
next to skinning's achieved GB/s and its distance from the memory floor (bytes
read + written / copy bandwidth), and, when pymomentum is importable, the
side-by-side table of torchrig.bench.vs_pymomentum (the first two:
torchrig.bench.cpu).

--device cuda: the GPU benchmark (torchrig.bench.gpu) with the same flags.

--compare-abi STABLE_SITE: instead, the stable-ABI build (a directory holding
one, e.g. `pip install --no-deps --target DIR <py3-none wheel>`) vs the classic
one (--classic-site DIR, default: the installed torchrig), per-call time at
--batch (default 1 512), in alternating child processes (torchrig.bench.abi).
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Sequence

import torch

from . import cpu
from ..procedural import HUMANOID_JOINTS, SMPLX_PARENTS
from .args import check_memory, positive, thread_limit
from .timing import set_default_clock

__all__ = ["add_arguments", "cli", "main"]


# --- command line ----------------------------------------------------------

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
        from .abi import site_abi

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
    p.add_argument("--batch", type=positive(int), nargs="+", metavar="B",
                   help="batch sizes (default: 1 64 512 on CPU, 1 64 1024 4096 on CUDA)")
    p.add_argument("--vertices", type=positive(int), nargs="+", default=[7000, 50000], metavar="V",
                   help="vertex counts (default: 7000 50000)")
    p.add_argument("-k", "--influences", type=positive(int), default=4, dest="k",
                   help="influences per vertex K (default 4)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--compile", action="store_true",
                   help="also time torch.compile(reference) (slow to compile on CPU)")
    p.add_argument("--budget", type=positive(float, "number of seconds"), default=0.5, metavar="S",
                   help="CPU: seconds of repeats per measurement (default 0.5)")
    p.add_argument("--repeats", type=positive(int), default=5,
                   help="minimum timed repeats per measurement (default 5)")
    p.add_argument("--threads", type=positive(int, at_most=thread_limit()), metavar="N",
                   help="CPU: torch threads (default: torch's choice)")
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                   help="CPU: time each call by wall clock (default) or by the process's CPU "
                        "time (steadier on a shared machine; with --threads 1 it is the work "
                        "of one core)")
    p.add_argument("--no-pymomentum", action="store_true",
                   help="CPU: skip the side-by-side table with pymomentum even if it is importable")
    p.add_argument("--vertex-order", choices=["mesh", "random"], default="mesh",
                   help="CUDA: vertex order of the generated rig")
    p.add_argument("--peak-gbs", type=positive(float, "bandwidth in GB/s"), metavar="GBS",
                   help="CUDA: override the device's peak bandwidth (GB/s)")
    p.add_argument("--compare-abi", type=_torchrig_site("stable"), metavar="STABLE_SITE",
                   help="CPU: compare the stable-ABI torchrig in STABLE_SITE with the classic "
                        "build (default B: 1 512; V: the first --vertices)")
    p.add_argument("--classic-site", type=_torchrig_site("classic"), metavar="DIR",
                   help="with --compare-abi: the classic torchrig to compare (default: the "
                        "installed one)")
    p.add_argument("--rounds", type=positive(int), default=3,
                   help="with --compare-abi: alternating rounds per build (default 3)")
    p.add_argument("--json", metavar="FILE", help="also write every table's rows to FILE")


def _size_problem(args: argparse.Namespace) -> str | None:
    """What makes the sizes asked for impossible, found before any work: more influences
    than a rig has joints, or tensors larger than the memory available."""
    if args.compare_abi:
        k, joints = 4, None  # its own rig: K = 4
    elif args.device.startswith("cuda"):
        k, joints = args.k, len(SMPLX_PARENTS)
    else:
        k, joints = args.k, HUMANOID_JOINTS  # the bandwidth table's humanoid, the smallest rig
    if joints is not None and k > joints:
        return f"-k {k}: the smallest of the benchmark's rigs has {joints} joints; pass -k 1 .. {joints}"
    if args.device.startswith("cuda"):
        return None  # device memory: the allocator's own error names it
    elem = 8 if args.dtype == "float64" else 4
    B, V = max(args.batch or [512]), max(args.vertices)
    # per (batch element, vertex): the ops' inputs/outputs/gradients and the reference's
    # [B, V, 16] blended transforms and K-wide gathers, generously
    return check_memory(B * V * (40 + 4 * k) * elem, f"--batch {B} with --vertices {V}",
                        "pass a smaller --batch or --vertices")


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
    problem = _size_problem(args)
    if problem:
        print(f"bench: {problem}", file=sys.stderr)
        return 2
    if args.classic_site and not args.compare_abi:
        print("bench: --classic-site needs --compare-abi STABLE_SITE", file=sys.stderr)
        return 2
    if args.compare_abi:
        if args.device != "cpu":
            print("bench: --compare-abi measures the CPU ops; drop --device", file=sys.stderr)
            return 2
        from . import abi
        results["abi"] = abi.compare(args.classic_site, args.compare_abi, rounds=args.rounds,
                                     budget_s=args.budget, batches=args.batch or [1, 512],
                                     vertices=args.vertices[0], threads=args.threads)
    elif args.device.startswith("cuda"):
        if not torch.cuda.is_available():
            print("bench: --device cuda, but no CUDA device is available", file=sys.stderr)
            return 2
        from . import gpu
        results["gpu"] = gpu.run(
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
        results["reference"] = cpu.run(list(itertools.product(batch, args.vertices)),
                                       compile_reference=args.compile, dtype=dtype,
                                       budget_s=args.budget, k=args.k, repeats=args.repeats,
                                       out=say)
        say("")
        results["bandwidth"] = cpu.run_bandwidth(batch, args.vertices, dtype=dtype, k=args.k,
                                                 budget_s=args.budget, repeats=args.repeats,
                                                 out=say)
        from . import vs_pymomentum
        if not args.no_pymomentum and vs_pymomentum.available():
            say("")
            results["pymomentum"] = vs_pymomentum.run(budget_s=args.budget, out=say)
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
