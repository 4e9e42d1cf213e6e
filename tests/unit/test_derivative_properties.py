"""Property suite: derivatives of random rigs equal torchrig.reference's.

Hypothesis draws a rig (tree shape, B, J, V, K, shared or batched offsets and
rest) and a memory layout for each differentiable input (contiguous,
transposed, strided, offset, expanded; views of float64 leaves), then compares
``pose = skin(rest, forward_kinematics(rot, off, parents), indices, weights)``
with the reference in

* first order (reverse): the gradient of ``<c, pose>`` w.r.t. every leaf;
* second order: a Hessian-vector product (double backward);
* forward mode: the tangent of ``pose`` through ``torch.autograd.forward_ad``;
* compiled: the first-order gradient under ``torch.compile`` (aot_eager).

Examples per test: ``TORCHRIG_DERIV_EXAMPLES``, else 200 when
``TORCHRIG_RUN_SLOW=1`` and 25 otherwise (a third of that, and 3 by default,
for the compiled test).
"""
from __future__ import annotations

import os

import torch
import torch.autograd.forward_ad as fwAD
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz import LAYOUTS, TREES, lay_out, random_parents

import torchrig
from torchrig import reference
from torchrig.rotations import axis_angle_to_matrix

RUN_SLOW = os.environ.get("TORCHRIG_RUN_SLOW") == "1"
EXAMPLES = int(os.environ.get("TORCHRIG_DERIV_EXAMPLES") or (200 if RUN_SLOW else 25))
PROPS = settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
                 suppress_health_check=[HealthCheck.too_slow])
COMPILED = settings(max_examples=max(1, EXAMPLES // 3) if (RUN_SLOW or "TORCHRIG_DERIV_EXAMPLES"
                                                             in os.environ) else 3,
                    deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
TOL = dict(atol=1e-9, rtol=1e-9)

RIGS = dict(B=st.integers(1, 3), J=st.integers(1, 10), V=st.integers(1, 16), K=st.integers(1, 4),
            tree=st.sampled_from(TREES), batched_off=st.booleans(), batched_rest=st.booleans(),
            layouts=st.tuples(*[st.sampled_from(LAYOUTS)] * 4), seed=st.integers(0, 2**31 - 1))


def make_rig(B, J, V, K, tree, batched_off, batched_rest, seed):
    """Leaves ``[rot [B,J,3], off, rest, weights]`` (float64, requiring grad) and constants."""
    g = torch.Generator().manual_seed(seed)
    kw = dict(generator=g, dtype=torch.float64)
    parents = random_parents(J, tree, g)
    leaves = [torch.randn(B, J, 3, **kw), torch.randn(*((B,) if batched_off else ()), J, 3, **kw),
              torch.randn(*((B,) if batched_rest else ()), V, 3, **kw), torch.rand(V, K, **kw)]
    indices = torch.randint(0, J, (V, K), generator=g)
    return [t.requires_grad_() for t in leaves], parents, indices, g


def pose(fk, sk, leaves, parents, indices, layouts):
    """Posed vertices ``[B, V, 3]`` from the leaves seen through the drawn layouts."""
    aa, off, rest, w = (lay_out(t, lay) for t, lay in zip(leaves, layouts))
    G = fk(axis_angle_to_matrix(aa), off, parents)
    return sk(rest, G, indices, w)


OURS = (torchrig.forward_kinematics, torchrig.skin)
REF = (reference.forward_kinematics, reference.skin)


def _assert_all_close(got, want):
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, **TOL)


@PROPS
@given(**RIGS)
def test_first_and_second_order_match_reference(B, J, V, K, tree, batched_off, batched_rest,
                                                layouts, seed):
    leaves, parents, indices, g = make_rig(B, J, V, K, tree, batched_off, batched_rest, seed)
    c = torch.randn(B, V, 3, generator=g, dtype=torch.float64)
    v = [torch.randn(t.shape, generator=g, dtype=torch.float64) for t in leaves]

    def derivatives(ops):
        out = pose(*ops, leaves, parents, indices, layouts)
        grads = torch.autograd.grad((out * c).sum(), leaves, create_graph=True)
        hvp = torch.autograd.grad(sum((gr * vv).sum() for gr, vv in zip(grads, v)), leaves,
                                  allow_unused=True, materialize_grads=True)
        return [t.detach() for t in grads], hvp

    (g1, h1), (g2, h2) = derivatives(OURS), derivatives(REF)
    _assert_all_close(g1, g2)
    _assert_all_close(h1, h2)


@PROPS
@given(**RIGS)
def test_forward_mode_matches_reference(B, J, V, K, tree, batched_off, batched_rest, layouts, seed):
    leaves, parents, indices, g = make_rig(B, J, V, K, tree, batched_off, batched_rest, seed)
    tangents = [torch.randn(t.shape, generator=g, dtype=torch.float64) for t in leaves]

    def tangent(ops):
        with fwAD.dual_level():
            duals = [fwAD.make_dual(t.detach(), d) for t, d in zip(leaves, tangents)]
            return fwAD.unpack_dual(pose(*ops, duals, parents, indices, layouts)).tangent

    got = tangent(OURS)
    assert got is not None
    torch.testing.assert_close(got, tangent(REF), **TOL)


@COMPILED
@given(**RIGS)
def test_compiled_first_order_matches_reference(B, J, V, K, tree, batched_off, batched_rest,
                                                layouts, seed):
    leaves, parents, indices, g = make_rig(B, J, V, K, tree, batched_off, batched_rest, seed)
    c = torch.randn(B, V, 3, generator=g, dtype=torch.float64)

    def loss(*leaves):
        return (pose(*OURS, leaves, parents, indices, layouts) * c).sum()

    torch._dynamo.reset()
    compiled = torch.compile(loss, fullgraph=True, backend="aot_eager")
    got = torch.autograd.grad(compiled(*leaves), leaves)
    want = torch.autograd.grad((pose(*REF, leaves, parents, indices, layouts) * c).sum(), leaves)
    _assert_all_close(got, want)
