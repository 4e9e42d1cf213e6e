"""The batch-in-lanes CPU skinning kernels (csrc/kernels/skin_lanes.h, csrc/launch/cpu_lanes*), for every
instruction set this CPU runs: values and gradients against torchrig.reference
at batch sizes around the lane counts (full blocks, tails, several chunks)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

_CHECK = textwrap.dedent("""
    import sys, torch, torchrig, torchrig.info
    from torchrig import ops, reference
    assert torchrig.info.cpu_isa() == sys.argv[1], torchrig.info.cpu_isa()
    g = torch.Generator().manual_seed(0)
    for dtype, tol in ((torch.float32, 2e-5), (torch.float64, 1e-12)):
        for B in (1, 3, 4, 7, 8, 9, 16, 17, 31, 40):
            for batched in (False, True):
                J, V, K = 11, 1300, 3
                rest = torch.randn(*((B,) if batched else ()), V, 3, generator=g, dtype=dtype)
                tf = torch.randn(B, J, 3, 4, generator=g, dtype=dtype, requires_grad=True)
                idx = torch.randint(0, J, (V, K), generator=g)
                w = torch.rand(V, K, generator=g, dtype=dtype)
                y, yr = ops.skin(rest, tf, idx, w), reference.skin(rest, tf, idx, w)
                gy = torch.randn(y.shape, generator=g, dtype=dtype)
                (gt,), (gtr,) = torch.autograd.grad(y, tf, gy), torch.autograd.grad(yr, tf, gy)
                scale = 1 + yr.abs().max().item()
                assert (y - yr).abs().max().item() <= tol * scale, (dtype, B, batched)
                scale = 1 + gtr.abs().max().item()
                assert (gt - gtr).abs().max().item() <= tol * scale * 10, (dtype, B, batched)
    print("ok")
""")


def _supported() -> list[str]:
    import torchrig.info
    best = torchrig.info.cpu_isa()
    order = ["baseline", "avx2", "avx512"]
    return order[: order.index(best) + 1] if best in order else ["baseline"]


@pytest.mark.parametrize("isa", ["baseline", "avx2", "avx512"])
def test_lane_kernels_match_the_reference(isa):
    if isa not in _supported():
        pytest.skip(f"this CPU does not run {isa}")
    env = {**os.environ, "TORCHRIG_CPU_ISA": isa}
    proc = subprocess.run([sys.executable, "-c", _CHECK, isa], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "ok"
