"""Demo: pose a generated character through an animation, check, time, draw.

Builds the procedural 24-joint humanoid (torchrig.procedural), makes a sparse
4-influence rig from its dense weights, poses it through a walk-like cycle
with torchrig and with the smplx-style reference, checks they agree, prints
timings, and writes a PNG of the rest mesh and a few posed frames.
"""
from __future__ import annotations

import argparse
import math
import pathlib
import time

import torch

from . import reference
from .procedural import Character, humanoid
from .rig import Rig, compose
from .rotations import axis_angle_to_matrix
from .timing import median_time

__all__ = ["add_arguments", "main", "walk_cycle"]

# joint -> (axis, amplitude rad, phase rad, offset rad)
_WALK = {
    "l_hip": ((1, 0, 0), 0.5, 0.0, 0.0), "r_hip": ((1, 0, 0), 0.5, math.pi, 0.0),
    "l_knee": ((1, 0, 0), 0.45, -1.2, 0.45), "r_knee": ((1, 0, 0), 0.45, math.pi - 1.2, 0.45),
    "l_shoulder": ((0, 0, 1), 0.15, 0.0, -1.2), "r_shoulder": ((0, 0, 1), 0.15, 0.0, 1.2),
    "l_elbow": ((0, 1, 0), 0.35, math.pi, 0.4), "r_elbow": ((0, 1, 0), 0.35, 0.0, -0.4),
    "spine2": ((0, 1, 0), 0.15, 0.0, 0.0), "head": ((0, 1, 0), 0.2, math.pi / 2, 0.0),
}


def walk_cycle(character: Character, frames: int) -> torch.Tensor:
    """Local joint rotations ``[frames, J, 3, 3]`` of a looping walk-like cycle."""
    t = torch.linspace(0, 2 * math.pi, frames + 1)[:-1]
    aa = torch.zeros(frames, len(character.names), 3)
    for name, (axis, amp, phase, offset) in _WALK.items():
        j = character.names.index(name)
        aa[:, j] = (offset + amp * torch.sin(t + phase))[:, None] * torch.tensor(axis, dtype=torch.float32)
    return axis_angle_to_matrix(aa)


def _reference_pose(rig: Rig, rotations: torch.Tensor) -> torch.Tensor:
    G = reference.forward_kinematics(rotations, rig.offsets, rig.parents)
    return reference.skin(rig.rest_vertices, compose(G, rig.inverse_bind), rig.indices, rig.weights)


def _draw(path: pathlib.Path, character: Character, posed: torch.Tensor, frames: list[int]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    meshes = [("rest", character.vertices)] + [(f"frame {f}", posed[f]) for f in frames]
    fig = plt.figure(figsize=(4 * len(meshes), 5))
    tris = character.faces.numpy()
    for i, (title, verts) in enumerate(meshes):
        ax = fig.add_subplot(1, len(meshes), i + 1, projection="3d")
        v = verts.numpy()
        # y is up in the rig; matplotlib's z is up.
        ax.plot_trisurf(v[:, 0], v[:, 2], v[:, 1], triangles=tris, color="#8fb3d9",
                        edgecolor="none", linewidth=0, shade=True)
        ax.set_title(title)
        ax.set_xlim(-0.9, 0.9), ax.set_ylim(-0.9, 0.9), ax.set_zlim(0.0, 1.8)
        ax.set_box_aspect((1, 1, 1))
        ax.view_init(elev=10, azim=-60)
        ax.set_axis_off()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frames", type=int, default=120, help="frames in the animation (the batch size)")
    p.add_argument("--k", type=int, default=4, help="influences kept per vertex")
    p.add_argument("--out", type=pathlib.Path, default=pathlib.Path("demo_out/torchrig_demo.png"),
                   help="where to write the picture")
    p.add_argument("--no-plot", action="store_true", help="skip the picture")


def main(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    character = humanoid()
    rig = Rig.from_dense_weights(character.parents, character.offsets, character.vertices,
                                 character.dense_weights, k=args.k)
    rotations = walk_cycle(character, args.frames)
    print(f"[demo] character: {rig.num_joints} joints, {character.vertices.shape[0]} vertices, "
          f"{character.faces.shape[0]} faces, k={args.k}; {args.frames} frames "
          f"(built in {time.perf_counter() - t0:.2f}s)")
    posed = rig.pose(rotations)
    expected = _reference_pose(rig, rotations)
    err = (posed - expected).abs().max().item()
    ok = err < 1e-4
    print(f"[demo] max |torchrig - reference| = {err:.2e} m  ({'OK' if ok else 'MISMATCH'})")
    t_rig = median_time(lambda: rig.pose(rotations))
    t_ref = median_time(lambda: _reference_pose(rig, rotations))
    print(f"[demo] pose {args.frames} frames: torchrig {t_rig * 1e3:.2f} ms, reference "
          f"{t_ref * 1e3:.2f} ms -> {t_ref / t_rig:.1f}x")
    if not args.no_plot:
        frames = [0, args.frames // 4, args.frames // 2]
        _draw(args.out, character, posed, frames)
        print(f"[demo] wrote {args.out} (rest + frames {frames})")
    print(f"[demo] done in {time.perf_counter() - t0:.1f}s")
    return 0 if ok else 1
