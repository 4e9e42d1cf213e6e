"""The same maths written the way smplx writes it: the baseline.

Forward kinematics is a Python loop over joints (smplx's
``batch_rigid_transform``); skinning is dense: the sparse weights are
scattered into ``W [V, J]`` and every vertex blends all J transforms with
``W @ A`` (smplx's ``lbs``), materialising ``[B, V, 12]``. Plain autograd
gives the gradients. Tests compare the ops against this; the benchmark uses
it as the baseline.
"""
from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["dense_weights", "forward_kinematics", "joint_transforms", "skin"]


def forward_kinematics(rotations: Tensor, offsets: Tensor, parents: Tensor) -> Tensor:
    """``rotations [B,J,3,3]``, ``offsets [J,3] | [B,J,3]``, ``parents [J]`` -> ``[B,J,3,4]``."""
    B, J = rotations.shape[:2]
    off = offsets.expand(B, J, 3) if offsets.dim() == 2 else offsets
    local = torch.cat([rotations, off[..., None]], dim=-1)  # [B, J, 3, 4]
    bottom = rotations.new_tensor([0.0, 0.0, 0.0, 1.0]).expand(B, 1, 4)
    chain: list[Tensor] = []
    for j, p in enumerate(parents.tolist()):
        lj = torch.cat([local[:, j], bottom], dim=1)  # [B, 4, 4]
        chain.append(lj if p < 0 else chain[p] @ lj)
    if not chain:  # J = 0: torch.stack refuses an empty list
        return local  # [B, 0, 3, 4]
    return torch.stack(chain, dim=1)[:, :, :3, :]


def joint_transforms(joint_params: Tensor, offsets: Tensor, parents: Tensor,
                     inverse_bind: Tensor | None = None) -> Tensor:
    """``joint_params [B,J,7] | [B,7J]`` (t, Euler xyz, log2 scale) -> ``[B,J,3,4]`` global transforms,
    or skinning transforms ``G @ inverse_bind`` when ``inverse_bind [J,3,4]`` is given: the
    pure-torch twin of ``torchrig.ops.joint_transforms``."""
    from .rotations import euler_xyz_to_matrix

    B, J = joint_params.shape[0], parents.shape[0]
    joint_params = joint_params.reshape(B, J, 7)  # [B, 7J] as pymomentum takes them
    scale = torch.exp2(joint_params[..., 6])[..., None, None]
    rot = scale * euler_xyz_to_matrix(joint_params[..., 3:6])
    G = forward_kinematics(rot, offsets + joint_params[..., :3], parents)
    if inverse_bind is None:
        return G
    bottom = G.new_tensor([0.0, 0.0, 0.0, 1.0]).expand(J, 1, 4)
    return G @ torch.cat([inverse_bind, bottom], dim=1)


def dense_weights(indices: Tensor, weights: Tensor, num_joints: int) -> Tensor:
    """Sparse ``indices, weights [V, K]`` -> dense ``W [V, J]`` (summing repeats)."""
    W = weights.new_zeros(indices.shape[0], num_joints)
    return W.scatter_add(1, indices, weights)


def skin(rest_vertices: Tensor, transforms: Tensor, indices: Tensor, weights: Tensor) -> Tensor:
    """Dense LBS: ``rest [V,3] | [B,V,3]``, ``transforms [B,J,3,4]`` -> ``[B,V,3]``."""
    B, J = transforms.shape[:2]
    W = dense_weights(indices, weights, J)
    T = torch.matmul(W, transforms.reshape(B, J, 12)).reshape(B, indices.shape[0], 3, 4)
    x = rest_vertices.expand(B, *rest_vertices.shape) if rest_vertices.dim() == 2 else rest_vertices
    return (T[..., :3] @ x[..., None]).squeeze(-1) + T[..., 3]
