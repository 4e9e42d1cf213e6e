"""Rotation conversions: round trips, known values, gradients."""
from __future__ import annotations

import math

import pytest
import torch

from torchrig.rotations import axis_angle_to_matrix, matrix_to_quaternion, quaternion_to_matrix


def _random_quaternions(n, seed=0):
    q = torch.randn(n, 4, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    q = q / q.norm(dim=-1, keepdim=True)
    return torch.where(q[:, :1] < 0, -q, q)


def test_quaternion_round_trip():
    q = _random_quaternions(500)
    torch.testing.assert_close(matrix_to_quaternion(quaternion_to_matrix(q)), q)


def test_matrix_round_trip_near_pi():
    """Rotations by ~pi are where a naive trace formula breaks down."""
    axes = torch.nn.functional.normalize(torch.randn(50, 3, dtype=torch.float64), dim=-1)
    R = axis_angle_to_matrix(axes * (math.pi - 1e-7))
    torch.testing.assert_close(quaternion_to_matrix(matrix_to_quaternion(R)), R)


def test_matrices_are_rotations():
    R = axis_angle_to_matrix(torch.randn(4, 5, 3, dtype=torch.float64))
    eye = torch.eye(3, dtype=torch.float64).expand_as(R)
    torch.testing.assert_close(R @ R.transpose(-1, -2), eye)
    torch.testing.assert_close(torch.linalg.det(R), torch.ones(4, 5, dtype=torch.float64))


def test_axis_angle_known_value():
    R = axis_angle_to_matrix(torch.tensor([0.0, 0.0, math.pi / 2], dtype=torch.float64))
    want = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    torch.testing.assert_close(R, want)


def test_axis_angle_agrees_with_quaternion():
    v = torch.randn(100, 3, dtype=torch.float64)
    angle = v.norm(dim=-1, keepdim=True)
    q = torch.cat([torch.cos(angle / 2), torch.sin(angle / 2) * v / angle], dim=-1)
    torch.testing.assert_close(axis_angle_to_matrix(v), quaternion_to_matrix(q))


@pytest.mark.parametrize("fn,shape", [(axis_angle_to_matrix, (6, 3)), (quaternion_to_matrix, (6, 4))])
def test_gradcheck(fn, shape):
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(fn, (x,))


def test_axis_angle_gradient_finite_at_zero():
    v = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    axis_angle_to_matrix(v).sum().backward()
    assert torch.isfinite(v.grad).all()
    assert torch.autograd.gradcheck(axis_angle_to_matrix, (v,))


def test_gradcheck_matrix_to_quaternion():
    R = axis_angle_to_matrix(torch.randn(5, 3, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(matrix_to_quaternion, (R,))


@pytest.mark.parametrize("fn,shape", [(axis_angle_to_matrix, (2, 4)), (quaternion_to_matrix, (2, 3)),
                                      (matrix_to_quaternion, (2, 3, 4))])
def test_bad_shapes(fn, shape):
    with pytest.raises(ValueError, match="must have shape"):
        fn(torch.zeros(shape))
