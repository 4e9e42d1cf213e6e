"""Characters generated in code: no assets, deterministic for a seed.

``humanoid()`` builds a 24-joint skeleton with a tube mesh around its bones
(a few thousand vertices, faces included, weights from bone distance).
``random_rig()`` builds an arbitrary-size tree rig for tests and benchmarks.
``wave_animation()`` makes a smooth looping pose sequence.
``SMPLX_PARENTS`` is SMPL-X's kinematic tree (55 joints), for workloads of its size.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from .rotations import axis_angle_to_matrix

__all__ = ["SMPLX_PARENTS", "Character", "humanoid", "random_rig", "wave_animation"]

# SMPL-X's kinematic tree: parents[j] of its 55 joints (body, jaw and eyes, two hands).
SMPLX_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19,
                 15, 15, 15, 20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38,
                 21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50, 21, 52, 53)

# name, parent, offset from parent (metres, y up)
_SKELETON = [
    ("pelvis", -1, (0.0, 1.0, 0.0)), ("spine1", 0, (0.0, 0.12, 0.0)),
    ("spine2", 1, (0.0, 0.14, 0.0)), ("spine3", 2, (0.0, 0.14, 0.0)),
    ("neck", 3, (0.0, 0.12, 0.0)), ("head", 4, (0.0, 0.12, 0.0)),
    ("l_collar", 3, (0.08, 0.08, 0.0)), ("l_shoulder", 6, (0.12, 0.0, 0.0)),
    ("l_elbow", 7, (0.27, 0.0, 0.0)), ("l_wrist", 8, (0.25, 0.0, 0.0)),
    ("l_hand", 9, (0.08, 0.0, 0.0)),
    ("r_collar", 3, (-0.08, 0.08, 0.0)), ("r_shoulder", 11, (-0.12, 0.0, 0.0)),
    ("r_elbow", 12, (-0.27, 0.0, 0.0)), ("r_wrist", 13, (-0.25, 0.0, 0.0)),
    ("r_hand", 14, (-0.08, 0.0, 0.0)),
    ("l_hip", 0, (0.09, -0.06, 0.0)), ("l_knee", 16, (0.0, -0.42, 0.0)),
    ("l_ankle", 17, (0.0, -0.41, 0.0)), ("l_foot", 18, (0.0, -0.05, 0.12)),
    ("r_hip", 0, (-0.09, -0.06, 0.0)), ("r_knee", 20, (0.0, -0.42, 0.0)),
    ("r_ankle", 21, (0.0, -0.41, 0.0)), ("r_foot", 22, (0.0, -0.05, 0.12)),
]
# joints of humanoid()'s character
HUMANOID_JOINTS = len(_SKELETON)


@dataclass
class Character:
    """A generated character. Shapes: parents [J], offsets [J,3], rest_joints [J,3],
    vertices [V,3], faces [F,3] (int64), dense_weights [V,J]."""

    names: list[str]
    parents: Tensor
    offsets: Tensor
    rest_joints: Tensor
    vertices: Tensor
    faces: Tensor
    dense_weights: Tensor


def _rest_joints(parents: Tensor, offsets: Tensor) -> Tensor:
    joints = torch.zeros_like(offsets)
    for j, p in enumerate(parents.tolist()):
        joints[j] = offsets[j] + (joints[p] if p >= 0 else 0)
    return joints


def _tube(a: Tensor, b: Tensor, radius: float, rings: int, sides: int) -> tuple[Tensor, Tensor]:
    """Vertices [rings*sides, 3] and faces of a tube from a to b."""
    axis = b - a
    length = axis.norm().clamp_min(1e-6)
    d = axis / length
    helper = torch.tensor([0.0, 0.0, 1.0]) if abs(float(d[2])) < 0.9 else torch.tensor([1.0, 0.0, 0.0])
    u = torch.linalg.cross(d, helper)
    u = u / u.norm()
    w = torch.linalg.cross(d, u)
    t = torch.linspace(0, 1, rings)[:, None, None]
    ang = torch.linspace(0, 2 * math.pi, sides + 1)[:-1]
    ring = radius * (torch.cos(ang)[:, None] * u + torch.sin(ang)[:, None] * w)  # [S, 3]
    verts = (a + t * axis + ring[None]).reshape(-1, 3)
    r, s = torch.meshgrid(torch.arange(rings - 1), torch.arange(sides), indexing="ij")
    i0 = r * sides + s
    i1 = r * sides + (s + 1) % sides
    i2 = i0 + sides
    i3 = i1 + sides
    faces = torch.cat([torch.stack([i0, i1, i2], -1), torch.stack([i1, i3, i2], -1)]).reshape(-1, 3)
    return verts, faces


def _segment_distance(p: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """Distance of points p [V,3] to segments a,b [S,3] -> [V,S]."""
    ab = b - a
    t = ((p[:, None] - a[None]) * ab[None]).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-9)
    closest = a[None] + t.clamp(0, 1)[..., None] * ab[None]
    return (p[:, None] - closest).norm(dim=-1)


def humanoid(rings: int = 12, sides: int = 16, radius: float = 0.05) -> Character:
    """A 24-joint humanoid with ~23 * rings * sides tube vertices (4.4k by default)."""
    names = [n for n, _, _ in _SKELETON]
    parents = torch.tensor([p for _, p, _ in _SKELETON])
    offsets = torch.tensor([o for _, _, o in _SKELETON], dtype=torch.float32)
    joints = _rest_joints(parents, offsets)
    verts, faces, n = [], [], 0
    for j in range(1, len(names)):
        v, f = _tube(joints[parents[j]], joints[j], radius, rings, sides)
        verts.append(v)
        faces.append(f + n)
        n += v.shape[0]
    vertices = torch.cat(verts)
    # Each bone (parent -> child) moves with the parent joint: weight joints by
    # distance to the bones they drive, sharp falloff so top-4 keeps the shape.
    bone_parent = parents[1:]
    dist = _segment_distance(vertices, joints[bone_parent], joints[1:])  # [V, J-1]
    w_bone = torch.exp(-((dist / radius) ** 2) * 2.0)
    dense = torch.zeros(vertices.shape[0], len(names)).index_add_(1, bone_parent, w_bone)
    dense = dense / dense.sum(1, keepdim=True)
    return Character(names, parents, offsets, joints, vertices, torch.cat(faces), dense)


def random_rig(num_joints: int, num_vertices: int, k: int, *, batch_offsets: int | None = None,
               dtype: torch.dtype = torch.float32, seed: int = 0, device: str | torch.device = "cpu"):
    """Random tree rig: (parents [J], offsets [J,3] or [B,J,3], rest [V,3], indices [V,K], weights [V,K]).

    Parents are random but topologically ordered; weights are positive and sum to 1.
    """
    g = torch.Generator().manual_seed(seed)
    parents = torch.tensor([-1] + [int(torch.randint(0, j, (1,), generator=g)) for j in range(1, num_joints)])
    shape = (num_joints, 3) if batch_offsets is None else (batch_offsets, num_joints, 3)
    offsets = torch.randn(shape, generator=g, dtype=dtype)
    rest = torch.randn(num_vertices, 3, generator=g, dtype=dtype)
    indices = torch.randint(0, num_joints, (num_vertices, k), generator=g)
    weights = torch.rand(num_vertices, k, generator=g, dtype=dtype) + 0.05
    weights = weights / weights.sum(1, keepdim=True)
    return tuple(t.to(device) for t in (parents, offsets, rest, indices, weights))


def wave_animation(num_frames: int, num_joints: int, *, amplitude: float = 0.5,
                   dtype: torch.dtype = torch.float32, seed: int = 0) -> Tensor:
    """Looping per-joint sinusoidal rotations: ``[num_frames, J, 3, 3]``."""
    g = torch.Generator().manual_seed(seed)
    axis = torch.randn(num_joints, 3, generator=g, dtype=dtype)
    axis = axis / axis.norm(dim=1, keepdim=True)
    phase = torch.rand(num_joints, generator=g, dtype=dtype) * 2 * math.pi
    t = torch.linspace(0, 2 * math.pi, num_frames + 1, dtype=dtype)[:-1, None]
    angle = amplitude * torch.sin(t + phase)  # [F, J]
    return axis_angle_to_matrix(angle[..., None] * axis)
