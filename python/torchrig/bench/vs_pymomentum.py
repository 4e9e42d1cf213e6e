"""Side-by-side CPU benchmark of equal work: torchrig vs Meta's pymomentum (optional).

Same character for both (``torchrig.procedural.humanoid``: 24 joints, 4,416
vertices, top-4 weights), same batch, float32. Every row gives both libraries
the same input and asks for the same output; fwd+bwd asks for the gradient
with respect to that same input (a random cotangent of each side's output):

* ``fk``: joint parameters (7 per joint, pymomentum's: translation, Euler
  angles, log2 scale; the root's translation moves the body) -> global joint
  transforms. torchrig: ``Rig.global_transforms`` (one op,
  ``ops.joint_transforms``) -> ``[B, J, 3, 4]``; pymomentum:
  ``joint_parameters_to_skeleton_state`` -> ``[B, J, 8]`` (t, q, s).
* ``skin``: global joint transforms -> posed vertices, the inverse bind applied
  inside. torchrig: ``Rig.skin_global`` (``G @ inverse_bind``, then ``ops.skin``);
  pymomentum: ``skin_points`` of the skeleton state.
* ``pose``: joint parameters -> posed vertices. torchrig: ``Rig.pose_params``
  (``ops.joint_transforms`` with the inverse bind folded in, then ``ops.skin``);
  pymomentum: ``skin_points(joint_parameters_to_skeleton_state(...))``.

Before timing, both sides' outputs and their gradients (with the same cotangent on
the vertices) are compared in float64 on random joint parameters (translations,
angles and scales all non-zero). Each row is timed in ``rounds`` alternating
rounds (torchrig, then pymomentum); the table shows the median of the rounds and
the range of the per-round ratios.

Needs ``pymomentum-cpu`` (PyPI; Python 3.12/3.13, torch 2.8), so torchrig
built against that torch. ``python -m torchrig.bench.vs_pymomentum --help``.
"""
from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence

import torch

from ..procedural import humanoid
from ..rig import Rig
from .timing import backward_call, forward_call, median_time, set_default_clock

__all__ = ["ROWS", "WORK", "available", "check_agreement", "run"]

# (op, B, pass) rows
ROWS = [(op, B, mode) for B in (1, 64, 512) for op in ("fk", "skin", "pose")
        for mode in ("fwd", "fwd+bwd")]

# what each side's call includes, printed beside the table
WORK = {
    "fk": ("joint params [B,J,7] -> G [B,J,3,4]: ops.joint_transforms (Euler, scale, "
           "translation, FK in C++)",
           "joint params [B,7J] -> skeleton state [B,J,8]: joint_parameters_to_skeleton_state"),
    "skin": ("G [B,J,3,4] -> vertices: G @ inverse_bind (one matmul), ops.skin",
             "skeleton state [B,J,8] -> vertices: skin_points (inverse bind inside)"),
    "pose": ("joint params -> vertices: ops.joint_transforms(inverse_bind=...), ops.skin",
             "joint params -> vertices: joint_parameters_to_skeleton_state, skin_points"),
}


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


def _joint_params(B: int, J: int, dtype: torch.dtype, seed: int = 0,
                  full: bool = False) -> torch.Tensor:
    """Random joint parameters ``[B, 7J]``: angles; with ``full``, translations and scales too."""
    gen = torch.Generator().manual_seed(seed)
    jp = torch.zeros(B, J, 7, dtype=dtype)
    jp[..., 3:6] = 0.4 * torch.randn(B, J, 3, generator=gen, dtype=dtype)
    if full:
        jp[..., :3] = 0.05 * torch.randn(B, J, 3, generator=gen, dtype=dtype)
        jp[..., 6] = 0.1 * torch.randn(B, J, generator=gen, dtype=dtype)
    return jp.reshape(B, 7 * J)


def _calls(rig: Rig, character, B: int, jp: torch.Tensor):
    """{op: ((torchrig fn, its input), (pymomentum fn, its input))}, inputs computed from ``jp``."""
    import pymomentum.diff_geometry as pd

    J = rig.num_joints
    with torch.no_grad():
        G = rig.global_transforms(jp.view(B, J, 7))
        state = pd.joint_parameters_to_skeleton_state(character, jp)
    return {
        "fk": ((lambda p: rig.global_transforms(p.view(B, J, 7)), jp),
               (lambda p: pd.joint_parameters_to_skeleton_state(character, p), jp)),
        "skin": ((rig.skin_global, G), (lambda s: pd.skin_points(character, s), state)),
        "pose": ((lambda p: rig.pose_params(p.view(B, J, 7)), jp),
                 (lambda p: pd.skin_points(character, pd.joint_parameters_to_skeleton_state(
                     character, p)), jp)),
    }


def _state_matrices(state: torch.Tensor) -> torch.Tensor:
    """pymomentum skeleton states ``[..., 8]`` (t, q xyzw, s) as ``[..., 3, 4]`` transforms."""
    from pymomentum import quaternion

    rot = quaternion.to_rotation_matrix(state[..., 3:7]) * state[..., 7:8, None]
    return torch.cat([rot, state[..., :3, None]], dim=-1)


def check_agreement(B: int = 3) -> dict[str, float]:
    """Max |difference| of the two libraries in float64 on random full joint parameters:
    global transforms, vertices from transforms, vertices from joint parameters, and the
    gradient of the vertices w.r.t. the joint parameters (the same cotangent)."""
    rig, character = _characters(torch.float64)
    jp = _joint_params(B, rig.num_joints, torch.float64, seed=1, full=True)
    calls = _calls(rig, character, B, jp)
    (fk_mine, _), (fk_theirs, _) = calls["fk"]
    errs = {"fk": float((fk_mine(jp) - _state_matrices(fk_theirs(jp))).abs().max())}
    (skin_mine, G), (skin_theirs, state) = calls["skin"]
    errs["skin"] = float((skin_mine(G) - skin_theirs(state)).abs().max())
    (pose_mine, _), (pose_theirs, _) = calls["pose"]
    leaf_a, leaf_b = jp.clone().requires_grad_(), jp.clone().requires_grad_()
    va, vb = pose_mine(leaf_a), pose_theirs(leaf_b)
    errs["pose"] = float((va - vb).abs().max())
    cot = torch.randn(va.shape, generator=torch.Generator().manual_seed(2), dtype=va.dtype)
    ga, = torch.autograd.grad(va, leaf_a, cot)
    gb, = torch.autograd.grad(vb, leaf_b, cot)
    errs["pose grad"] = float(((ga - gb).abs().max() / gb.abs().max().clamp_min(1e-30)))
    return errs


def run(*, budget_s: float = 0.5, rows=ROWS, rounds: int = 3, out=print) -> list[dict]:
    """Time every (op, B, pass) row for both libraries in ``rounds`` alternating rounds;
    prints a table, returns its rows (medians over the rounds, and each round's times)."""
    dtype = torch.float32
    errs = check_agreement()
    rig, character = _characters(dtype)
    agree = ", ".join(f"{k} {v:.1e}" for k, v in errs.items())
    out(f"torchrig vs pymomentum (C++, pymomentum.diff_geometry), equal work: humanoid "
        f"J={rig.num_joints} V={rig.rest_vertices.shape[0]} K=4, {dtype}, "
        f"{torch.get_num_threads()} thread(s), {rounds} round(s)")
    out(f"agreement in float64 (max abs; pose grad relative): {agree}")
    for op, (mine, theirs) in WORK.items():
        out(f"  {op:<5} torchrig:   {mine}")
        out(f"  {'':<5} pymomentum: {theirs}")
    out("ratio = pymomentum / torchrig (> 1: torchrig faster): median of the rounds [range]")
    out(f"{'op':<5} {'B':>4} {'pass':<8} {'torchrig ms':>12} {'pymomentum ms':>14} "
        f"{'ratio':>7}  range")
    results = []
    for op, B, mode in rows:
        jp = _joint_params(B, rig.num_joints, dtype)
        (f_mine, x_mine), (f_theirs, x_theirs) = _calls(rig, character, B, jp)[op]
        timed = []
        for f, x in ((f_mine, x_mine), (f_theirs, x_theirs)):
            if mode == "fwd":
                timed.append(forward_call(f, (x,)))
            else:
                with torch.no_grad():
                    shape = f(x).shape
                timed.append(backward_call(f, (x,), torch.randn(shape, dtype=dtype)))
        per_round = []
        for _ in range(rounds):
            per_round.append(tuple(median_time(c, budget_s=budget_s, min_repeats=5)
                                   for c in timed))
        t_mine = statistics.median(t for t, _ in per_round)
        t_theirs = statistics.median(t for _, t in per_round)
        ratios = [b / a for a, b in per_round]
        row = {"op": op, "B": B, "pass": mode, "torchrig_s": t_mine, "pymomentum_s": t_theirs,
               "rounds": [list(r) for r in per_round]}
        results.append(row)
        out(f"{op:<5} {B:>4} {mode:<8} {t_mine * 1e3:>12.3f} {t_theirs * 1e3:>14.3f} "
            f"{statistics.median(ratios):>6.2f}x  [{min(ratios):.2f}-{max(ratios):.2f}]")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m torchrig.bench.vs_pymomentum",
        description="The equal-work table of torchrig vs pymomentum on the CPU (see the module "
                    "docstring: what each row gives both sides). Needs pymomentum-cpu, so "
                    "Python 3.12/3.13 with torch 2.8 and torchrig built against it. Pin the "
                    "process to cores with taskset for steadier figures.")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--clock", choices=["wall", "cpu"], default="cpu",
                   help="time each call by the process's CPU time (default) or wall clock")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds per row (default 3)")
    p.add_argument("--budget", type=float, default=0.3,
                   help="seconds of repeats per measurement (default 0.3)")
    p.add_argument("--batch", type=int, nargs="+", default=[1, 64, 512], metavar="B",
                   help="batch sizes (default 1 64 512)")
    args = p.parse_args(argv)
    if not available():
        print("vs_pymomentum: pymomentum is not importable; it needs pymomentum-cpu "
              "(pip install pymomentum-cpu: Python 3.12/3.13, torch 2.8)")
        return 2
    if args.threads < 1 or args.rounds < 1 or args.budget <= 0:
        p.error("--threads and --rounds must be >= 1, --budget > 0")
    torch.set_num_threads(args.threads)
    if args.clock == "cpu":
        set_default_clock(time.process_time)
    rows = [r for r in ROWS if r[1] in args.batch]
    run(budget_s=args.budget, rows=rows, rounds=args.rounds,
        out=lambda line: print(line, flush=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
