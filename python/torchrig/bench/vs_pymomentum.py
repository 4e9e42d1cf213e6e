"""Side-by-side CPU benchmark: torchrig vs Meta's pymomentum (optional dependency).

Same character for both (``torchrig.procedural.humanoid``: 24 joints, 4,416
vertices, top-4 weights), same batch, float32, median ms of one run. pymomentum
poses a character from joint parameters (7 per joint: translation, Euler
angles, scale) with its C++ FK and skinning (``pymomentum.diff_geometry``, torch
autograd); torchrig from rotation matrices. Gradients: w.r.t. the joint
parameters / rotations (FK, pose) and the joint states / transforms (skin).
Before timing, both are checked to pose the same vertices in float64.

Needs ``pymomentum-cpu`` (PyPI; Python 3.12/3.13, torch 2.8), so torchrig
built against that torch.
"""
from __future__ import annotations

import torch

from .. import ops
from ..procedural import humanoid
from ..rig import Rig, compose
from .timing import backward_call, forward_call, median_time

__all__ = ["ROWS", "available", "run"]

# (op, B, pass) rows of issue 18's table
ROWS = [("fk", 1, "fwd"), ("fk", 1, "fwd+bwd"), ("skin", 1, "fwd"), ("skin", 1, "fwd+bwd"),
        ("pose", 1, "fwd+bwd"), ("skin", 64, "fwd"), ("pose", 64, "fwd+bwd"),
        ("skin", 512, "fwd"), ("skin", 512, "fwd+bwd"), ("pose", 512, "fwd+bwd")]


def available() -> bool:
    try:
        import pymomentum.diff_geometry  # noqa: F401
        import pymomentum.geometry  # noqa: F401
    except ImportError:
        return False
    return True


def _characters(dtype: torch.dtype):
    """(torchrig Rig, pymomentum Character) of the humanoid."""
    import numpy as np
    import pymomentum.geometry as pg

    c = humanoid()
    rig = Rig.from_dense_weights(c.parents, c.offsets.to(dtype), c.vertices.to(dtype),
                                 c.dense_weights.to(dtype), k=4)
    J = rig.num_joints
    joints = [pg.Joint(name, int(p), np.array([0, 0, 0, 1], dtype=np.float32),  # identity (x,y,z,w)
                       c.offsets[j].numpy().astype(np.float32))
              for j, (name, p) in enumerate(zip(c.names, c.parents.tolist()))]
    skeleton = pg.Skeleton(joints)
    names = [f"{n}_{a}" for n in c.names for a in ("tx", "ty", "tz", "rx", "ry", "rz", "sc")]
    transform = pg.ParameterTransform(names, skeleton, np.eye(7 * J, dtype=np.float32))
    mesh = pg.Mesh(c.vertices.numpy().astype(np.float32), c.faces.numpy().astype(np.int32))
    skin = pg.SkinWeights(rig.indices.numpy().astype(np.int32),
                          rig.weights.float().numpy().astype(np.float32))
    character = pg.Character("humanoid", skeleton, transform).with_mesh_and_skin_weights(mesh, skin)
    return rig, character


def _inputs(rig: Rig, character, B: int, dtype: torch.dtype, seed: int = 0):
    """Random poses: pymomentum joint parameters [B, 7J] and the equal rotations [B, J, 3, 3]."""
    import pymomentum.diff_geometry as pd
    from pymomentum import quaternion

    J = rig.num_joints
    gen = torch.Generator().manual_seed(seed)
    jp = torch.zeros(B, J, 7, dtype=dtype)
    jp[..., 3:6] = 0.4 * torch.randn(B, J, 3, generator=gen, dtype=dtype)
    jp = jp.reshape(B, 7 * J)
    local = pd.joint_parameters_to_local_skeleton_state(character, jp)  # [B, J, 8]: t, q(xyzw), s
    rot = quaternion.to_rotation_matrix(local[..., 3:7]).contiguous()
    return jp, rot


def check_agreement(B: int = 3) -> float:
    """Max |vertex difference| of the two libraries posing the same batch, float64."""
    import pymomentum.diff_geometry as pd

    rig, character = _characters(torch.float64)
    jp, rot = _inputs(rig, character, B, torch.float64, seed=1)
    theirs = pd.skin_points(character, pd.joint_parameters_to_skeleton_state(character, jp))
    return float((rig.pose(rot) - theirs).abs().max())


def run(*, budget_s: float = 0.5, rows=ROWS, out=print) -> list[dict]:
    """Time every (op, B, pass) row for both libraries; prints a table, returns its rows."""
    import pymomentum.diff_geometry as pd

    dtype = torch.float32
    err = check_agreement()
    rig, character = _characters(dtype)
    out(f"torchrig vs pymomentum (C++, pymomentum.diff_geometry), humanoid J={rig.num_joints} "
        f"V={rig.rest_vertices.shape[0]} K=4, {dtype}; posed vertices agree to {err:.1e} "
        "in float64; ratio = pymomentum / torchrig (> 1: torchrig faster)")
    header = f"{'op':<5} {'B':>4} {'pass':<8} {'torchrig ms':>12} {'pymomentum ms':>14} {'ratio':>7}"
    out(header)
    results = []
    for op, B, mode in rows:
        jp, rot = _inputs(rig, character, B, dtype)
        with torch.no_grad():
            state = pd.joint_parameters_to_skeleton_state(character, jp)  # [B, J, 8]
            G = ops.forward_kinematics(rot, rig.offsets, rig.parents)
            T = compose(G, rig.inverse_bind).contiguous()
        if op == "fk":
            mine = (lambda r: ops.forward_kinematics(r, rig.offsets, rig.parents), (rot,))
            theirs = (lambda p: pd.joint_parameters_to_skeleton_state(character, p), (jp,))
            shapes = (G.shape, state.shape)
        elif op == "skin":
            mine = (lambda t: ops.skin(rig.rest_vertices, t, rig.indices, rig.weights), (T,))
            theirs = (lambda s: pd.skin_points(character, s), (state,))
            shapes = ((B, rig.rest_vertices.shape[0], 3),) * 2
        else:
            mine = (rig.pose, (rot,))
            theirs = (lambda p: pd.skin_points(character, pd.joint_parameters_to_skeleton_state(
                character, p)), (jp,))
            shapes = ((B, rig.rest_vertices.shape[0], 3),) * 2
        times = []
        for (f, args), shape in zip((mine, theirs), shapes):
            call = (forward_call(f, args) if mode == "fwd"
                    else backward_call(f, args, torch.randn(shape, dtype=dtype)))
            times.append(median_time(call, budget_s=budget_s, min_repeats=5))
        row = {"op": op, "B": B, "pass": mode, "torchrig_s": times[0], "pymomentum_s": times[1]}
        results.append(row)
        out(f"{op:<5} {B:>4} {mode:<8} {times[0] * 1e3:>12.3f} {times[1] * 1e3:>14.3f} "
            f"{times[1] / times[0]:>6.2f}x")
    return results
