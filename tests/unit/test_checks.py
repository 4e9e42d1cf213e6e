"""The fake kernels run the checks of csrc/classic/checks.cpp: same exception, same message.

Every bad-input case of test_bad_inputs.py is run on real CPU tensors (the C++
checks) and on ``meta`` tensors (the fake kernels, python/torchrig/_checks.py);
both must raise the same type with the same message. Checks that read data
(parents order, index ranges) exist only in C++ and are listed here.
Under ``torch.compile`` a bad input raises the eager ValueError / TypeError.
"""
from __future__ import annotations

import pytest
import torch
from helpers import fk_inputs, skin_inputs
from test_bad_inputs import FK_CASES, SKIN_CASES

OPS = torch.ops.torchrig
# need the values (C++ only), or put one argument on another device / None
NOT_SHAPE_CASES = {"parents order", "parents self", "parents < -1", "index too large",
                   "negative index", "device mix", "None"}


def _meta(args):
    return tuple(a.to("meta") if isinstance(a, torch.Tensor) else a for a in args)


def _error(fn, args):
    with pytest.raises(Exception) as info:
        fn(*args)
    return type(info.value), str(info.value)


def _fk_args(case):
    return FK_CASES[case][0](*fk_inputs(2, 7))


def _skin_args(case):
    return SKIN_CASES[case][0](*skin_inputs(2, 7, 30, 3))


BACKWARD_CASES = {
    "fk grad shape": lambda: (OPS.forward_kinematics_backward.default,
                              (lambda r, o, p: (torch.zeros(1, 7, 3, 4, dtype=r.dtype), r, o, p,
                                                torch.zeros(2, 7, 3, 4, dtype=r.dtype)))(*fk_inputs(2, 7))),
    "fk transforms dtype": lambda: (OPS.forward_kinematics_backward.default,
                                    (lambda r, o, p: (torch.zeros(2, 7, 3, 4, dtype=r.dtype), r, o, p,
                                                      torch.zeros(2, 7, 3, 4)))(*fk_inputs(2, 7))),
    "fk bad rotations": lambda: (OPS.forward_kinematics_backward.default,
                                 (lambda r, o, p: (torch.zeros(2, 7, 3, 4, dtype=r.dtype), r[..., :2], o,
                                                   p, torch.zeros(2, 7, 3, 4, dtype=r.dtype)))(
                                     *fk_inputs(2, 7))),
    "skin grad shape": lambda: (OPS.skin_backward.default,
                                (torch.zeros(2, 29, 3, dtype=torch.float64), *skin_inputs(2, 7, 30, 3),
                                 [True, True, True])),
    "skin grad dtype": lambda: (OPS.skin_backward.default,
                                (torch.zeros(2, 30, 3), *skin_inputs(2, 7, 30, 3), [True, True, True])),
    "skin int32 indices": lambda: (OPS.skin_backward.default,
                                   (lambda x, t, i, w: (torch.zeros(2, 30, 3, dtype=t.dtype), x, t,
                                                        i.int(), w, [True, True, True]))(
                                       *skin_inputs(2, 7, 30, 3))),
}


@pytest.mark.parametrize("case", sorted(set(FK_CASES) - NOT_SHAPE_CASES))
def test_fk_fake_raises_like_the_real_kernel(case):
    args = _fk_args(case)
    real = _error(OPS.forward_kinematics.default, args)
    assert _error(OPS.forward_kinematics.default, _meta(args)) == real


@pytest.mark.parametrize("case", sorted(set(SKIN_CASES) - NOT_SHAPE_CASES))
def test_skin_fake_raises_like_the_real_kernel(case):
    args = _skin_args(case)
    real = _error(OPS.skin.default, args)
    assert _error(OPS.skin.default, _meta(args)) == real


@pytest.mark.parametrize("case", BACKWARD_CASES)
def test_backward_fakes_raise_like_the_real_kernels(case):
    op, args = BACKWARD_CASES[case]()
    real = _error(op, args)
    assert _error(op, _meta(args)) == real


def test_the_listed_value_checks_are_the_only_ones_the_fake_cannot_run():
    """A value-dependent case passes on meta tensors; every other case raises there."""
    for case in NOT_SHAPE_CASES & {"parents order", "parents self", "parents < -1"}:
        OPS.forward_kinematics.default(*_meta(_fk_args(case)))
    for case in NOT_SHAPE_CASES & {"index too large", "negative index"}:
        OPS.skin.default(*_meta(_skin_args(case)))


COMPILE_CASES = [("fk", "rotations rank"), ("fk", "offsets J"), ("fk", "parents dtype"),
                 ("fk", "half"), ("skin", "transforms rank"), ("skin", "K = 0"),
                 ("skin", "float indices"), ("skin", "rest V")]


@pytest.mark.parametrize("op,case", COMPILE_CASES)
def test_compiled_bad_input_raises_the_eager_error(op, case):
    """torch.compile: the eager type and message; fullgraph=True keeps the message."""
    import torchrig

    fn = torchrig.forward_kinematics if op == "fk" else torchrig.skin
    args = _fk_args(case) if op == "fk" else _skin_args(case)
    eager = _error(fn, args)
    torch._dynamo.reset()
    assert _error(torch.compile(fn, backend="eager"), args) == eager
    # symbolic sizes (issue 29): the messages print them through int(); before, Dynamo
    # failed inside the f-strings ("TypeError: sequence item 1: expected str instance")
    torch._dynamo.reset()
    assert _error(torch.compile(fn, backend="eager", dynamic=True), args) == eager
    torch._dynamo.reset()
    assert eager[1] in _error(torch.compile(fn, fullgraph=True, backend="eager"), args)[1]
    torch._dynamo.reset()  # before: "Failed to trace builtin operator str"
    assert eager[1] in _error(torch.compile(fn, fullgraph=True, dynamic=True, backend="eager"),
                              args)[1]
