"""The forward ops' C++ autograd kernels (csrc/classic/autograd.cpp, classic build): no Python per call."""
from __future__ import annotations

import os
import pathlib
import sys
from contextlib import contextmanager

import pytest
import torch

import torchrig
from helpers import fk_inputs, skin_inputs

pytestmark = pytest.mark.skipif(torchrig.BUILD_INFO.get("abi") == "stable",
                                reason="the stable build's autograd is Python (ops.py)")

ops = torch.ops.torchrig


@contextmanager
def python_calls():
    """Collects the ``file:function`` of every Python call made inside the block."""
    seen: list[str] = []

    def profile(frame, event, arg):
        if event == "call":
            seen.append(f"{frame.f_code.co_filename}:{frame.f_code.co_name}")
    sys.setprofile(profile)
    try:
        yield seen
    finally:
        sys.setprofile(None)


PACKAGES = (str(pathlib.Path(torchrig.__file__).parent) + os.sep,
            str(pathlib.Path(torch.__file__).parent / "_library") + os.sep)


def _torchrig_or_library(seen: list[str]) -> list[str]:
    # torch/_ops.py (OpOverload.__call__) is the Python entry of any op; what must not
    # run is an autograd kernel in Python (torch/_library) or torchrig's formulas. Matched
    # by package folder: a venv path may contain "torchrig" too (<cache>/torchrig/venv-...).
    return [s for s in seen if s.startswith(PACKAGES)]


@pytest.mark.parametrize("grad", [False, True], ids=["no_grad", "grad_mode"])
def test_forward_ops_run_no_python_autograd(grad):
    rot, off, par = fk_inputs()
    rest, tf, idx, w = skin_inputs()
    with torch.set_grad_enabled(grad), python_calls() as seen:
        ops.forward_kinematics.default(rot, off, par)
        ops.skin.default(rest, tf, idx, w)
    assert _torchrig_or_library(seen) == []


def test_first_order_backward_runs_no_python():
    rot, off, par = fk_inputs(requires_grad=True)
    rest, tf, idx, w = skin_inputs(requires_grad=True)
    G = ops.forward_kinematics.default(rot, off, par)
    V = ops.skin.default(rest, tf, idx, w)
    assert G.grad_fn is not None and V.grad_fn is not None
    with python_calls() as seen:
        torch.autograd.grad((G.sum(), V.sum()), (rot, off, rest, tf, w))
    assert _torchrig_or_library(seen) == []


def test_gradients_match_the_python_formulas():
    """The C++ first-order formulas against the backward ops called by hand."""
    rot, off, par = fk_inputs(requires_grad=True)
    G = ops.forward_kinematics.default(rot, off, par)
    g = torch.randn_like(G)
    d_rot, d_off = torch.autograd.grad(G, (rot, off), g)
    want = ops.forward_kinematics_backward.default(g, rot.detach(), off.detach(), par, G.detach())
    torch.testing.assert_close((d_rot, d_off), want, rtol=0, atol=0)

    rest, tf, idx, w = skin_inputs(requires_grad=True)
    out = ops.skin.default(rest, tf, idx, w)
    g = torch.randn_like(out)
    got = torch.autograd.grad(out, (rest, tf, w), g)
    want = ops.skin_backward.default(g, rest.detach(), tf.detach(), idx, w.detach(),
                                     [True, True, True])
    torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_create_graph_keeps_second_order():
    """With create_graph the backward op's own (Python) autograd is recorded."""
    rot, off, par = fk_inputs(requires_grad=True)
    G = ops.forward_kinematics.default(rot, off, par)
    (d_rot,) = torch.autograd.grad(G.square().sum(), rot, create_graph=True)
    assert d_rot.grad_fn is not None
    (h,) = torch.autograd.grad(d_rot.sum(), rot)
    assert h.isfinite().all() and h.abs().sum() > 0
