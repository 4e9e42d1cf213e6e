"""Demo: pose a generated character through an animation, check, time, draw.

Builds the procedural 24-joint humanoid (torchrig.procedural), makes a sparse
4-influence rig from its dense weights, poses it through a walk-like cycle
with torchrig and with the smplx-style reference, checks they agree, prints
timings, and writes a PNG of the rest mesh and a few posed frames.
"""
from __future__ import annotations

import argparse
import math
import os
import pathlib
import sys
import time

import torch

from .. import reference
from ..procedural import Character, humanoid
from ..rig import Rig, compose
from ..rotations import axis_angle_to_matrix
from .args import check_memory, positive
from .timing import median_time

__all__ = ["add_arguments", "main", "walk_cycle"]

MAX_FRAMES = 10_000_000
# float32 bytes per vertex and frame the demo holds at once: torchrig's pose and the
# reference's ([B, V, 16] blended transforms, homogeneous points, outputs), generously
_BYTES_PER_VERTEX_FRAME = 40 * 4

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


def _can_draw() -> bool:
    """Whether matplotlib imports (asked before the work, not after it)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


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


_PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".pdf", ".svg")


def _device(text: str) -> torch.device:
    """argparse type: ``cpu``, ``cuda`` or ``cuda:N``, present on this machine."""
    try:
        device = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a device; pass cpu, cuda or cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise argparse.ArgumentTypeError(f"torchrig runs on cpu or cuda, got {text!r}")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError(f"{text!r} asked for, but torch.cuda.is_available() is "
                                         "False on this machine; pass --device cpu")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise argparse.ArgumentTypeError(f"{text!r}: this machine has {torch.cuda.device_count()} "
                                         "CUDA device(s); pass cuda:0 .. cuda:N-1")
    return device


def picture_path(text: str) -> pathlib.Path:
    """argparse type for ``--out``: the file the picture goes to, checked writable now.

    A folder (existing, or written with a trailing slash) gets
    ``torchrig_demo.png`` inside it; a name without suffix gets ``.png``.
    Raises ``argparse.ArgumentTypeError`` before any work is done if the
    file could not be written.
    """
    path = pathlib.Path(text)
    if text.endswith(("/", os.sep)) or path.is_dir():
        path = path / "torchrig_demo.png"
    if not path.suffix:
        path = path.with_suffix(".png")
    if path.suffix.lower() not in _PICTURE_SUFFIXES:
        raise argparse.ArgumentTypeError(
            f"{str(path)!r}: the picture format is taken from the suffix; use one of "
            f"{', '.join(_PICTURE_SUFFIXES)}")
    folder = path.parent
    while not folder.exists():  # the nearest folder that exists must let us create the rest
        folder = folder.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write {str(path)!r}: {str(folder)!r} is a file, "
                                         "not a folder; pass --out somewhere else")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise argparse.ArgumentTypeError(f"cannot write {str(path)!r}: permission denied; pass "
                                         "--out somewhere writable (or --no-plot)")
    if folder == path.parent:  # its folder exists: write to the file now (e.g. /proc refuses)
        existed = path.exists()
        try:
            with open(path, "ab"):
                pass
        except OSError as exc:
            raise argparse.ArgumentTypeError(
                f"cannot write {str(path)!r}: {exc.strerror}; pass --out somewhere writable "
                "(or --no-plot)") from None
        finally:
            if not existed:
                path.unlink(missing_ok=True)
    return path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frames", type=positive(int, at_most=MAX_FRAMES), default=120,
                   help=f"frames in the animation (the batch size), 1 to {MAX_FRAMES:,}, and "
                        "within the memory available (checked before the work starts)")
    p.add_argument("--k", type=positive(int), default=4,
                   help="influences kept per vertex, 1 to the number of joints (24)")
    p.add_argument("--device", type=_device, default=torch.device("cpu"),
                   help="cpu, cuda or cuda:N (default cpu)")
    p.add_argument("--out", type=picture_path, default=pathlib.Path("demo_out/torchrig_demo.png"),
                   help="where to write the picture (.png/.jpg/.pdf/.svg; a folder gets "
                        "torchrig_demo.png inside it); checked before the work starts")
    p.add_argument("--no-plot", action="store_true", help="skip the picture")


def main(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    character = humanoid()
    J = len(character.names)
    if args.k > J:
        print(f"python -m torchrig demo: error: argument --k: the character has {J} joints; "
              f"pass --k 1 .. {J}", file=sys.stderr)
        return 2
    if not args.no_plot and not _can_draw():
        print("python -m torchrig demo: error: the picture needs matplotlib, which is not "
              "installed here; pip install matplotlib, or pass --no-plot", file=sys.stderr)
        return 2
    device = getattr(args, "device", torch.device("cpu"))
    too_big = check_memory(args.frames * character.vertices.shape[0] * _BYTES_PER_VERTEX_FRAME,
                           f"--frames {args.frames}", "pass fewer --frames")
    if too_big:
        print(f"python -m torchrig demo: error: {too_big}", file=sys.stderr)
        return 2
    rig = Rig.from_dense_weights(character.parents, character.offsets, character.vertices,
                                 character.dense_weights, k=args.k).to(device)
    rotations = walk_cycle(character, args.frames).to(device)
    print(f"[demo] character: {rig.num_joints} joints, {character.vertices.shape[0]} vertices, "
          f"{character.faces.shape[0]} faces, k={args.k}; {args.frames} frames "
          f"(built in {time.perf_counter() - t0:.2f}s)")
    posed = rig.pose(rotations)
    expected = _reference_pose(rig, rotations)
    err = (posed - expected).abs().max().item()
    ok = err < 1e-4
    print(f"[demo] max |torchrig - reference| = {err:.2e} m  ({'OK' if ok else 'MISMATCH'})")
    t_rig = median_time(lambda: rig.pose(rotations), device=device)
    t_ref = median_time(lambda: _reference_pose(rig, rotations), device=device)
    print(f"[demo] pose {args.frames} frames: torchrig {t_rig * 1e3:.2f} ms, reference "
          f"{t_ref * 1e3:.2f} ms -> {t_ref / t_rig:.1f}x")
    if not args.no_plot:
        frames = [0, args.frames // 4, args.frames // 2]
        _draw(args.out, character, posed.cpu(), frames)
        print(f"[demo] wrote {args.out} (rest + frames {frames})")
    print(f"[demo] done in {time.perf_counter() - t0:.1f}s")
    return 0 if ok else 1
