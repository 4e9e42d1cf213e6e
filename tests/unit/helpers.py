"""Shared test inputs: one sample_inputs() per op, used by every test file."""
from __future__ import annotations

import pytest
import torch

from torchrig.procedural import random_rig
from torchrig.rotations import axis_angle_to_matrix

# Device-parametrised tests: CPU always, CUDA as a `gpu` case (skipped without a device).
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


def fk_inputs(B=3, J=7, *, batched_offsets=False, dtype=torch.float64, device="cpu", seed=0,
              requires_grad=False):
    """(rotations [B,J,3,3], offsets [J,3]|[B,J,3], parents [J])."""
    parents, offsets, _, _, _ = random_rig(J, 1, 1, batch_offsets=B if batched_offsets else None,
                                           dtype=dtype, seed=seed)
    g = torch.Generator().manual_seed(seed + 1)
    rotations = axis_angle_to_matrix(torch.randn(B, J, 3, generator=g, dtype=dtype))
    rotations, offsets = rotations.to(device), offsets.to(device)
    if requires_grad:
        rotations.requires_grad_()
        offsets.requires_grad_()
    return rotations, offsets, parents.to(device)


def skin_inputs(B=3, J=7, V=40, K=4, *, batched_rest=False, dtype=torch.float64, device="cpu",
                seed=0, requires_grad=False):
    """(rest [V,3]|[B,V,3], transforms [B,J,3,4], indices [V,K], weights [V,K])."""
    _, _, rest, indices, weights = random_rig(J, V, K, dtype=dtype, seed=seed)
    g = torch.Generator().manual_seed(seed + 2)
    if batched_rest:
        rest = torch.randn(B, V, 3, generator=g, dtype=dtype)
    transforms = torch.randn(B, J, 3, 4, generator=g, dtype=dtype)
    out = [t.to(device) for t in (rest, transforms, indices, weights)]
    if requires_grad:
        for i in (0, 1, 3):
            out[i].requires_grad_()
    return tuple(out)


def sample_fk(device="cpu", dtype=torch.float64, requires_grad=False):
    """A few FK argument tuples covering shared/batched offsets, B=0 and B=1."""
    return [fk_inputs(3, 7, dtype=dtype, device=device, requires_grad=requires_grad),
            fk_inputs(2, 5, batched_offsets=True, dtype=dtype, device=device, seed=3,
                      requires_grad=requires_grad),
            fk_inputs(1, 1, dtype=dtype, device=device, seed=5, requires_grad=requires_grad),
            fk_inputs(0, 4, dtype=dtype, device=device, seed=7, requires_grad=requires_grad)]


def sample_skin(device="cpu", dtype=torch.float64, requires_grad=False):
    """A few skin argument tuples: shared/batched rest, K from 1 to 8, B=0."""
    kw = dict(dtype=dtype, device=device, requires_grad=requires_grad)
    return [skin_inputs(3, 7, 40, 4, **kw),
            skin_inputs(2, 5, 30, 1, batched_rest=True, seed=1, **kw),
            skin_inputs(2, 9, 25, 8, seed=2, **kw),
            skin_inputs(0, 4, 10, 2, seed=3, **kw)]
