"""CUDA kernels of the torchrig ops (``pytest -m gpu``; skipped without a GPU).

Every test takes the ``device`` fixture (``cuda``) and compares with the CPU
kernels (tested on their own in test_ops.py) or with :mod:`torchrig.reference`;
gradcheck, opcheck and torch.compile are device-parametrised tests of test_ops.py
(their CUDA cases are `gpu`-marked). Small cases come from helpers.py (shared with the CPU tests); the
mesh-scale cases below use SMPL-X's tree and vertex orders that exercise the
kernels' per-run caching (coherent) and defeat it (random).
``torchrig-release test-gpu`` runs the `gpu` tests and fails when no GPU is present.
"""
from __future__ import annotations

import pytest
import torch
from helpers import sample_fk, sample_skin

import torchrig
from torchrig import reference
from torchrig.procedural import SMPLX_PARENTS
from torchrig.rotations import quaternion_to_matrix

pytestmark = pytest.mark.gpu
ops = torch.ops.torchrig

DTYPES = [torch.float32, torch.float64]


@pytest.fixture
def device() -> torch.device:
    return torch.device("cuda")


def fk_case(B: int, dtype, device, batched_offsets=False, J=55, seed=0):
    """rotations ``[B, J, 3, 3]``, offsets ``[J, 3]`` or ``[B, J, 3]``, parents ``[J]``
    (SMPL-X's tree for J <= 55, a chain beyond)."""
    gen = torch.Generator().manual_seed(seed)
    parents = torch.tensor(SMPLX_PARENTS[:J] if J <= 55 else (-1, *range(J - 1)))
    rot = quaternion_to_matrix(torch.randn(B, J, 4, dtype=torch.float64, generator=gen))
    off = torch.randn(*((B,) if batched_offsets else ()), J, 3, dtype=torch.float64, generator=gen)
    return rot.to(dtype).to(device), off.to(dtype).to(device), parents.to(device)


def mesh_case(B: int, V: int, dtype, device, J=55, K=4, batched_rest=False, coherent=True, seed=0):
    """rest ``[V, 3]`` / ``[B, V, 3]``, transforms ``[B, J, 3, 4]``, indices and
    weights ``[V, K]``. ``coherent``: runs of neighbouring vertices share joints,
    as in a mesh; otherwise every vertex has random joints."""
    gen = torch.Generator().manual_seed(seed)
    rest = torch.randn(*((B,) if batched_rest else ()), V, 3, dtype=torch.float64, generator=gen)
    tf = torch.randn(B, J, 3, 4, dtype=torch.float64, generator=gen)
    if coherent:
        idx = (torch.arange(V)[:, None] * J // max(V, 1) + torch.arange(K) * 7) % J
        flip = torch.rand(V, K, generator=gen) < 0.1
        idx = torch.where(flip, torch.randint(0, J, (V, K), generator=gen), idx)
    else:
        idx = torch.randint(0, J, (V, K), generator=gen)
    w = torch.rand(V, K, dtype=torch.float64, generator=gen)
    w = w / w.sum(1, keepdim=True)
    return rest.to(dtype).to(device), tf.to(dtype).to(device), idx.to(device), w.to(dtype).to(device)


def to_cpu(args):
    return tuple(a.detach().cpu() for a in args)


def tol(dtype):
    return dict(rtol=1e-4, atol=1e-4) if dtype == torch.float32 else dict(rtol=1e-10, atol=1e-10)


def assert_fk_matches_cpu(args, dtype):
    """FK and its backward on the GPU equal the CPU ops; returns the GPU output."""
    out = ops.forward_kinematics(*args)
    torch.testing.assert_close(out.cpu(), ops.forward_kinematics(*to_cpu(args)), **tol(dtype))
    grad = torch.randn_like(out)
    got = ops.forward_kinematics_backward(grad, *args, out)
    want = ops.forward_kinematics_backward(grad.cpu(), *to_cpu(args), out.cpu())
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g.cpu(), w, **tol(dtype))
    return out


def assert_skin_backward_matches_cpu(args, dtype, masks):
    grad = torch.randn(args[1].shape[0], args[2].shape[0], 3, dtype=dtype, device=args[1].device)
    for mask in masks:
        got = ops.skin_backward(grad, *args, mask)
        want = ops.skin_backward(grad.cpu(), *to_cpu(args), mask)
        for g, w, asked in zip(got, want, mask, strict=True):
            assert g.device == args[1].device
            torch.testing.assert_close(g.cpu(), w, **tol(dtype))
            if not asked:
                assert not g.any(), "a gradient not asked for must come back as zeros"


# ---- agreement with the CPU kernels -------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_samples_match_cpu(device, dtype):
    """tests/unit/helpers.py's samples: shared/batched inputs, K from 1 to 8, B = 0."""
    for args in sample_fk(device=device, dtype=dtype):
        assert_fk_matches_cpu(args, dtype)
    for args in sample_skin(device=device, dtype=dtype):
        torch.testing.assert_close(ops.skin(*args).cpu(), ops.skin(*to_cpu(args)), **tol(dtype))
        assert_skin_backward_matches_cpu(args, dtype, [[True, True, True], [False, True, False]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batched_offsets", [False, True])
def test_fk_matches_cpu(device, dtype, batched_offsets):
    args = fk_case(67, dtype, device, batched_offsets)
    out = assert_fk_matches_cpu(args, dtype)
    assert out.device == device and out.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batched_rest", [False, True])
@pytest.mark.parametrize("K,coherent", [(1, True), (4, True), (4, False), (6, True)])
def test_skin_matches_cpu(device, dtype, batched_rest, K, coherent):
    args = mesh_case(70, 333, dtype, device, K=K, batched_rest=batched_rest, coherent=coherent)
    torch.testing.assert_close(ops.skin(*args).cpu(), ops.skin(*to_cpu(args)), **tol(dtype))
    assert_skin_backward_matches_cpu(
        args, dtype, [[True, True, True], [False, True, False], [True, False, True], [False] * 3])


def test_matches_reference(device):
    rot, off, parents = fk_case(16, torch.float64, device)
    torch.testing.assert_close(torchrig.forward_kinematics(rot, off, parents),
                               reference.forward_kinematics(rot, off, parents))
    args = mesh_case(16, 500, torch.float64, device)
    torch.testing.assert_close(torchrig.skin(*args), reference.skin(*args))


def test_non_contiguous_inputs(device):
    rest, tf, idx, w = mesh_case(8, 40, torch.float32, device)
    tf_nc = tf.transpose(0, 1).contiguous().transpose(0, 1)
    idx_nc, w_nc = idx.t().contiguous().t(), w.t().contiguous().t()
    assert not tf_nc.is_contiguous() and not idx_nc.is_contiguous()
    torch.testing.assert_close(ops.skin(rest, tf_nc, idx_nc, w_nc), ops.skin(rest, tf, idx, w))


def test_empty_shapes(device):
    rest, tf, idx, w = mesh_case(0, 10, torch.float32, device)
    assert ops.skin(rest, tf, idx, w).shape == (0, 10, 3)
    g_rest, g_tf, g_w = ops.skin_backward(torch.zeros(0, 10, 3, device=device), rest, tf, idx, w,
                                          [True, True, True])
    assert g_rest.shape == (10, 3) and not g_rest.any() and g_tf.shape == (0, 55, 3, 4)
    rot, off, parents = fk_case(0, torch.float32, device)
    assert ops.forward_kinematics(rot, off, parents).shape == (0, 55, 3, 4)


# ---- scale ------------------------------------------------------------------------

def test_large_batch_against_reference(device):
    """B = 4096 (128 batch groups of 32), SMPL-X joints, float32 vs float64 reference."""
    args = mesh_case(4096, 2000, torch.float32, device, seed=3)
    args64 = tuple(a.double() if a.is_floating_point() else a for a in args)
    torch.testing.assert_close(ops.skin(*args).double(), reference.skin(*args64), rtol=1e-4, atol=1e-4)
    grad = torch.randn(4096, 2000, 3, device=device)
    _, g_tf, _ = ops.skin_backward(grad, *args, [False, True, False])
    tf64 = args64[1].clone().requires_grad_(True)
    reference.skin(args64[0], tf64, *args64[2:]).backward(grad.double())
    torch.testing.assert_close(g_tf.double(), tf64.grad, rtol=1e-3, atol=1e-3)
    rot, off, parents = fk_case(4096, torch.float32, device)
    torch.testing.assert_close(ops.forward_kinematics(rot, off, parents).double(),
                               reference.forward_kinematics(rot.double(), off.double(), parents),
                               rtol=1e-4, atol=1e-4)


def test_batch_beyond_grid_limits(device):
    """More than 65535 * 32 batch elements: the grid's y dimension strides."""
    B = 65535 * 32 + 37
    args = mesh_case(B, 2, torch.float32, device, J=3, K=2, seed=5)
    out = ops.skin(*args)
    torch.testing.assert_close(out.cpu(), ops.skin(*to_cpu(args)))
    grad = torch.randn_like(out)
    got = ops.skin_backward(grad, *args, [True, True, True])
    want = ops.skin_backward(grad.cpu(), *to_cpu(args), [True, True, True])
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g.cpu(), w, rtol=1e-3, atol=1e-3)
    rot, off, parents = fk_case(B, torch.float32, device, J=3)
    torch.testing.assert_close(ops.forward_kinematics(rot, off, parents).cpu(),
                               ops.forward_kinematics(*to_cpu((rot, off, parents))))


# ---- streams and devices -----------------------------------------------------------

def test_runs_on_current_stream(device):
    """Kernels must launch on the current stream: while the default stream is
    held up by a long sleep, a side stream runs the op and copies its output;
    a kernel launched on the default stream would not have run yet."""
    args = mesh_case(256, 2000, torch.float32, device)
    want = ops.skin(*args)
    fk_args = fk_case(256, torch.float32, device)
    fk_want = ops.forward_kinematics(*fk_args)
    torch.cuda.synchronize()
    side = torch.cuda.Stream()
    torch.cuda._sleep(int(2e8))  # on the default stream
    with torch.cuda.stream(side):
        got = ops.skin(*args).clone()
        fk_got = ops.forward_kinematics(*fk_args).clone()
    side.synchronize()
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(fk_got, fk_want)
    torch.cuda.synchronize()


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two GPUs")
def test_second_device():
    dev = torch.device("cuda", 1)
    args = mesh_case(40, 100, torch.float32, dev)
    out = ops.skin(*args)
    assert out.device == dev
    torch.testing.assert_close(out.cpu(), ops.skin(*to_cpu(args)))


# ---- bad input on CUDA tensors: Python errors, not device-side asserts ---------

def test_bad_inputs_raise(device):
    rest, tf, idx, w = mesh_case(4, 30, torch.float32, device, J=10)
    with pytest.raises(ValueError, match="same device"):
        ops.skin(rest, tf, idx.cpu(), w)
    with pytest.raises(ValueError, match="same device"):
        ops.skin(rest.cpu(), tf, idx, w)
    bad = idx.clone()
    bad[7, 1] = 10
    with pytest.raises(ValueError, match=r"indices must lie in \[0, J\)"):
        ops.skin(rest, tf, bad, w)
    bad[7, 1] = -1
    with pytest.raises(ValueError, match="indices must lie"):
        ops.skin_backward(torch.zeros(4, 30, 3, device=device), rest, tf, bad, w, [True] * 3)
    with pytest.raises(TypeError, match="dtype"):
        ops.skin(rest.double(), tf, idx, w)
    with pytest.raises(ValueError, match="grad_vertices"):
        ops.skin_backward(torch.zeros(4, 31, 3, device=device), rest, tf, idx, w, [True] * 3)
    rot, off, parents = fk_case(2, torch.float32, device, J=5)
    bad_parents = parents.clone()
    bad_parents[2] = 3
    with pytest.raises(ValueError, match="topologically ordered"):
        ops.forward_kinematics(rot, off, bad_parents)
    with pytest.raises(ValueError, match="same device"):
        ops.forward_kinematics(rot, off, parents.cpu())
    # The process and the device are still fine: no device-side assert fired.
    torch.cuda.synchronize()
    torch.testing.assert_close(ops.skin(rest, tf, idx, w).cpu(), ops.skin(*to_cpu((rest, tf, idx, w))))
