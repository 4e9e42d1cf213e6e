"""Stable-ABI vs classic build: per-call time of the ops at B=1 and B=512.

Both builds register ``torch.ops.torchrig``, so they cannot share a process:
:func:`compare` runs :func:`measure` in one child process per build (the
child's ``PYTHONPATH`` picks the build), alternating the builds over several
rounds so that machine load hits both alike, and reports the median time of
each case and the stable/classic ratio; then, in the stable build, the cost of
its Python bridge alone (:func:`bridge_overhead`). Reached through
``python -m torchrig bench --compare-abi STABLE_SITE [--classic-site DIR]``.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

import torch

import torchrig

from ..info import cpu_isa
from ..procedural import SMPLX_PARENTS, random_rig, wave_animation
from .timing import median_time

__all__ = ["bridge_overhead", "compare", "measure", "site_abi"]

J, K, V = len(SMPLX_PARENTS), 4, 6890  # SMPL-X's joint count, SMPL's vertex count
BATCHES = (1, 512)


def site_abi(site: str) -> str | None:
    """'stable' / 'classic' for a directory holding a torchrig package (its build record),
    None when it holds none."""
    record = os.path.join(site, "torchrig", "_build_info.json")
    if not os.path.isfile(record):
        return None
    with open(record) as f:
        return json.load(f).get("abi", "classic")


def _case(B: int, vertices: int):
    """(parents, offsets, rest, indices, weights) of a random J-joint rig, its rotations
    ``[B, J, 3, 3]`` and their transforms ``[B, J, 3, 4]``."""
    parents, offsets, rest, indices, weights = random_rig(J, vertices, K, seed=B)
    rot = wave_animation(B, J).contiguous()
    G = torchrig.forward_kinematics(rot, offsets, parents)
    return parents, offsets, rest, indices, weights, rot, G


def measure(budget_s: float = 0.3, batches=BATCHES, vertices: int = V,
            threads: int | None = None) -> dict[str, float]:
    """Median seconds per call of FK and skin, forward and forward+backward, at ``batches``
    (float32, CPU; J=55 joints, ``vertices`` vertices, K=4, ``threads`` torch threads or
    torch's choice), with whichever torchrig build this process imports; plus the build's
    ``_abi``, ``_isa`` (its CPU kernels) and ``_threads``."""
    if threads:
        torch.set_num_threads(threads)
    out: dict[str, float] = {}
    for B in batches:
        parents, offsets, rest, indices, weights, rot, G = _case(B, vertices)
        g_fk, g_skin = torch.randn(B, J, 3, 4), torch.randn(B, vertices, 3)

        def fk_fwd():
            with torch.no_grad():
                torchrig.forward_kinematics(rot, offsets, parents)

        def fk_bwd():
            r = rot.detach().requires_grad_()
            torchrig.forward_kinematics(r, offsets, parents).backward(g_fk)

        def skin_fwd():
            with torch.no_grad():
                torchrig.skin(rest, G, indices, weights)

        def skin_bwd():
            t = G.detach().requires_grad_()
            torchrig.skin(rest, t, indices, weights).backward(g_skin)

        for name, fn in [("fk fwd", fk_fwd), ("fk fwd+bwd", fk_bwd),
                         ("skin fwd", skin_fwd), ("skin fwd+bwd", skin_bwd)]:
            out[f"{name} B={B}"] = median_time(fn, budget_s=budget_s, min_repeats=20)
    out["_abi"] = torchrig.BUILD_INFO.get("abi", "classic")
    out["_isa"] = cpu_isa()
    out["_threads"] = torch.get_num_threads()
    return out


def bridge_overhead(budget_s: float = 0.5, batches=BATCHES, vertices: int = V,
                    threads: int | None = None) -> dict[str, float]:
    """In a stable build: seconds per call of the public op (Python bridge of
    torchrig._stable + C++ kernel) and of the C++ kernel alone
    (``torch.ops.torchrig_kernels``), FK and skin at BATCHES, under inference
    mode (no autograd kernel), so the difference is the bridge's cost."""
    if torchrig.BUILD_INFO.get("abi") != "stable":
        raise RuntimeError("bridge_overhead needs a stable-ABI torchrig")
    if threads:
        torch.set_num_threads(threads)
    out: dict[str, float] = {}
    for B in batches:
        parents, offsets, rest, indices, weights, rot, G = _case(B, vertices)
        for label, ns in (("public", torch.ops.torchrig), ("kernel", torch.ops.torchrig_kernels)):
            with torch.inference_mode():
                out[f"fk {label} B={B}"] = median_time(
                    lambda: ns.forward_kinematics.default(rot, offsets, parents),
                    budget_s=budget_s, min_repeats=50)
                out[f"skin {label} B={B}"] = median_time(
                    lambda: ns.skin.default(rest, G, indices, weights),
                    budget_s=budget_s, min_repeats=20)
    return out


def _child(site: str | None, func: str, **kwargs) -> dict:
    """``func(**kwargs)`` of this module in a fresh Python whose torchrig comes from ``site``
    (None: the installed one); its JSON result."""
    env = dict(os.environ)
    if site:
        env["PYTHONPATH"] = site
    else:
        env.pop("PYTHONPATH", None)
    code = (f"import json, torchrig.bench.abi as b; "
            f"print(json.dumps(b.{func}(**json.loads({json.dumps(kwargs)!r}))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=os.path.expanduser("~"))
    if proc.returncode != 0:
        raise RuntimeError(f"bench child ({site or 'installed torchrig'}) failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(classic_site: str | None, stable_site: str, rounds: int = 3, budget_s: float = 0.3,
            batches=BATCHES, vertices: int = V, threads: int | None = None,
            out=print) -> dict[str, list[dict]]:
    """{"abi": rows {case, classic_us, stable_us, ratio}, "bridge": rows {case, public_us,
    kernel_us, bridge_us}, "builds": {build: {isa, threads}}}; prints the tables through
    ``out``. ``threads``: torch threads in both builds' processes (default: torch's choice)."""
    kw = {"budget_s": budget_s, "batches": list(batches), "vertices": vertices, "threads": threads}
    runs: dict[str, list[dict]] = {"classic": [], "stable": []}
    builds: dict[str, dict] = {}
    for _ in range(rounds):
        for build, site in (("classic", classic_site), ("stable", stable_site)):
            res = _child(site, "measure", **kw)
            if res.pop("_abi") != build:
                raise RuntimeError(f"{site or 'the installed torchrig'} is not a {build} build")
            builds[build] = {"isa": res.pop("_isa"), "threads": res.pop("_threads")}
            runs[build].append(res)
    rows = []
    for case in runs["classic"][0]:
        c = statistics.median(r[case] for r in runs["classic"]) * 1e6
        s = statistics.median(r[case] for r in runs["stable"]) * 1e6
        rows.append({"case": case, "classic_us": c, "stable_us": s, "ratio": s / c})
    out(f"stable-ABI vs classic build, CPU float32, J={J} V={vertices} K={K}, median of {rounds} "
        "alternating rounds (ratio > 1: the stable build is slower)")
    out("  " + "; ".join(f"{b}: {v['threads']} threads, CPU kernels {v['isa']}"
                         for b, v in builds.items()))
    out(f"{'case':<20} {'classic us':>11} {'stable us':>11} {'stable/classic':>15}")
    for r in rows:
        out(f"{r['case']:<20} {r['classic_us']:>11.1f} {r['stable_us']:>11.1f} {r['ratio']:>15.3f}")
    bridge = _child(stable_site, "bridge_overhead", **kw)
    brows = []
    for key in bridge:
        if " public " in key:
            pub, ker = bridge[key] * 1e6, bridge[key.replace(" public ", " kernel ")] * 1e6
            brows.append({"case": key.replace(" public", ""), "public_us": pub, "kernel_us": ker,
                          "bridge_us": pub - ker})
    out("\nstable build, inference mode: public op (Python bridge + kernel) vs kernel alone")
    out(f"{'case':<20} {'public us':>11} {'kernel us':>11} {'bridge us':>11}")
    for r in brows:
        out(f"{r['case']:<20} {r['public_us']:>11.1f} {r['kernel_us']:>11.1f} {r['bridge_us']:>11.1f}")
    return {"abi": rows, "bridge": brows, "builds": builds}
