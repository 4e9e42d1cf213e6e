"""A skinned character: joint tree, rest pose and sparse skinning weights."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from . import _derivatives as D
from . import ops

__all__ = ["Rig", "compose", "invert_rigid"]


def compose(a: Tensor, b: Tensor) -> Tensor:
    """The rigid/affine transform ``a @ b`` of two ``[R|t]`` 3x4 matrices, as 3x4.

    ``a (..., 3, 4)``, ``b (..., 3, 4)`` (broadcast) -> ``(..., 3, 4)``. Posing a mesh
    with the ops: ``skin(rest_vertices, compose(G, inverse_bind), indices, weights)``,
    ``G [B, J, 3, 4]`` from ``forward_kinematics`` and ``inverse_bind [J, 3, 4]`` (a
    Rig's ``inverse_bind``): each joint's global transform after undoing its rest one.
    """
    rot = a[..., :3] @ b[..., :3]
    trans = (a[..., :3] @ b[..., 3:]).squeeze(-1) + a[..., 3]
    return torch.cat([rot, trans[..., None]], dim=-1)


def invert_rigid(t: Tensor) -> Tensor:
    """Inverse of rigid ``t (..., 3, 4)`` (rotation part orthonormal)."""
    rt = t[..., :3].transpose(-1, -2)
    return torch.cat([rt, -(rt @ t[..., 3:])], dim=-1)


class Rig(nn.Module):
    """A skeleton with a skinned mesh.

    Buffers (move with ``.to()``):
        parents ``[J]`` int64, ``parents[j] in [-1, j)``.
        offsets ``[J, 3]`` rest offset of each joint from its parent.
        inverse_bind ``[J, 3, 4]`` inverse of each joint's rest global transform.
        rest_vertices ``[V, 3]``.
        indices, weights ``[V, K]`` sparse skinning weights.
    """

    def __init__(self, parents: Tensor, offsets: Tensor, rest_vertices: Tensor,
                 indices: Tensor, weights: Tensor, inverse_bind: Tensor | None = None):
        super().__init__()
        parents = torch.as_tensor(parents, dtype=torch.long)
        J = parents.shape[0]
        if offsets.shape != (J, 3):
            raise ValueError(f"offsets must have shape [J, 3] = [{J}, 3], got {list(offsets.shape)}")
        if inverse_bind is None:
            eye = torch.eye(3, dtype=offsets.dtype, device=offsets.device).expand(1, J, 3, 3)
            rest_global = ops.forward_kinematics(eye.contiguous(), offsets, parents.to(offsets.device))[0]
            inverse_bind = invert_rigid(rest_global)
        elif inverse_bind.shape != (J, 3, 4):
            raise ValueError(f"inverse_bind must have shape [J, 3, 4] = [{J}, 3, 4], "
                             f"got {list(inverse_bind.shape)}")
        self.register_buffer("parents", parents.to(offsets.device))
        self.register_buffer("offsets", offsets)
        self.register_buffer("inverse_bind", inverse_bind)
        self.register_buffer("rest_vertices", rest_vertices)
        self.register_buffer("indices", indices)
        self.register_buffer("weights", weights)
        # inverse_bind as homogeneous 4x4s: G @ inverse_bind_h is compose(G, inverse_bind) in
        # one matmul (skin_global); derived, so not part of the state dict
        bottom = inverse_bind.new_tensor([0.0, 0.0, 0.0, 1.0]).expand(J, 1, 4)
        self.register_buffer("inverse_bind_h", torch.cat([inverse_bind, bottom], dim=1),
                             persistent=False)

    @classmethod
    def from_dense_weights(cls, parents: Tensor, offsets: Tensor, rest_vertices: Tensor,
                           dense_weights: Tensor, k: int = 4,
                           inverse_bind: Tensor | None = None) -> "Rig":
        """Keep the ``k`` largest of ``dense_weights [V, J]`` per vertex, renormalised to sum 1."""
        if dense_weights.dim() != 2 or dense_weights.shape[0] != rest_vertices.shape[0]:
            raise ValueError(f"dense_weights must have shape [V, J] with V = {rest_vertices.shape[0]}, "
                             f"got {list(dense_weights.shape)}")
        J = dense_weights.shape[1]
        if not 1 <= k <= J:
            raise ValueError(f"k must be in [1, J] = [1, {J}], got {k}")
        weights, indices = torch.topk(dense_weights, k, dim=1)
        total = weights.sum(dim=1, keepdim=True)
        if bool((total <= 0).any()):
            raise ValueError("every vertex needs a positive weight among its top-k influences")
        return cls(parents, offsets, rest_vertices, indices, weights / total, inverse_bind)

    def _check_like_rig(self, t: Tensor, name: str) -> None:
        """``t`` must be a tensor with the rig's floating dtype and device."""
        if not isinstance(t, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if t.dtype != self.offsets.dtype:
            raise TypeError(f"{name} has dtype {t.dtype} but the rig is {self.offsets.dtype}; "
                            f"pass {name}.to({self.offsets.dtype}) or convert the rig with "
                            f"rig.to({t.dtype})")
        if t.device != self.offsets.device:
            raise ValueError(f"{name} is on {t.device} but the rig is on {self.offsets.device}; "
                             f"pass {name}.to('{self.offsets.device}') or move the rig with "
                             f"rig.to('{t.device}')")

    @property
    def num_joints(self) -> int:
        return self.parents.shape[0]

    def joint_transforms(self, rotations: Tensor, root_translation: Tensor | None = None) -> Tensor:
        """``rotations [B, J, 3, 3]``, ``root_translation [B, 3]`` -> global ``[B, J, 3, 4]``."""
        self._check_like_rig(rotations, "rotations")
        if root_translation is not None:
            self._check_like_rig(root_translation, "root_translation")
            if root_translation.shape != (rotations.shape[0], 3):
                raise ValueError(f"root_translation must have shape [B, 3] = [{rotations.shape[0]}, 3], "
                                 f"got {list(root_translation.shape)}")
        G = ops.forward_kinematics(rotations, self.offsets, self.parents)
        if root_translation is not None:
            G = torch.cat([G[..., :3], G[..., 3:] + root_translation[:, None, :, None]], dim=-1)
        return G

    def pose(self, rotations: Tensor, root_translation: Tensor | None = None) -> Tensor:
        """Posed vertices ``[B, V, 3]`` for local joint ``rotations [B, J, 3, 3]``."""
        G = self.joint_transforms(rotations, root_translation)
        return ops.skin(self.rest_vertices, compose(G, self.inverse_bind), self.indices, self.weights)

    forward = pose

    # The three methods below are the one-pose hot path (python -m torchrig.bench.vs_pymomentum):
    # the ops' own checks run first, and the rig's clearer ones (_check_like_rig) only when
    # those refuse the input; the buffers are read from self._buffers (nn.Module.__getattr__
    # costs some 0.7 us a buffer, as much as a small op's whole Python path).

    def global_transforms(self, joint_params: Tensor) -> Tensor:
        """Global joint transforms ``[B, J, 3, 4]`` of pymomentum-style joint parameters
        ``[B, J, 7]`` or ``[B, 7 * J]`` (translation, Euler xyz, log2 scale per joint; see
        ``ops.joint_transforms``)."""
        b = self._buffers
        try:
            return D.joint_transforms(joint_params, b["offsets"], b["parents"], None)
        except (TypeError, ValueError, RuntimeError, AttributeError):  # not a tensor
            self._check_like_rig(joint_params, "joint_params")
            raise

    def skin_global(self, global_transforms: Tensor) -> Tensor:
        """Posed vertices ``[B, V, 3]`` of global joint transforms ``[B, J, 3, 4]`` (the rig's
        inverse bind applied here, one matmul)."""
        b = self._buffers
        try:
            T = global_transforms @ b["inverse_bind_h"]
        except (TypeError, RuntimeError):
            self._check_like_rig(global_transforms, "global_transforms")
            J = self.num_joints
            if global_transforms.dim() != 4 or global_transforms.shape[1:] != (J, 3, 4):
                raise ValueError(f"global_transforms must have shape [B, J, 3, 4] = [B, {J}, 3, 4], "
                                 f"got {list(global_transforms.shape)}") from None
            raise
        return D.skin(b["rest_vertices"], T, b["indices"], b["weights"])

    def pose_params(self, joint_params: Tensor) -> Tensor:
        """Posed vertices ``[B, V, 3]`` of joint parameters ``[B, J, 7]`` or ``[B, 7 * J]``:
        two ops, joint parameters to skinning transforms (the inverse bind folded in), skin."""
        b = self._buffers
        try:
            T = D.joint_transforms(joint_params, b["offsets"], b["parents"], b["inverse_bind"])
        except (TypeError, ValueError, RuntimeError, AttributeError):  # not a tensor
            self._check_like_rig(joint_params, "joint_params")
            raise
        return D.skin(b["rest_vertices"], T, b["indices"], b["weights"])
