"""Derivatives beyond first order: double backward, forward mode, torch.func.

Every one is compared with torchrig.reference (plain autograd through pure
torch) or checked by finite differences in float64. Derivatives torchrig does
not support must raise an error naming torchrig, never return zeros or None.
"""
from __future__ import annotations

import pytest
import torch
import torch.autograd.forward_ad as fwAD
from helpers import fk_inputs, sample_fk, sample_skin, skin_inputs

import torchrig
from torchrig import reference
from torchrig.rig import compose

OPS = torch.ops.torchrig
FK = {"wrapper": torchrig.forward_kinematics, "op": OPS.forward_kinematics.default}
SKIN = {"wrapper": torchrig.skin, "op": OPS.skin.default}


def _pose(fk, sk, rot, off, par, rest, inv_bind, idx, w):
    return sk(rest, compose(fk(rot, off, par), inv_bind), idx, w)


def _pose_inputs(B=2, J=6, V=30, K=3, seed=0):
    rot, off, par = fk_inputs(B, J, seed=seed)
    rest, tf, idx, w = skin_inputs(B, J, V, K, seed=seed)
    return rot, off, par, rest, tf[0], idx, w


@pytest.mark.parametrize("kind", FK)
def test_gradgradcheck_fk(kind):
    for args in sample_fk(requires_grad=True)[:3]:
        assert torch.autograd.gradgradcheck(FK[kind], args, fast_mode=True)


@pytest.mark.parametrize("kind", SKIN)
def test_gradgradcheck_skin(kind):
    for args in sample_skin(requires_grad=True)[:3]:
        assert torch.autograd.gradgradcheck(SKIN[kind], args, fast_mode=True)


def test_gradcheck_forward_mode():
    for args in sample_fk(requires_grad=True)[:3]:
        assert torch.autograd.gradcheck(torchrig.forward_kinematics, args, check_forward_ad=True,
                                        fast_mode=True)
    for args in sample_skin(requires_grad=True)[:3]:
        assert torch.autograd.gradcheck(torchrig.skin, args, check_forward_ad=True,
                                        fast_mode=True)


def test_hvp_through_pose_matches_reference():
    rot, off, par, rest, inv_bind, idx, w = _pose_inputs()
    target = torch.randn(2, 30, 3, dtype=torch.float64)

    def loss(fk, sk):
        return lambda r, o, x, ww: (_pose(fk, sk, r, o, par, x, inv_bind, idx, ww) - target
                                    ).square().sum()

    inputs = (rot, off, rest, w)
    v = tuple(torch.randn_like(t) for t in inputs)
    _, got = torch.autograd.functional.hvp(loss(torchrig.forward_kinematics, torchrig.skin), inputs, v)
    _, want = torch.autograd.functional.hvp(loss(reference.forward_kinematics, reference.skin),
                                            inputs, v)
    for a, b in zip(got, want):
        assert b.abs().max() > 0
        torch.testing.assert_close(a, b)


def test_third_order_fk_matches_reference():
    rot, off, par = fk_inputs(2, 5, requires_grad=True)
    v = torch.randn_like(rot)

    def third(fk):
        y = fk(rot, off, par).sin().sum()
        (g,) = torch.autograd.grad(y, rot, create_graph=True)
        (h,) = torch.autograd.grad((g * v).sum(), rot, create_graph=True)
        return torch.autograd.grad((h * v).sum(), (rot, off))

    for a, b in zip(third(torchrig.forward_kinematics), third(reference.forward_kinematics)):
        torch.testing.assert_close(a, b)


def test_forward_ad_dual_tensors_match_reference():
    rot, off, par, rest, inv_bind, idx, w = _pose_inputs()
    tangents = [torch.randn_like(t) for t in (rot, off, rest, w)]

    def jvp(fk, sk):
        with fwAD.dual_level():
            duals = [fwAD.make_dual(p, t) for p, t in zip((rot, off, rest, w), tangents)]
            out = _pose(fk, sk, duals[0], duals[1], par, duals[2], inv_bind, idx, duals[3])
            return fwAD.unpack_dual(out).tangent

    got = jvp(torchrig.forward_kinematics, torchrig.skin)
    want = jvp(reference.forward_kinematics, reference.skin)
    assert got is not None and want.abs().max() > 0
    torch.testing.assert_close(got, want)


def test_jacfwd_and_jacrev_match_reference():
    rot, off, par, rest, inv_bind, idx, w = _pose_inputs(B=1, J=4, V=8, K=2)

    def pose(fk, sk):
        return lambda r, o, x, ww: _pose(fk, sk, r, o, par, x, inv_bind, idx, ww)

    args = (rot, off, rest, w)
    want = torch.func.jacrev(pose(reference.forward_kinematics, reference.skin),
                             argnums=(0, 1, 2, 3))(*args)
    for transform in (torch.func.jacfwd, torch.func.jacrev):
        got = transform(pose(torchrig.forward_kinematics, torchrig.skin), argnums=(0, 1, 2, 3))(*args)
        for a, b in zip(got, want):
            torch.testing.assert_close(a, b)


def test_func_grad_and_vmap_grad_match_reference():
    rot, off, par, rest, inv_bind, idx, w = _pose_inputs()

    def loss(fk, sk):
        return lambda r: _pose(fk, sk, r, off, par, rest, inv_bind, idx, w).square().sum()

    want = torch.func.grad(loss(reference.forward_kinematics, reference.skin))(rot)
    torch.testing.assert_close(torch.func.grad(loss(torchrig.forward_kinematics, torchrig.skin))(rot),
                               want)
    rots = torch.stack([rot, rot.flip(0)])
    got = torch.vmap(torch.func.grad(loss(torchrig.forward_kinematics, torchrig.skin)))(rots)
    torch.testing.assert_close(got[0], want)
    torch.testing.assert_close(
        got[1], torch.func.grad(loss(reference.forward_kinematics, reference.skin))(rot.flip(0)))


def _vmap_cases():
    rot, off, par = fk_inputs(2, 5)
    rots, offs = torch.stack([rot, rot.mT]), torch.stack([off, 2 * off])
    boffs = torch.stack([off.expand(2, 5, 3), -off.expand(2, 5, 3)])
    rest, tf, idx, w = skin_inputs(2, 5, 12, 3)
    tfs, rests, ws = torch.stack([tf, -tf]), torch.stack([rest, 2 * rest]), torch.stack([w, w.flip(0)])
    brests = torch.stack([rest.expand(2, 12, 3), -rest.expand(2, 12, 3)])
    fk, sk = (torchrig.forward_kinematics, reference.forward_kinematics), (torchrig.skin, reference.skin)
    return [(fk, (0, None, None), (rots, off, par)), (fk, (None, 0, None), (rot, offs, par)),
            (fk, (0, 0, None), (rots, offs, par)), (fk, (1, 0, None), (rots.transpose(0, 1), boffs, par)),
            (sk, (None, 0, None, None), (rest, tfs, idx, w)), (sk, (0, 0, None, None), (rests, tfs, idx, w)),
            (sk, (0, None, None, None), (brests, tf, idx, w)),
            (sk, (None, 0, None, 0), (rest, tfs, idx, ws))]  # vmapped weights: one call per sample


@pytest.mark.parametrize("case", range(8))
def test_vmap_rules_match_per_sample_reference(case):
    (ours, ref), in_dims, args = _vmap_cases()[case]
    got = torch.vmap(ours, in_dims=in_dims)(*args)
    for i in range(2):
        one = [a.select(d, i) if d is not None else a for a, d in zip(args, in_dims)]
        torch.testing.assert_close(got[i], ref(*one))


def test_hessians_by_forward_over_reverse_match_reference():
    """torch.func.hessian is jacfwd(jacrev(f)): the backward ops' jvp under vmap."""
    rot, off, par = fk_inputs(1, 3)
    rest, tf, idx, w = skin_inputs(1, 3, 5, 2)
    cases = [(lambda fk: lambda r, o: fk(r, o, par).sin().sum(), torchrig.forward_kinematics,
              reference.forward_kinematics, (rot, off)),
             (lambda sk: lambda t, ww: sk(rest, t, idx, ww).sin().sum(), torchrig.skin,
              reference.skin, (tf, w))]
    for make, ours, ref, args in cases:
        got = torch.func.hessian(make(ours), argnums=(0, 1))(*args)
        want = torch.func.hessian(make(ref), argnums=(0, 1))(*args)
        for a, b in zip(torch.utils._pytree.tree_leaves(got), torch.utils._pytree.tree_leaves(want)):
            torch.testing.assert_close(a, b)


def test_jvp_of_grad_matches_reference():
    rot, off, par = fk_inputs(2, 4)
    v = torch.randn_like(rot)

    def f(fk):
        return lambda r: fk(r, off, par).sin().sum()

    _, got = torch.func.jvp(torch.func.grad(f(torchrig.forward_kinematics)), (rot,), (v,))
    _, want = torch.func.jvp(torch.func.grad(f(reference.forward_kinematics)), (rot,), (v,))
    torch.testing.assert_close(got, want)


def test_reverse_mode_runs_no_python_it_can_avoid():
    """The node autograd records for each build: classic, the C++ autograd kernel
    (csrc/classic/autograd.cpp, no Python on a call); stable (whose C API has no autograd), the
    reverse-only Functions of _derivatives._Reverse, not the ops' register_autograd kernel with
    its redispatch and Python bridge (about half the cost at B=1: bench --compare-abi)."""
    rot, off, par = fk_inputs(2, 5, seed=0, requires_grad=True)
    G = torchrig.forward_kinematics(rot, off, par)
    rest, w = torch.randn(7, 3, dtype=G.dtype), torch.rand(7, 2, dtype=G.dtype)
    y = torchrig.skin(rest, G, torch.randint(0, 5, (7, 2)), w)
    nodes = type(G.grad_fn).__name__, type(y.grad_fn).__name__
    if torchrig.BUILD_INFO.get("abi") == "stable":
        assert nodes == ("_forward_kinematics_reverseBackward", "_skin_reverseBackward")
    else:
        assert nodes == ("CppFunction", "CppFunction")
