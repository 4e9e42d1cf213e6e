"""Forward-mode AD where it used to give zeros silently (issue 29, item 1): nested forward
mode is refused with a NotImplementedError that says so; one level, also under torch.compile,
and forward-over-reverse / reverse-over-forward agree with the reference."""
from __future__ import annotations

import pytest
import torch
import torch.autograd.forward_ad as fwAD
from torch.func import hessian, jacfwd, jacrev, jvp

import torchrig
from torchrig import reference


def _fk_inputs():
    g = torch.Generator().manual_seed(0)
    r = torchrig.rotations.axis_angle_to_matrix(torch.randn(1, 3, 3, generator=g, dtype=torch.float64))
    o = torch.randn(3, 3, generator=g, dtype=torch.float64)
    return r, o, torch.tensor([-1, 0, 1]), torch.randn(1, 3, 3, 3, generator=g, dtype=torch.float64)


def _skin_inputs():
    g = torch.Generator().manual_seed(1)
    tf = torch.randn(2, 4, 3, 4, generator=g, dtype=torch.float64)
    rest = torch.randn(6, 3, generator=g, dtype=torch.float64)
    idx, w = torch.randint(0, 4, (6, 2), generator=g), torch.rand(6, 2, generator=g, dtype=torch.float64)
    return rest, tf, idx, w, torch.randn_like(tf)


def _first_jvp(lib):
    r, o, p, v = _fk_inputs()
    return lambda q: jvp(lambda s: lib.forward_kinematics(s, o, p), (q,), (v,))[1]


def test_nested_jvp_is_refused_not_zero():
    r, _, _, v = _fk_inputs()
    with pytest.raises(NotImplementedError, match="forward-mode AD of forward-mode AD"):
        jvp(_first_jvp(torchrig), (r,), (v,))
    rest, tf, idx, w, t = _skin_inputs()
    inner = lambda x: jvp(lambda s: torchrig.skin(rest, s, idx, w), (x,), (t,))[1]  # noqa: E731
    with pytest.raises(NotImplementedError, match="jvp of jvp"):
        jvp(inner, (tf,), (t,))


def test_jacfwd_of_jacfwd_is_refused_not_zero():
    r, o, p, _ = _fk_inputs()
    loss = lambda q: torchrig.forward_kinematics(q, o, p).pow(2).sum()  # noqa: E731
    with pytest.raises(NotImplementedError, match="jacfwd of jacfwd"):
        jacfwd(jacfwd(loss))(r)


@pytest.mark.parametrize("outer, inner", [(jacrev, jacfwd), (jacfwd, jacrev), (hessian, None)])
def test_mixed_second_order_matches_the_reference(outer, inner):
    r, o, p, _ = _fk_inputs()

    def second(lib):
        loss = lambda q: lib.forward_kinematics(q, o, p).pow(2).sum()  # noqa: E731
        return outer(loss)(r) if inner is None else outer(inner(loss))(r)
    torch.testing.assert_close(second(torchrig), second(reference))


def test_compiled_jvp_matches_eager():
    """torch.compile of a function taking a jvp: the reference's tangent, not zeros."""
    r, *_ = _fk_inputs()
    torch._dynamo.reset()
    got = torch.compile(_first_jvp(torchrig), backend="eager")(r)
    torch.testing.assert_close(got, _first_jvp(reference)(r))
    assert got.abs().max() > 0


def test_dual_tensor_under_compile_keeps_its_tangent():
    r, o, p, v = _fk_inputs()
    torch._dynamo.reset()
    f = torch.compile(lambda q, t: fwAD.unpack_dual(
        torchrig.forward_kinematics(fwAD.make_dual(q, t), o, p)).tangent, backend="eager")
    with fwAD.dual_level():
        got = f(r, v)
    torch.testing.assert_close(got, _first_jvp(reference)(r))
