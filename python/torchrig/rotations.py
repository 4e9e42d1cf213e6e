"""Rotation conversions in pure PyTorch (batched, differentiable).

Quaternions are ``(w, x, y, z)``, scalar first. Every function accepts any
leading batch shape ``...``.
"""
from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["axis_angle_to_matrix", "euler_xyz_to_matrix", "matrix_to_quaternion",
           "quaternion_to_matrix"]


def quaternion_to_matrix(q: Tensor) -> Tensor:
    """``q (..., 4)`` (w, x, y, z; normalised here) -> ``(..., 3, 3)`` rotation."""
    if q.shape[-1] != 4:
        raise ValueError(f"quaternion must have shape (..., 4), got {tuple(q.shape)}")
    w, x, y, z = torch.unbind(q / q.norm(dim=-1, keepdim=True), dim=-1)
    m = torch.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ], dim=-1)
    return m.reshape(q.shape[:-1] + (3, 3))


def matrix_to_quaternion(m: Tensor) -> Tensor:
    """``m (..., 3, 3)`` rotation -> ``(..., 4)`` unit quaternion with w >= 0.

    Picks, per matrix, the best-conditioned of the four candidate formulas
    (largest diagonal term), so it is stable for all angles up to pi.
    """
    if m.shape[-2:] != (3, 3):
        raise ValueError(f"matrix must have shape (..., 3, 3), got {tuple(m.shape)}")
    m00, m01, m02, m10, m11, m12, m20, m21, m22 = torch.unbind(m.flatten(-2), dim=-1)
    # 4*|component|^2 for w, x, y, z
    sq = torch.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22,
                      1 - m00 + m11 - m22, 1 - m00 - m11 + m22], dim=-1)
    r = torch.sqrt(sq.clamp_min(1e-12))  # 2*|component|
    cands = torch.stack([
        torch.stack([r[..., 0] ** 2, m21 - m12, m02 - m20, m10 - m01], dim=-1),
        torch.stack([m21 - m12, r[..., 1] ** 2, m10 + m01, m02 + m20], dim=-1),
        torch.stack([m02 - m20, m10 + m01, r[..., 2] ** 2, m12 + m21], dim=-1),
        torch.stack([m10 - m01, m20 + m02, m21 + m12, r[..., 3] ** 2], dim=-1),
    ], dim=-2) / (2 * r[..., :, None])
    best = sq.argmax(dim=-1, keepdim=True)
    q = torch.gather(cands, -2, best[..., None].expand(best.shape + (4,))).squeeze(-2)
    q = q / q.norm(dim=-1, keepdim=True)
    return torch.where(q[..., :1] < 0, -q, q)


def axis_angle_to_matrix(v: Tensor) -> Tensor:
    """``v (..., 3)`` axis * angle (radians) -> ``(..., 3, 3)`` (Rodrigues).

    Uses the Taylor series near zero angle so values and gradients stay
    finite at ``v = 0``.
    """
    if v.shape[-1] != 3:
        raise ValueError(f"axis-angle must have shape (..., 3), got {tuple(v.shape)}")
    theta2 = (v * v).sum(-1, keepdim=True)
    small = theta2 < 1e-8
    safe2 = torch.where(small, torch.ones_like(theta2), theta2)
    theta = safe2.sqrt()
    a = torch.where(small, 1 - theta2 / 6, torch.sin(theta) / theta)            # sin t / t
    b = torch.where(small, 0.5 - theta2 / 24, (1 - torch.cos(theta)) / safe2)  # (1-cos t)/t^2
    x, y, z = torch.unbind(v, dim=-1)
    zero = torch.zeros_like(x)
    K = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1).reshape(v.shape[:-1] + (3, 3))
    eye = torch.eye(3, dtype=v.dtype, device=v.device).expand_as(K)
    return eye + a[..., None] * K + b[..., None] * (K @ K)


def euler_xyz_to_matrix(angles: Tensor) -> Tensor:
    """``angles (..., 3)`` = (rx, ry, rz) radians -> ``(..., 3, 3)`` = ``Rz(rz) Ry(ry) Rx(rx)``.

    pymomentum's joint rotation (x first, then y, then z, about fixed axes);
    ``torchrig.ops.joint_transforms`` computes the same in C++.
    """
    if angles.shape[-1] != 3:
        raise ValueError(f"euler angles must have shape (..., 3), got {tuple(angles.shape)}")
    s, c = torch.sin(angles), torch.cos(angles)
    sa, sb, sc = torch.unbind(s, dim=-1)
    ca, cb, cc = torch.unbind(c, dim=-1)
    m = torch.stack([
        cc * cb, cc * sb * sa - sc * ca, cc * sb * ca + sc * sa,
        sc * cb, sc * sb * sa + cc * ca, sc * sb * ca - cc * sa,
        -sb, cb * sa, cb * ca,
    ], dim=-1)
    return m.reshape(angles.shape[:-1] + (3, 3))
