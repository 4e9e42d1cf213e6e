"""Stable-ABI vs classic build: per-call time of the ops at B=1 and B=512.

Both builds register ``torch.ops.torchrig``, so they cannot share a process:
:func:`compare` runs :func:`measure` in one child process per build (the
child's ``PYTHONPATH`` picks the build), alternating the builds over several
rounds so that machine load hits both alike, and reports the median time of
each case and the stable/classic ratio. ``python -m torchrig bench`` can call
:func:`compare` with the two installations (e.g. ``--stable-site DIR``).

    python -m torchrig.bench_abi --stable-site /tmp/stable --classic-site ''
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

__all__ = ["bridge_overhead", "compare", "measure"]

J, K, V = 55, 4, 6890  # SMPL-X-like joints, SMPL's vertex count
BATCHES = (1, 512)


def measure(budget_s: float = 0.3) -> dict[str, float]:
    """Median seconds per call of FK and skin, forward and forward+backward, at BATCHES
    (float32, CPU), with whichever torchrig build this process imports."""
    import torch

    import torchrig
    from torchrig.procedural import random_rig, wave_animation
    from torchrig.timing import median_time

    out: dict[str, float] = {}
    for B in BATCHES:
        parents, offsets, rest, indices, weights = random_rig(J, V, K, seed=B)
        rot = wave_animation(B, J).contiguous()
        G = torchrig.forward_kinematics(rot, offsets, parents)
        g_fk, g_skin = torch.randn(B, J, 3, 4), torch.randn(B, V, 3)

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
    return out


def bridge_overhead(budget_s: float = 0.5) -> dict[str, float]:
    """In a stable build: seconds per call of the public op (Python bridge of
    torchrig._stable + C++ kernel) and of the C++ kernel alone
    (``torch.ops.torchrig_kernels``), FK and skin at BATCHES, under inference
    mode (no autograd kernel), so the difference is the bridge's cost."""
    import torch

    import torchrig
    from torchrig.procedural import random_rig, wave_animation
    from torchrig.timing import median_time

    if torchrig.BUILD_INFO.get("abi") != "stable":
        raise RuntimeError("bridge_overhead needs a stable-ABI torchrig")
    out: dict[str, float] = {}
    for B in BATCHES:
        parents, offsets, rest, indices, weights = random_rig(J, V, K, seed=B)
        rot = wave_animation(B, J).contiguous()
        G = torchrig.forward_kinematics(rot, offsets, parents)
        for label, ns in (("public", torch.ops.torchrig), ("kernel", torch.ops.torchrig_kernels)):
            with torch.inference_mode():
                out[f"fk {label} B={B}"] = median_time(
                    lambda: ns.forward_kinematics.default(rot, offsets, parents),
                    budget_s=budget_s, min_repeats=50)
                out[f"skin {label} B={B}"] = median_time(
                    lambda: ns.skin.default(rest, G, indices, weights),
                    budget_s=budget_s, min_repeats=20)
    return out


def _child(site: str | None, budget_s: float) -> dict:
    env = dict(os.environ)
    if site:
        env["PYTHONPATH"] = site
    else:
        env.pop("PYTHONPATH", None)
    code = f"import json, torchrig.bench_abi as b; print(json.dumps(b.measure({budget_s!r})))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=os.path.expanduser("~"), check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(classic_site: str | None, stable_site: str, rounds: int = 3,
            budget_s: float = 0.3) -> list[dict]:
    """Rows {case, classic_us, stable_us, ratio}; prints them as a table."""
    runs: dict[str, list[dict]] = {"classic": [], "stable": []}
    for _ in range(rounds):
        for build, site in (("classic", classic_site), ("stable", stable_site)):
            res = _child(site, budget_s)
            if res.pop("_abi") != build:
                raise RuntimeError(f"{site or 'the installed torchrig'} is not a {build} build")
            runs[build].append(res)
    rows = []
    for case in runs["classic"][0]:
        c = statistics.median(r[case] for r in runs["classic"]) * 1e6
        s = statistics.median(r[case] for r in runs["stable"]) * 1e6
        rows.append({"case": case, "classic_us": c, "stable_us": s, "ratio": s / c})
    print(f"{'case':<20} {'classic us':>11} {'stable us':>11} {'stable/classic':>15}")
    for r in rows:
        print(f"{r['case']:<20} {r['classic_us']:>11.1f} {r['stable_us']:>11.1f} {r['ratio']:>15.3f}")
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stable-site", required=True, help="directory holding a stable-ABI torchrig")
    p.add_argument("--classic-site", default="",
                   help="directory holding a classic torchrig (default: the installed one)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--budget", type=float, default=0.3, help="seconds per case and round")
    args = p.parse_args()
    compare(args.classic_site or None, args.stable_site, args.rounds, args.budget)


if __name__ == "__main__":
    main()
