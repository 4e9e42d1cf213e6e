"""The ops against torchrig.reference: values, gradients, opcheck, compile (CPU; the
device-parametrised ones also on CUDA, as `gpu` cases)."""
from __future__ import annotations

import pytest
import torch
from helpers import DEVICES, fk_inputs, sample_fk, sample_skin, skin_inputs
from hypothesis import given, settings
from hypothesis import strategies as st

import torchrig
from torchrig import reference

DTYPES = [torch.float32, torch.float64]
TOL = {torch.float32: dict(atol=1e-4, rtol=1e-4), torch.float64: dict(atol=1e-10, rtol=1e-10)}


@pytest.mark.parametrize("dtype", DTYPES)
def test_fk_matches_reference(dtype):
    for args in sample_fk(dtype=dtype):
        torch.testing.assert_close(torchrig.forward_kinematics(*args),
                                   reference.forward_kinematics(*args), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_skin_matches_reference(dtype):
    for args in sample_skin(dtype=dtype):
        torch.testing.assert_close(torchrig.skin(*args), reference.skin(*args), **TOL[dtype])


@settings(max_examples=40, deadline=None)
@given(B=st.integers(0, 6), J=st.integers(1, 30), V=st.integers(0, 300), K=st.integers(1, 8),
       batched=st.booleans(), seed=st.integers(0, 2**16))
def test_random_rigs_match_reference(B, J, V, K, batched, seed):
    rot, off, par = fk_inputs(B, J, batched_offsets=batched, seed=seed)
    G = torchrig.forward_kinematics(rot, off, par)
    torch.testing.assert_close(G, reference.forward_kinematics(rot, off, par), **TOL[torch.float64])
    rest, _, idx, w = skin_inputs(B, J, V, K, batched_rest=batched, seed=seed)
    torch.testing.assert_close(torchrig.skin(rest, G, idx, w), reference.skin(rest, G, idx, w),
                               **TOL[torch.float64])


def test_non_contiguous_inputs():
    rot, off, par = fk_inputs(4, 6)
    rot_nc = rot.transpose(-1, -2).contiguous().transpose(-1, -2)[::2]  # strided batch + transposed
    off_nc = torch.stack([off, off], dim=-1)[..., 0]
    assert not rot_nc.is_contiguous() and not off_nc.is_contiguous()
    torch.testing.assert_close(torchrig.forward_kinematics(rot_nc, off_nc, par),
                               reference.forward_kinematics(rot_nc, off_nc, par))
    rest, tf, idx, w = skin_inputs(2, 6, 50, 4)
    tf_nc = torch.stack([tf, tf], dim=1)[:, 0]
    w_nc = torch.stack([w, w], dim=-1)[..., 0]
    idx_nc = idx.t().contiguous().t()
    rest_nc = rest.t().contiguous().t()
    assert not any(t.is_contiguous() for t in (tf_nc, w_nc, idx_nc, rest_nc))
    torch.testing.assert_close(torchrig.skin(rest_nc, tf_nc, idx_nc, w_nc),
                               reference.skin(rest, tf, idx, w))


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_fk(device):
    for args in sample_fk(device=device, requires_grad=True)[:3]:
        assert torch.autograd.gradcheck(torchrig.forward_kinematics, args)


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck_skin(device):
    for args in sample_skin(device=device, requires_grad=True)[:3]:
        assert torch.autograd.gradcheck(torchrig.skin, args)


def test_gradients_match_reference_for_a_subset_of_inputs():
    """Only the requested gradients are produced, and they equal the reference's."""
    rest, tf, idx, w = skin_inputs(3, 6, 64, 3, requires_grad=False)
    tf.requires_grad_()
    grad = torch.randn(3, 64, 3, dtype=torch.float64)
    (g_rig,) = torch.autograd.grad(torchrig.skin(rest, tf, idx, w), tf, grad)
    (g_ref,) = torch.autograd.grad(reference.skin(rest, tf, idx, w), tf, grad)
    torch.testing.assert_close(g_rig, g_ref)


def test_large_vertex_count_uses_chunked_transform_gradient():
    """V large and B small exercises the per-chunk reduction of dL/dtransforms."""
    rest, tf, idx, w = skin_inputs(1, 20, 20000, 4, requires_grad=True)
    grad = torch.randn(1, 20000, 3, dtype=torch.float64)
    got = torch.autograd.grad(torchrig.skin(rest, tf, idx, w), (rest, tf, w), grad)
    want = torch.autograd.grad(reference.skin(rest, tf, idx, w), (rest, tf, w), grad)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_opcheck_fk(dtype, device):
    for args in sample_fk(device=device, dtype=dtype, requires_grad=True):
        torch.library.opcheck(torch.ops.torchrig.forward_kinematics.default, args)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_opcheck_skin(dtype, device):
    for args in sample_skin(device=device, dtype=dtype, requires_grad=True):
        torch.library.opcheck(torch.ops.torchrig.skin.default, args)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_opcheck_backward_ops(dtype, device):
    rot, off, par = fk_inputs(2, 5, dtype=dtype, device=device)
    G = torchrig.forward_kinematics(rot, off, par)
    torch.library.opcheck(torch.ops.torchrig.forward_kinematics_backward.default,
                          (torch.randn_like(G), rot, off, par, G))
    rest, tf, idx, w = skin_inputs(2, 5, 20, 3, dtype=dtype, device=device)
    for mask in ([True, True, True], [False, True, False]):
        torch.library.opcheck(torch.ops.torchrig.skin_backward.default,
                              (torch.randn(2, 20, 3, dtype=dtype, device=device), rest, tf, idx, w,
                               mask))


@pytest.mark.parametrize("device", DEVICES)
def test_torch_compile_fullgraph(device):
    rot, off, par = fk_inputs(4, 8, dtype=torch.float32, device=device)
    rest, _, idx, w = skin_inputs(4, 8, 100, 4, dtype=torch.float32, device=device)

    def pose(rot, off):
        return torchrig.skin(rest, torchrig.forward_kinematics(rot, off, par), idx, w).square().sum()

    compiled = torch.compile(pose, fullgraph=True, backend="inductor")
    rot.requires_grad_()
    torch.testing.assert_close(compiled(rot, off), pose(rot, off))
    (g_c,) = torch.autograd.grad(compiled(rot, off), rot)
    (g_e,) = torch.autograd.grad(pose(rot, off), rot)
    torch.testing.assert_close(g_c, g_e)


def test_nan_weights_propagate_without_crash():
    rest, tf, idx, w = skin_inputs(2, 4, 10, 2)
    w[3, 0] = float("nan")
    out = torchrig.skin(rest, tf, idx, w)
    assert torch.isnan(out[:, 3]).all() and not torch.isnan(out[:, :3]).any()


def test_opcheck_backward_ops_with_non_contiguous_inputs():
    """Fake and real backward kernels agree on strides (contiguous) for strided inputs."""
    rot, off, par = fk_inputs(2, 5)
    rot_t, off_t = rot.mT, off.t().contiguous().t()
    G = torchrig.forward_kinematics(rot_t, off_t, par)
    grad = torch.randn(2, 5, 4, 3, dtype=torch.float64).mT
    assert not (rot_t.is_contiguous() or off_t.is_contiguous() or grad.is_contiguous())
    torch.library.opcheck(torch.ops.torchrig.forward_kinematics_backward.default,
                          (grad, rot_t, off_t, par, G))
    rest, tf, idx, w = skin_inputs(2, 5, 20, 3)
    rest_t, w_t = rest.t().contiguous().t(), w.t().contiguous().t()
    tf_t = torch.stack([tf, tf], dim=-1)[..., 0]
    g = torch.randn(2, 3, 20, dtype=torch.float64).mT
    for mask in ([True, True, True], [True, False, True]):
        torch.library.opcheck(torch.ops.torchrig.skin_backward.default,
                              (g, rest_t, tf_t, idx, w_t, mask))


def test_backward_ops_are_differentiable_under_opcheck():
    rot, off, par = fk_inputs(2, 4, requires_grad=True)
    G = torchrig.forward_kinematics(rot, off, par).detach()
    torch.library.opcheck(torch.ops.torchrig.forward_kinematics_backward.default,
                          (torch.randn_like(G, requires_grad=True), rot, off, par, G))
    rest, tf, idx, w = skin_inputs(2, 4, 12, 2, requires_grad=True)
    torch.library.opcheck(torch.ops.torchrig.skin_backward.default,
                          (torch.randn(2, 12, 3, dtype=torch.float64, requires_grad=True), rest, tf,
                           idx, w, [True, True, True]))


def test_torch_compile_backward_with_transposed_rotations_and_rest():
    """R.mT (an inverse rotation) and a transposed rest parameter through fwd+bwd (inductor)."""
    rot, off, par = fk_inputs(3, 6, dtype=torch.float32)
    rest, tf, idx, w = skin_inputs(3, 6, 40, 3, dtype=torch.float32)
    base = rot.clone().requires_grad_()
    rest_param = rest.t().contiguous().requires_grad_()  # [3, V]; the op sees rest_param.t()
    cases = [(lambda R, x: torchrig.skin(x.t(), torchrig.forward_kinematics(R.mT, off, par), idx,
                                         w).square().sum(), (base, rest_param))]
    for fn, args in cases:
        torch._dynamo.reset()
        compiled = torch.compile(fn, fullgraph=True, backend="inductor")
        # Inductor's on-disk caches do not key on fake kernels: a graph compiled by
        # another checkout (other strides) could be reused. Compile afresh.
        with torch._inductor.config.patch(force_disable_caches=True):
            got = torch.autograd.grad(compiled(*args), args)
        want = torch.autograd.grad(fn(*args), args)
        for a, b in zip(got, want):
            torch.testing.assert_close(a, b)
