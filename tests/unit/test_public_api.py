"""`import torchrig` shows what __all__ says, and nothing it imported for itself (issue 32:
`dir(torchrig)` listed `annotations` and `sys`)."""
from __future__ import annotations

import types

import torch

import torchrig


def test_public_names_are_all_and_the_submodules():
    public = {n for n in dir(torchrig) if not n.startswith("_")}
    modules = {n for n in public if isinstance(getattr(torchrig, n), types.ModuleType)
               and getattr(torchrig, n).__name__ == f"torchrig.{n}"}
    assert public - modules == set(torchrig.__all__) - modules, sorted(public ^ set(torchrig.__all__))
    assert all(hasattr(torchrig, n) for n in torchrig.__all__)


def test_compose_poses_like_the_rig():
    """README's ops example: skin(rest, compose(G, inverse_bind), ...) is Rig.pose."""
    from torchrig.procedural import random_rig
    from torchrig.rotations import axis_angle_to_matrix

    parents, offsets, rest, idx, w = random_rig(6, 30, 3, dtype=torch.float64, seed=3)
    rig = torchrig.Rig(parents, offsets, rest, idx, w)
    rotations = axis_angle_to_matrix(torch.randn(2, 6, 3, dtype=torch.float64,
                                                 generator=torch.Generator().manual_seed(0)))
    G = torchrig.forward_kinematics(rotations, offsets, parents)
    skinning = torchrig.compose(G, rig.inverse_bind)
    assert skinning.shape == (2, 6, 3, 4)
    torch.testing.assert_close(torchrig.skin(rest, skinning, idx, w), rig.pose(rotations))
