"""bench/vs_pymomentum.py without pymomentum: the torchrig side of the equal-work rows
computes what the pure-torch reference does, and the agreement gate refuses to time rows
whose two sides disagree."""
from __future__ import annotations

import pytest
import torch

from torchrig import reference
from torchrig.bench import vs_pymomentum as vs


def test_torchrig_side_outputs_match_the_reference():
    rig = vs._rig(torch.float64)
    out = vs.outputs("torchrig")
    jp = vs._joint_params(3, rig.num_joints, torch.float64, seed=1, full=True)
    G = reference.joint_transforms(jp, rig.offsets, rig.parents)
    torch.testing.assert_close(out["fk"], G)
    T = reference.joint_transforms(jp, rig.offsets, rig.parents, rig.inverse_bind)
    want = reference.skin(rig.rest_vertices, T, rig.indices, rig.weights)
    torch.testing.assert_close(out["skin"], want)
    torch.testing.assert_close(out["pose"], want)
    assert out["pose grad"].shape == jp.shape


def test_rows_time_the_same_input_on_both_sides():
    rig = vs._rig(torch.float32)
    jp = vs._joint_params(2, rig.num_joints, torch.float32)
    calls = vs._torchrig_calls(rig, jp)
    assert calls["fk"][1] is jp and calls["pose"][1] is jp  # pymomentum's [B, 7J], as it is
    assert calls["skin"][1].shape == (2, rig.num_joints, 3, 4)


def test_agreement_gate():
    ok = {"fk": 1e-15, "skin": 2e-15, "pose": 2e-15, "pose grad": 3e-15}
    vs.require_agreement(ok)
    with pytest.raises(RuntimeError, match="disagree in float64 .skin 4.0e-08"):
        vs.require_agreement({**ok, "skin": 4e-8})
    with pytest.raises(RuntimeError, match="pose grad nan"):
        vs.require_agreement({**ok, "pose grad": float("nan")})
    mine = {k: torch.zeros(2) for k in ("fk", "skin", "pose", "pose grad")}
    theirs = {**mine, "skin": torch.tensor([0.0, 1e-3]), "pose grad": torch.tensor([2.0, 0.0])}
    errs = vs.agreement(mine, theirs)
    assert errs["skin"] == pytest.approx(1e-3) and errs["pose grad"] == pytest.approx(1.0)
