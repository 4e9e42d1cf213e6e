"""GPU benchmark: torchrig's CUDA ops vs the smplx-style reference.

For forward kinematics and skinning, forward and forward+backward, it times
torchrig, :mod:`torchrig.reference` (eager) and ``torch.compile`` of the
reference, and prints the time ratios. For skinning it also prints the
achieved bandwidth of torchrig next to a device-to-device copy measured first
(1 GiB, bytes read + written) and the device's peak, and how far the forward
is from the bandwidth floor (minimal bytes / peak bandwidth).

Workload (defaults, float32): SMPL-X's tree (J = 55), K = 4 influences,
B in {1, 64, 1024, 4096}, V in {7000, 50000}. Gradients flow to what a pose
fit optimises: rotations (FK) and transforms (skinning). Vertices are
ordered like a mesh (runs of neighbours share joints); ``--vertex-order
random`` gives the worst case for torchrig's per-run caching. Every torchrig
call includes its input checks (one device-to-host sync for the index range).

The command line is ``python -m torchrig bench --device cuda`` (flags shared
with the CPU benchmark, :mod:`torchrig.bench.command`).
"""
from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence

import torch

from .. import ops, reference
from ..procedural import SMPLX_PARENTS
from ..rotations import quaternion_to_matrix
from .timing import skin_bytes

__all__ = ["copy_bandwidth_gbs", "peak_bandwidth_gbs", "run"]

# GB/s of common parts, for drivers that report no memory clock (CUDA 13 may).
_KNOWN_PEAK_GBS = {"H100 80GB HBM3": 3350, "H100 PCIe": 2000, "H100 NVL": 3900,
                   "H200": 4800, "A100-SXM4-80GB": 2039, "A100 80GB PCIe": 1935,
                   "A100-SXM4-40GB": 1555, "A100-PCIE-40GB": 1555, "L40S": 864,
                   "RTX 4090": 1008, "B200": 8000}


class _ConstParents(tuple):
    """Parents as a constant for torch.compile (the reference calls .tolist())."""

    def tolist(self) -> list[int]:
        return list(self)


def peak_bandwidth_gbs(device: torch.device | str = "cuda") -> float | None:
    """Theoretical DRAM bandwidth of ``device`` in GB/s, or None if unknown."""
    prop = torch.cuda.get_device_properties(device)
    clock_khz = getattr(prop, "memory_clock_rate", 0) or 0
    bus_bits = getattr(prop, "memory_bus_width", 0) or 0
    if clock_khz > 0 and bus_bits > 0:
        return 2 * clock_khz * 1e3 * bus_bits / 8 / 1e9  # double data rate
    for name, gbs in _KNOWN_PEAK_GBS.items():
        if name in prop.name:
            return float(gbs)
    return None


def _inputs(B: int, V: int, K: int, dtype, device, order: str, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    J = len(SMPLX_PARENTS)
    rot = quaternion_to_matrix(torch.randn(B, J, 4, generator=gen)).to(dtype)
    off = torch.randn(J, 3, generator=gen).to(dtype)
    rest = torch.randn(V, 3, generator=gen).to(dtype)
    tf = torch.randn(B, J, 3, 4, generator=gen).to(dtype)
    # Mesh-like: blocks of consecutive vertices on one joint, plus its parent
    # and two more joints of the tree, 10 % of influences anywhere.
    main_joint = torch.arange(V) * J // V
    parent = torch.tensor(SMPLX_PARENTS).clamp(min=0)[main_joint]
    idx = torch.stack([main_joint, parent, (main_joint + 1) % J, parent.roll(7)], 1)[:, :K]
    if K > 4:
        idx = torch.cat([idx, torch.randint(0, J, (V, K - 4), generator=gen)], 1)
    idx = torch.where(torch.rand(V, K, generator=gen) < 0.1,
                      torch.randint(0, J, (V, K), generator=gen), idx)
    if order == "random":
        idx = idx[torch.randperm(V, generator=gen)]
    w = torch.rand(V, K, generator=gen)
    w = (w / w.sum(1, keepdim=True)).to(dtype)
    parents = torch.tensor(SMPLX_PARENTS)
    return {k: v.to(device) for k, v in dict(rot=rot, off=off, parents=parents, rest=rest,
                                             tf=tf, idx=idx, w=w).items()}


def _time_ms(fn: Callable[[], object], warmup: int, repeats: int) -> float:
    """Median milliseconds per call of ``fn`` (CUDA events, batched calls)."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    end.synchronize()
    iters = int(min(max(20.0 / max(start.elapsed_time(end), 1e-3), 1), 200))
    times = []
    for _ in range(repeats):
        start.record()
        for _ in range(iters):
            fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / iters)
    return statistics.median(times)


def copy_bandwidth_gbs(device: torch.device | str = "cuda", nbytes: int = 1 << 30) -> float:
    """A measured device-to-device copy of ``nbytes``: bytes read + written per second, GB/s."""
    src = torch.empty(nbytes // 4, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    ms = _time_ms(lambda: dst.copy_(src), warmup=2, repeats=5)
    src = dst = None
    torch.cuda.empty_cache()
    return 2 * nbytes / ms / 1e6


def _measure(fn, warmup, repeats, out, what: str) -> float | str:
    """Milliseconds, or "OOM" / "fail" (reported) when the call cannot run."""
    try:
        return _time_ms(fn, warmup, repeats)
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        return "OOM"
    except Exception as exc:  # e.g. torch.compile failing on this setup: report, go on
        out(f"  ({what} failed: {type(exc).__name__}: {str(exc).splitlines()[0][:120]})")
        return "fail"


def _fwd_bwd(f: Callable, args: tuple, wrt: int, grad: torch.Tensor) -> Callable[[], object]:
    leaf = args[wrt].detach().requires_grad_(True)
    full = args[:wrt] + (leaf,) + args[wrt + 1:]
    return lambda: torch.autograd.grad(f(*full), leaf, grad)


def _fmt(ms: float | str | None) -> str:
    return "-" if ms is None else ms if isinstance(ms, str) else f"{ms:7.3f}"


def _ratio(a: float | str | None, b: float | str | None) -> str:
    ok = isinstance(a, float) and isinstance(b, float)
    return f"{a / b:5.1f}x" if ok else "-"


def run(device: str | torch.device = "cuda", batch_sizes: Sequence[int] = (1, 64, 1024, 4096),
        vertices: Sequence[int] = (7000, 50000), k: int = 4, dtype: torch.dtype = torch.float32,
        compile: bool = True, vertex_order: str = "mesh", warmup: int = 3, repeats: int = 5,
        peak_gbs: float | None = None, ops_to_run: Sequence[str] = ("fk", "skin"),
        out=print) -> list[dict]:
    """Time FK and skinning (fwd, fwd+bwd) for every B (and V), print a table.

    Returns one dict per (op, mode, B, V) with milliseconds of ``torchrig``,
    ``reference`` and ``compiled`` ("OOM" / "fail" when they could not run,
    None when not run), the measured device copy ``copy_gbs`` and, for skinning,
    torchrig's achieved ``gbs`` and ``x_floor`` (time / bandwidth-floor time).
    """
    device = torch.device(device)
    if device.type != "cuda" or not torch.cuda.is_available():
        raise RuntimeError("the GPU benchmark needs a CUDA device")
    if not torch._C._dispatch_has_kernel_for_dispatch_key("torchrig::skin", "CUDA"):
        raise RuntimeError("this torchrig was built without CUDA kernels (TORCHRIG_CUDA=ON)")
    torch.cuda.set_device(device)
    peak = peak_gbs or peak_bandwidth_gbs(device)
    elem = torch.tensor([], dtype=dtype).element_size()
    J = len(SMPLX_PARENTS)
    parents_const = _ConstParents(SMPLX_PARENTS)
    cfg = torch._dynamo.config  # one compiled graph per shape: allow them all
    limit = "recompile_limit" if hasattr(cfg, "recompile_limit") else "cache_size_limit"
    setattr(cfg, limit, max(getattr(cfg, limit), 64))
    name = torch.cuda.get_device_name(device)
    copy = copy_bandwidth_gbs(device)
    out(f"torchrig GPU benchmark on {name} (torch {torch.__version__}), {dtype}, J={J}, K={k}, "
        f"vertex order: {vertex_order}; device copy {copy:.0f} GB/s measured (1 GiB, read + "
        f"write); peak DRAM bandwidth {'unknown' if peak is None else f'{peak:.0f} GB/s'}")
    out("times in ms per call; ref/tr and comp/tr = how many times faster torchrig is")

    def fk_ref(rot, off):
        return reference.forward_kinematics(rot, off, parents_const)

    fk_comp = torch.compile(fk_ref, fullgraph=True, dynamic=False) if compile else None
    skin_comp = torch.compile(reference.skin, fullgraph=True, dynamic=False) if compile else None
    rows: list[dict] = []
    cases = ([("fk", B, 0) for B in batch_sizes] if "fk" in ops_to_run else []) + \
        ([("skin", B, V) for V in vertices for B in batch_sizes] if "skin" in ops_to_run else [])
    header = (f"{'op':4} {'mode':7} {'B':>5} {'V':>6} | {'torchrig':>8} {'ref':>8} {'compiled':>8} | "
              f"{'ref/tr':>6} {'comp/tr':>7} | {'GB/s':>6} {'%copy':>5} {'%peak':>5} {'x floor':>7}")
    out(header)
    out("-" * len(header))
    for op, B, V in cases:
        x = _inputs(B, max(V, 1), k, dtype, device, vertex_order)
        if op == "fk":
            impls = {"torchrig": lambda r, o, p=x["parents"]: ops.forward_kinematics(r, o, p),
                     "reference": fk_ref, "compiled": fk_comp}
            args, wrt, shape = (x["rot"], x["off"]), 0, (B, J, 3, 4)
        else:
            impls = {"torchrig": ops.skin, "reference": reference.skin, "compiled": skin_comp}
            args, wrt, shape = (x["rest"], x["tf"], x["idx"], x["w"]), 1, (B, V, 3)
        grad = torch.randn(shape, dtype=dtype, device=args[0].device)
        for mode in ("fwd", "fwd+bwd"):
            row = {"op": op, "mode": mode, "B": B, "V": V}
            for impl, f in impls.items():
                if f is None:
                    row[impl] = None
                    continue
                call = (lambda f=f, a=args: f(*a)) if mode == "fwd" else _fwd_bwd(f, args, wrt, grad)
                with torch.no_grad() if mode == "fwd" else torch.enable_grad():
                    row[impl] = _measure(call, warmup, repeats, out, f"{impl} {op} {mode} B={B}")
            gbs = floor = None
            if op == "skin" and isinstance(row["torchrig"], float):
                nbytes = skin_bytes(B, V, J, k, elem, backward=mode != "fwd")
                gbs = nbytes / row["torchrig"] / 1e6
                floor = row["torchrig"] / (nbytes / peak / 1e6) if peak else None
            row["gbs"], row["x_floor"], row["copy_gbs"] = gbs, floor, copy
            rows.append(row)
            out(f"{op:4} {mode:7} {B:>5} {V if V else '-':>6} | {_fmt(row['torchrig']):>8} "
                f"{_fmt(row['reference']):>8} {_fmt(row['compiled']):>8} | "
                f"{_ratio(row['reference'], row['torchrig']):>6} "
                f"{_ratio(row['compiled'], row['torchrig']):>7} | "
                f"{'-' if gbs is None else f'{gbs:6.0f}':>6} "
                f"{'-' if gbs is None else f'{100 * gbs / copy:4.0f}%':>5} "
                f"{'-' if gbs is None or not peak else f'{100 * gbs / peak:4.0f}%':>5} "
                f"{'-' if floor is None else f'{floor:6.2f}x':>7}")
        x = args = grad = None  # free this case's tensors before the next
        torch.cuda.empty_cache()
    return rows
