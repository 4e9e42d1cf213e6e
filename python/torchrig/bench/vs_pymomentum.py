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
from .timing import backward_call, default_clock, forward_call, median_time, set_default_clock

__all__ = ["AGREE_TOL", "ROWS", "WORK", "agreement", "available", "measure", "outputs",
           "require_agreement", "run"]

# (op, B, pass) rows
ROWS = [(op, B, mode) for B in (1, 64, 512) for op in ("fk", "skin", "pose")
        for mode in ("fwd", "fwd+bwd")]

# what each side's call includes, printed beside the table
WORK = {
    "fk": ("joint params [B,7J] -> G [B,J,3,4]: Rig.global_transforms = ops.joint_transforms "
           "(Euler, scale, translation, FK in C++)",
           "joint params [B,7J] -> skeleton state [B,J,8]: joint_parameters_to_skeleton_state"),
    "skin": ("G [B,J,3,4] -> vertices: Rig.skin_global = G @ inverse_bind (one matmul), ops.skin",
             "skeleton state [B,J,8] -> vertices: skin_points (inverse bind inside)"),
    "pose": ("joint params [B,7J] -> vertices: Rig.pose_params = ops.joint_transforms(..., "
             "inverse_bind), ops.skin",
             "joint params -> vertices: joint_parameters_to_skeleton_state, skin_points"),
}


def available() -> bool:
    try:
        import pymomentum.diff_geometry  # noqa: F401
        import pymomentum.geometry  # noqa: F401
    except ImportError:
        return False
    return True


def _rig(dtype: torch.dtype, inverse_bind: torch.Tensor | None = None) -> Rig:
    """The humanoid as a torchrig Rig (top-4 weights), every number rounded to float32 first:
    pymomentum's Character holds float32, so in float64 both sides start from the same values
    (``inverse_bind``: pymomentum's, float32 too; default: the rig's own, float64)."""
    c = humanoid()
    f32 = lambda t: t.float().to(dtype)  # noqa: E731
    rig = Rig.from_dense_weights(c.parents, f32(c.offsets), f32(c.vertices),
                                 f32(c.dense_weights), k=4)
    return Rig(rig.parents, rig.offsets, rig.rest_vertices, rig.indices, f32(rig.weights),
               inverse_bind)


def _character(rig: Rig):
    """The same humanoid as a pymomentum Character (7 parameters per joint, identity
    parameter transform, the rig's top-4 weights)."""
    import numpy as np
    import pymomentum.geometry as pg

    c = humanoid()
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
    return pg.Character("humanoid", skeleton, transform).with_mesh_and_skin_weights(mesh, skin)


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


def _torchrig_calls(rig: Rig, jp: torch.Tensor) -> dict:
    """{op: (torchrig fn, its input)}, inputs computed from ``jp [B, 7J]``."""
    with torch.no_grad():
        G = rig.global_transforms(jp)
    return {"fk": (rig.global_transforms, jp), "skin": (rig.skin_global, G),
            "pose": (rig.pose_params, jp)}


def _pymomentum_calls(character, jp: torch.Tensor) -> dict:
    """{op: (pymomentum fn, its input)}, inputs computed from ``jp [B, 7J]``."""
    import pymomentum.diff_geometry as pd

    with torch.no_grad():
        state = pd.joint_parameters_to_skeleton_state(character, jp)
    return {"fk": (lambda p: pd.joint_parameters_to_skeleton_state(character, p), jp),
            "skin": (lambda s: pd.skin_points(character, s), state),
            "pose": (lambda p: pd.skin_points(character, pd.joint_parameters_to_skeleton_state(
                character, p)), jp)}


def _state_matrices(state: torch.Tensor) -> torch.Tensor:
    """pymomentum skeleton states ``[..., 8]`` (t, q xyzw, s) as ``[..., 3, 4]`` transforms."""
    from pymomentum import quaternion

    rot = quaternion.to_rotation_matrix(state[..., 3:7]) * state[..., 7:8, None]
    return torch.cat([rot, state[..., :3, None]], dim=-1)


def outputs(side: str, B: int = 3, inverse_bind: torch.Tensor | None = None) -> dict:
    """One side's float64 results on random full joint parameters (translations, angles and
    scales all non-zero): global transforms as ``[B, J, 3, 4]``, vertices from those
    transforms, vertices from the joint parameters, and the gradient of the vertices w.r.t.
    the joint parameters for a fixed cotangent; pymomentum's also its inverse bind
    (``"inverse_bind"``), which the torchrig side then takes."""
    rig = _rig(torch.float64, inverse_bind)
    jp = _joint_params(B, rig.num_joints, torch.float64, seed=1, full=True)
    extra = {}
    if side == "torchrig":
        calls = _torchrig_calls(rig, jp)
        as_matrices = lambda t: t  # noqa: E731
    else:
        import numpy as np

        character = _character(rig)
        calls = _pymomentum_calls(character, jp)
        as_matrices = _state_matrices
        # its inverse bind, float32: the torchrig side takes it for the same input
        extra["inverse_bind"] = torch.from_numpy(
            np.asarray(character.inverse_bind_pose)[:, :3]).to(torch.float64)
    res = {"fk": as_matrices(calls["fk"][0](jp)), "skin": calls["skin"][0](calls["skin"][1])}
    leaf = jp.clone().requires_grad_()
    res["pose"] = calls["pose"][0](leaf)
    cot = torch.randn(res["pose"].shape, generator=torch.Generator().manual_seed(2),
                      dtype=torch.float64)
    res["pose grad"], = torch.autograd.grad(res["pose"], leaf, cot)
    return {**{k: v.detach() for k, v in res.items()}, **extra}


def agreement(mine: dict, theirs: dict) -> dict[str, float]:
    """Max |difference| of :func:`outputs` of both sides (the gradient's relative to its
    largest entry)."""
    errs = {k: float((mine[k] - theirs[k]).abs().max()) for k in ("fk", "skin", "pose")}
    g = theirs["pose grad"]
    errs["pose grad"] = float((mine["pose grad"] - g).abs().max() / g.abs().max().clamp_min(1e-30))
    return errs


# the most |difference| (float64) the two sides may show before the table is refused
AGREE_TOL = 1e-9


def require_agreement(errs: dict[str, float], tol: float = AGREE_TOL) -> None:
    """Raise if the two sides do not compute the same thing (then timing them means nothing)."""
    bad = {k: v for k, v in errs.items() if not v <= tol}  # NaN fails too
    if bad:
        raise RuntimeError("torchrig and pymomentum disagree in float64 ("
                           + ", ".join(f"{k} {v:.1e}" for k, v in bad.items())
                           + f" > {tol:.0e}): the rows would not time equal work; not timing")


def measure(side: str, rows, budget_s: float) -> list[float]:
    """Seconds per call of each (op, B, pass) row for one side, float32."""
    rig = _rig(torch.float32)
    character = _character(rig) if side == "pymomentum" else None
    times = []
    for op, B, mode in rows:
        jp = _joint_params(B, rig.num_joints, torch.float32)
        calls = (_torchrig_calls(rig, jp) if side == "torchrig"
                 else _pymomentum_calls(character, jp))
        f, x = calls[op]
        if mode == "fwd":
            call = forward_call(f, (x,))
        else:
            with torch.no_grad():
                shape = f(x).shape
            call = backward_call(f, (x,), torch.randn(shape, generator=torch.Generator().manual_seed(3)))
        times.append(median_time(call, budget_s=budget_s, min_repeats=5))
    return times


def _child_side(python: str, site: str | None, what: str, rows, budget_s: float):
    """Run ``--side pymomentum`` (``what``: times or outputs) in ``python`` (a torch-2.8
    environment with pymomentum), torchrig from ``site``; returns its result."""
    import os
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.pt")
        env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}
        if site:
            env["PYTHONPATH"] = site
        cmd = [python, "-m", "torchrig.bench.vs_pymomentum", "--side", "pymomentum",
               "--emit", what, "--out", out, "--threads", str(torch.get_num_threads()),
               "--clock", "cpu" if default_clock() is time.process_time else "wall",
               "--budget", str(budget_s), "--rows", ",".join(f"{o}:{b}:{m}" for o, b, m in rows)]
        subprocess.run(cmd, check=True, env=env, timeout=1800)
        return torch.load(out)


def run(*, budget_s: float = 0.5, rows=ROWS, rounds: int = 3, out=print,
        pymomentum_python: str | None = None, pymomentum_site: str | None = None) -> list[dict]:
    """Time every (op, B, pass) row for both libraries in ``rounds`` alternating rounds;
    prints a table, returns its rows (medians over the rounds, and each round's times).

    pymomentum runs in this process when importable; otherwise in ``pymomentum_python``
    (a torch-2.8 environment with pymomentum-cpu; torchrig there from ``pymomentum_site``),
    one child process per round, alternating with this process's torchrig rounds."""
    rows = list(rows)
    if pymomentum_python is None:
        theirs_out = outputs("pymomentum")
        theirs_times = lambda: measure("pymomentum", rows, budget_s)  # noqa: E731
        where = "same process"
    else:
        theirs_out = _child_side(pymomentum_python, pymomentum_site, "outputs", rows, budget_s)
        theirs_times = lambda: _child_side(pymomentum_python, pymomentum_site, "times", rows,  # noqa: E731
                                           budget_s)
        where = f"child process {pymomentum_python}"
    errs = agreement(outputs("torchrig", inverse_bind=theirs_out["inverse_bind"]), theirs_out)
    require_agreement(errs)
    rig = _rig(torch.float32)
    from .. import BUILD_INFO
    out(f"torchrig ({BUILD_INFO.get('abi', 'classic')} build, torch {torch.__version__}) vs "
        f"pymomentum (C++, pymomentum.diff_geometry; {where}), equal work: humanoid "
        f"J={rig.num_joints} V={rig.rest_vertices.shape[0]} K=4, float32, "
        f"{torch.get_num_threads()} thread(s), {rounds} alternating round(s)")
    out("agreement in float64 (max abs; pose grad relative): "
        + ", ".join(f"{k} {v:.1e}" for k, v in errs.items()))
    for op, (mine, theirs) in WORK.items():
        out(f"  {op:<5} torchrig:   {mine}")
        out(f"  {'':<5} pymomentum: {theirs}")
    per_round = []
    for _ in range(rounds):
        per_round.append((measure("torchrig", rows, budget_s), list(theirs_times())))
    out("ratio = pymomentum / torchrig (> 1: torchrig faster): median of the rounds [range]")
    out(f"{'op':<5} {'B':>4} {'pass':<8} {'torchrig ms':>12} {'pymomentum ms':>14} "
        f"{'ratio':>7}  range")
    results = []
    for i, (op, B, mode) in enumerate(rows):
        mine = [r[0][i] for r in per_round]
        theirs = [r[1][i] for r in per_round]
        ratios = [b / a for a, b in zip(mine, theirs)]
        t_mine, t_theirs = statistics.median(mine), statistics.median(theirs)
        results.append({"op": op, "B": B, "pass": mode, "torchrig_s": t_mine,
                        "pymomentum_s": t_theirs, "ratios": ratios})
        out(f"{op:<5} {B:>4} {mode:<8} {t_mine * 1e3:>12.3f} {t_theirs * 1e3:>14.3f} "
            f"{statistics.median(ratios):>6.2f}x  [{min(ratios):.2f}-{max(ratios):.2f}]")
    return results


def _parse_rows(text: str):
    rows = []
    for item in text.split(","):
        op, b, mode = item.split(":")
        rows.append((op, int(b), mode))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m torchrig.bench.vs_pymomentum",
        description="The equal-work table of torchrig vs pymomentum on the CPU (see the module "
                    "docstring: what each row gives both sides). pymomentum-cpu needs Python "
                    "3.12/3.13 with torch 2.8: run this there with torchrig built against that "
                    "torch, or run it with another torchrig (the stable-ABI build, torch >= "
                    "2.10) and --pymomentum-python naming that environment's python. Pin the "
                    "process to cores with taskset for steadier figures.")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--clock", choices=["wall", "cpu"], default="cpu",
                   help="time each call by the process's CPU time (default) or wall clock")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    p.add_argument("--budget", type=float, default=0.3,
                   help="seconds of repeats per measurement (default 0.3)")
    p.add_argument("--batch", type=int, nargs="+", default=[1, 64, 512], metavar="B",
                   help="batch sizes (default 1 64 512)")
    p.add_argument("--pymomentum-python", metavar="PYTHON",
                   help="time pymomentum in child processes of this python (a torch-2.8 "
                        "environment with pymomentum-cpu) instead of in this process")
    p.add_argument("--pymomentum-site", metavar="DIR",
                   help="with --pymomentum-python: a directory holding a torchrig built for "
                        "that environment's torch (put on its PYTHONPATH)")
    # the child side of --pymomentum-python
    p.add_argument("--side", choices=["pymomentum"], help=argparse.SUPPRESS)
    p.add_argument("--emit", choices=["times", "outputs"], help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--rows", type=_parse_rows, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.threads < 1 or args.rounds < 1 or args.budget <= 0:
        p.error("--threads and --rounds must be >= 1, --budget > 0")
    torch.set_num_threads(args.threads)
    if args.clock == "cpu":
        set_default_clock(time.process_time)
    if args.side:
        result = (outputs("pymomentum") if args.emit == "outputs"
                  else measure("pymomentum", args.rows, args.budget))
        torch.save(result, args.out)
        return 0
    if args.pymomentum_python is None and not available():
        print("vs_pymomentum: pymomentum is not importable here; it needs pymomentum-cpu "
              "(Python 3.12/3.13, torch 2.8). Run this in that environment, or pass "
              "--pymomentum-python PYTHON of one (and --pymomentum-site DIR).")
        return 2
    rows = [r for r in ROWS if r[1] in args.batch]
    run(budget_s=args.budget, rows=rows, rounds=args.rounds,
        out=lambda line: print(line, flush=True), pymomentum_python=args.pymomentum_python,
        pymomentum_site=args.pymomentum_site)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
