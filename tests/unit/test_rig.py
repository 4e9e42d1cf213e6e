"""torchrig.Rig against a hand-written pipeline and the procedural humanoid."""
from __future__ import annotations

import torch

import torchrig
from torchrig import reference
from torchrig.bench.demo import walk_cycle
from torchrig.procedural import humanoid
from torchrig.rig import compose, invert_rigid


def test_rest_pose_reproduces_rest_mesh():
    c = humanoid(rings=4, sides=6)
    rig = torchrig.Rig.from_dense_weights(c.parents, c.offsets, c.vertices, c.dense_weights, k=4)
    eye = torch.eye(3).expand(2, rig.num_joints, 3, 3).contiguous()
    torch.testing.assert_close(rig.pose(eye), c.vertices.expand(2, -1, -1), atol=1e-5, rtol=0)


def test_root_translation_moves_every_vertex():
    c = humanoid(rings=4, sides=6)
    rig = torchrig.Rig.from_dense_weights(c.parents, c.offsets, c.vertices, c.dense_weights, k=3)
    rot = walk_cycle(c, 3)
    shift = torch.tensor([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])
    torch.testing.assert_close(rig.pose(rot, shift), rig.pose(rot) + shift[:, None], atol=1e-5, rtol=0)


def test_pose_matches_reference_pipeline_and_top_k_weights():
    c = humanoid(rings=4, sides=6)
    rig = torchrig.Rig.from_dense_weights(c.parents, c.offsets, c.vertices, c.dense_weights, k=4)
    torch.testing.assert_close(rig.weights.sum(1), torch.ones(c.vertices.shape[0]))
    assert (rig.weights[:, :-1] >= rig.weights[:, 1:]).all()  # top-k, largest first
    rot = walk_cycle(c, 5)
    G = reference.forward_kinematics(rot, c.offsets, c.parents)
    want = reference.skin(c.vertices, compose(G, invert_rigid(reference.forward_kinematics(
        torch.eye(3).expand(1, 24, 3, 3), c.offsets, c.parents)[0])), rig.indices, rig.weights)
    torch.testing.assert_close(rig.pose(rot), want, atol=1e-5, rtol=0)


def test_pose_gradient_flows_to_rotations():
    c = humanoid(rings=3, sides=5)
    rig = torchrig.Rig.from_dense_weights(c.parents, c.offsets.double(), c.vertices.double(),
                                          c.dense_weights.double(), k=2)
    rot = walk_cycle(c, 2).double().requires_grad_()
    assert torch.autograd.gradcheck(lambda r: rig.pose(r), (rot,))


def test_invert_rigid():
    T = torch.cat([torchrig.rotations.axis_angle_to_matrix(torch.randn(4, 3)), torch.randn(4, 3, 1)], -1)
    ident = torch.cat([torch.eye(3), torch.zeros(3, 1)], -1).expand(4, 3, 4)
    torch.testing.assert_close(compose(T, invert_rigid(T)), ident, atol=1e-6, rtol=0)
