"""Fuzzing the ops: random rigs match the reference, random bad input raises clearly.

Hypothesis generates two kinds of examples:

* valid calls on random rigs - any tree shape (one root, forests, chains,
  stars), B, J or V = 0, K from 1 to 8, repeated joints and signed weights,
  float32/float64, non-contiguous, offset and stride-0 views (the gaps in their
  storage are poisoned with NaN or huge indices), NaN/inf values - must equal
  ``torchrig.reference`` in value and in every gradient asked for, and the
  fake kernel (``meta`` device) must agree on the output shape;
* one mutation of a valid call of any op, forward or backward - wrong rank or
  size, dtype, device, non-tensor, sparse layout, out-of-range / negative /
  huge indices, unordered or cyclic parents, K = 0, J = 0 - must raise a
  ValueError / TypeError / RuntimeError whose message names the argument.

Examples per hypothesis test: ``TORCHRIG_FUZZ_EXAMPLES``, else 1000 when
``TORCHRIG_RUN_SLOW=1`` (CI) and 300 otherwise. A crash is reported by pytest's
faulthandler with the test's stack; a call running longer than
``TORCHRIG_FUZZ_HANG_S`` seconds (default 120) dumps every thread's stack and
ends the run (see :func:`watchdog`).
"""
from __future__ import annotations

import contextlib
import faulthandler
import os
import re
from dataclasses import dataclass
from typing import Any, Callable

import pytest
import torch
from helpers import fk_inputs, skin_inputs
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import torchrig
from torchrig import reference
from torchrig.rotations import axis_angle_to_matrix

RUN_SLOW = os.environ.get("TORCHRIG_RUN_SLOW") == "1"
EXAMPLES = int(os.environ.get("TORCHRIG_FUZZ_EXAMPLES") or (1000 if RUN_SLOW else 300))
HANG_S = float(os.environ.get("TORCHRIG_FUZZ_HANG_S", "120"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]
FLOATS = (torch.float32, torch.float64)
TOL = {torch.float32: 1e-4, torch.float64: 1e-10}  # relative to the largest |reference| entry
TREES = ("one root", "forest", "chain", "star")
LAYOUTS = ("contiguous", "transposed", "strided", "offset", "expanded")
SEEDS = st.integers(0, 2**31 - 1)
OPS = torch.ops.torchrig


# --- building blocks -----------------------------------------------------------

_TERMINAL: list[int] = []  # a copy of the terminal's stderr, taken while capture is off


@pytest.fixture(scope="module", autouse=True)
def _terminal_stderr(pytestconfig):
    """Keeps an fd to the real stderr: under pytest's fd capture, a dump written
    to fd 2 lands in a capture file that is lost when the watchdog ends the run."""
    with pytestconfig.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        _TERMINAL.append(os.dup(2))
    yield
    os.close(_TERMINAL.pop())


@contextlib.contextmanager
def watchdog():
    """Ends the whole run (status 1), printing every thread's stack, if the body hangs."""
    faulthandler.dump_traceback_later(HANG_S, exit=True, file=_TERMINAL[-1] if _TERMINAL else 2)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def random_parents(J: int, tree: str, g: torch.Generator) -> torch.Tensor:
    """``[J]`` int64 parents in topological order (parents[j] in [-1, j))."""
    if tree == "chain":
        return torch.arange(J) - 1
    if tree == "star":
        return torch.tensor([-1] + [0] * (J - 1))[:J]
    low = -1 if tree == "forest" else 0  # a forest has roots anywhere
    rest = [int(torch.randint(low, j, (1,), generator=g)) for j in range(1, J)]
    return torch.tensor([-1][:J] + rest, dtype=torch.long)


def _poison(t: torch.Tensor) -> torch.Tensor:
    """Values that must never be read: NaN, or an index far out of range."""
    return torch.full_like(t, float("nan") if t.is_floating_point() else 2**62)


def lay_out(t: torch.Tensor, layout: str) -> torch.Tensor:
    """``t`` in a view with other strides (differentiable w.r.t. ``t``).

    "expanded" broadcasts ``t[:1]`` over the first dimension (stride 0), so its
    values differ from ``t``; the others keep them and poison the storage gaps.
    """
    if layout == "transposed" and t.dim() >= 2:
        return t.transpose(-1, -2).contiguous().transpose(-1, -2)
    if layout == "strided":
        return torch.stack([t, _poison(t)], dim=-1)[..., 0]
    if layout == "offset":
        return torch.cat([_poison(t).reshape(-1)[:1], t.reshape(-1)])[1:].view(t.shape)
    if layout == "expanded" and t.dim() >= 2 and t.shape[0] > 0:
        return t[:1].expand_as(t)
    return t


def poison_one_value(args: list[torch.Tensor], g: torch.Generator) -> None:
    """Writes NaN, inf or -inf into one random entry of one float tensor."""
    floats = [t for t in args if t.is_floating_point() and t.numel() > 0]
    if floats:
        t = floats[int(torch.randint(len(floats), (1,), generator=g))]
        value = (float("nan"), float("inf"), float("-inf"))[int(torch.randint(3, (1,), generator=g))]
        t.view(-1)[int(torch.randint(t.numel(), (1,), generator=g))] = value


def assert_matches(got: torch.Tensor, want: torch.Tensor) -> None:
    """Equal within the dtype's tolerance wherever the reference is finite."""
    assert got.shape == want.shape and got.dtype == want.dtype and got.device == want.device
    finite = torch.isfinite(want)
    got, want = got[finite], want[finite]
    tol = TOL[want.dtype] * (1 + (want.abs().max().item() if want.numel() else 0))
    torch.testing.assert_close(got, want, atol=tol, rtol=TOL[want.dtype])


def check_against_reference(op: Callable, ref: Callable, args: list, leaves: list,
                            g: torch.Generator, nonfinite: bool) -> None:
    """Values and the gradients w.r.t. ``leaves`` of ``op(*args)`` equal ``ref(*args)``'s.

    The fake kernel must give the shape of the real output for the same input.
    """
    with watchdog():
        got = op(*args)
    want = ref(*args)
    assert_matches(got, want)
    with torch.no_grad():
        assert op(*[a.detach().to("meta") for a in args]).shape == got.shape
    wanted = [t for t in leaves if t.requires_grad]
    if not wanted or nonfinite or not want.requires_grad:
        return
    up = torch.randn(got.shape, generator=g, dtype=got.dtype).to(got.device)
    kw = dict(allow_unused=True, materialize_grads=True)
    with watchdog():
        g_got = torch.autograd.grad(got, wanted, up, **kw)
    for a, b in zip(g_got, torch.autograd.grad(want, wanted, up, **kw)):
        assert_matches(a, b)


# --- valid random rigs ---------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
@FUZZ
@given(B=st.integers(0, 5), J=st.integers(0, 40), tree=st.sampled_from(TREES),
       batched=st.booleans(), dtype=st.sampled_from(FLOATS),
       layouts=st.tuples(*[st.sampled_from(LAYOUTS)] * 3), grads=st.tuples(st.booleans(), st.booleans()),
       nonfinite=st.booleans(), seed=SEEDS)
def test_fk_random_rig_matches_reference(device, B, J, tree, batched, dtype, layouts, grads,
                                         nonfinite, seed):
    g = torch.Generator().manual_seed(seed)
    rotations = axis_angle_to_matrix(torch.randn(B, J, 3, generator=g, dtype=dtype))
    offsets = torch.randn((B, J, 3) if batched else (J, 3), generator=g, dtype=dtype)
    if nonfinite:
        poison_one_value([rotations, offsets], g)
    leaves = [t.to(device).requires_grad_(r) for t, r in zip((rotations, offsets), grads)]
    tensors = (*leaves, random_parents(J, tree, g).to(device))
    args = [lay_out(t, layout) for t, layout in zip(tensors, layouts)]
    check_against_reference(torchrig.forward_kinematics, reference.forward_kinematics, args, leaves,
                            g, nonfinite)


@pytest.mark.parametrize("device", DEVICES)
@FUZZ
@given(B=st.integers(0, 4), J=st.integers(0, 30), V=st.integers(0, 300), K=st.integers(1, 8),
       batched=st.booleans(), dtype=st.sampled_from(FLOATS),
       layouts=st.tuples(*[st.sampled_from(LAYOUTS)] * 4),
       grads=st.tuples(st.booleans(), st.booleans(), st.booleans()), nonfinite=st.booleans(),
       seed=SEEDS)
def test_skin_random_rig_matches_reference(device, B, J, V, K, batched, dtype, layouts, grads,
                                           nonfinite, seed):
    V = V if J else 0  # without joints, only an empty mesh is valid
    g = torch.Generator().manual_seed(seed)
    rest = torch.randn((B, V, 3) if batched else (V, 3), generator=g, dtype=dtype)
    transforms = torch.randn(B, J, 3, 4, generator=g, dtype=dtype)
    weights = torch.randn(V, K, generator=g, dtype=dtype)  # any sign, any sum
    indices = torch.randint(max(J, 1), (V, K), generator=g)  # repeats included
    if nonfinite:
        poison_one_value([rest, transforms, weights], g)
    leaves = [t.to(device).requires_grad_(r) for t, r in zip((rest, transforms, weights), grads)]
    tensors = (leaves[0], leaves[1], indices.to(device), leaves[2])
    args = [lay_out(t, layout) for t, layout in zip(tensors, layouts)]
    check_against_reference(torchrig.skin, reference.skin, args, leaves, g, nonfinite)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("B,threads", [(0, 2), (1, 1), (1, 4), (2, 3)])
def test_huge_vertex_count_small_batch(device, B, threads):
    """V = 200k, B <= 2: vertex tiling and the chunked dL/dtransforms reduction at scale."""
    saved = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        args = skin_inputs(B, 16, 200_003, 4, device=device, requires_grad=True)
        check_against_reference(torchrig.skin, reference.skin, list(args), [args[0], args[1], args[3]],
                                torch.Generator().manual_seed(B), nonfinite=False)
    finally:
        torch.set_num_threads(saved)


@pytest.mark.parametrize("device", DEVICES)
def test_deep_chain(device):
    """1000 joints in one chain: the longest dependency the FK passes can meet."""
    rotations, offsets, _ = fk_inputs(2, 1000, device=device, requires_grad=True)
    parents = (torch.arange(1000) - 1).to(device)
    check_against_reference(torchrig.forward_kinematics, reference.forward_kinematics,
                            [rotations, offsets, parents], [rotations, offsets],
                            torch.Generator().manual_seed(0), nonfinite=False)


# --- bad input -------------------------------------------------------------------

@dataclass
class Call:
    """One op call: arguments in schema order and their symbolic shapes."""

    op: Callable
    args: dict[str, Any]
    dims: dict[str, tuple]


@dataclass
class Expect:
    """The error a mutated call must raise: its type and a regex its message must match."""

    types: tuple[type[BaseException], ...]
    pattern: str


def naming(*names: str, types=(ValueError,)) -> Expect:
    """An error whose message names one of ``names`` as a whole word."""
    return Expect(types, r"\b(" + "|".join(map(re.escape, names)) + r")\b")


@st.composite
def calls(draw, device: str) -> Call:
    """A valid call of any of the four ops on small random inputs in random layouts."""
    op = draw(st.sampled_from(["fk", "fk_backward", "skin", "skin_backward"]))
    B, J, batched = draw(st.integers(0, 3)), draw(st.integers(1, 8)), draw(st.booleans())
    seed = draw(SEEDS)
    kw = dict(dtype=draw(st.sampled_from(FLOATS)), device=device, seed=seed)
    if op.startswith("fk"):
        rot, off, par = fk_inputs(B, J, batched_offsets=batched, **kw)
        args = {"rotations": rot, "offsets": off, "parents": par}
        dims = {"rotations": ("B", "J", 3, 3), "offsets": ("B", "J", 3) if batched else ("J", 3),
                "parents": ("J",)}
        G = torchrig.forward_kinematics(rot, off, par)
        grad_name, grad_dims, extra = "grad_transforms", ("B", "J", 3, 4), {"transforms": G}
    else:
        V, K = draw(st.integers(1, 40)), draw(st.integers(1, 5))
        rest, tf, idx, w = skin_inputs(B, J, V, K, batched_rest=batched, **kw)
        args = {"rest_vertices": rest, "transforms": tf, "indices": idx, "weights": w}
        dims = {"rest_vertices": ("B", "V", 3) if batched else ("V", 3),
                "transforms": ("B", "J", 3, 4), "indices": ("V", "K"), "weights": ("V", "K")}
        G = torchrig.skin(rest, tf, idx, w)
        grad_name, grad_dims, extra = "grad_vertices", ("B", "V", 3), {}
    args = {k: lay_out(v, draw(st.sampled_from(LAYOUTS))) for k, v in args.items()}
    if op == "fk":
        return Call(OPS.forward_kinematics.default, args, dims)
    if op == "skin":
        return Call(OPS.skin.default, args, dims)
    grad = torch.randn(G.shape, generator=torch.Generator().manual_seed(seed), dtype=G.dtype)
    args = {grad_name: grad.to(device), **args, **extra}
    dims = {grad_name: grad_dims, **dims, **{k: grad_dims for k in extra}}
    if op == "fk_backward":
        return Call(OPS.forward_kinematics_backward.default, args, dims)
    mask = list(draw(st.tuples(st.booleans(), st.booleans(), st.booleans())))
    return Call(OPS.skin_backward.default, {**args, "output_mask": mask}, dims)


def m_rank(call, name, data):
    t = call.args[name]  # flattened, or a trailing 1 appended: never a valid shape
    call.args[name] = t.reshape(-1) if t.dim() >= 2 and data.draw(st.booleans()) else t.unsqueeze(-1)
    return naming(name)


def m_size(call, name, data):
    """One dimension one longer or shorter: a fixed size, or one another argument shares."""
    t, dims = call.args[name], call.dims[name]
    sharing = {s: [n for n, ds in call.dims.items() if s in ds] for s in dims}
    eligible = [d for d, s in enumerate(dims) if isinstance(s, int) or len(sharing[s]) >= 2]
    d = data.draw(st.sampled_from(eligible))
    if t.shape[d] > 0 and data.draw(st.booleans()):
        call.args[name] = t.narrow(d, 0, t.shape[d] - 1)
    else:
        pad = list(t.shape)
        pad[d] = 1
        call.args[name] = torch.cat([t, t.new_zeros(pad)], d)
    s = dims[d]
    return naming(name) if isinstance(s, int) else naming(*sharing[s])


def m_dtype(call, name, data):
    t = call.args[name]
    if t.is_floating_point():
        choices = [d for d in FLOATS if d != t.dtype] + [torch.float16, torch.bfloat16, torch.int64,
                                                        torch.int32, torch.bool, torch.complex64]
    else:
        choices = [torch.int32, torch.int16, torch.uint8, torch.float32, torch.float64, torch.bool]
    call.args[name] = t.to(data.draw(st.sampled_from(choices)))
    return naming(name, types=(TypeError,))


def m_device(call, name, data):
    t = call.args[name]
    others = ["meta"] + (["cpu" if t.is_cuda else "cuda"] if torch.cuda.is_available() else [])
    call.args[name] = t.to(data.draw(st.sampled_from(others)))
    return naming(name)


def m_not_tensor(call, name, data):
    t = call.args[name]  # None arrives in C++ as an undefined tensor
    call.args[name] = data.draw(st.sampled_from([t.tolist(), 1.0, None]))
    return naming(name, types=(ValueError, TypeError, RuntimeError))


def m_sparse(call, name, data):
    call.args[name] = call.args[name].to_sparse()  # refused by the dispatcher, before our checks
    return Expect((NotImplementedError,), r"Sparse\w+' backend")


def m_bad_value(call, name, data):
    """One parent >= its joint (self, forward, cyclic) or < -1; one index outside [0, J)."""
    t = call.args[name].clone(memory_format=torch.contiguous_format)
    flat = t.view(-1)
    i = data.draw(st.integers(0, flat.numel() - 1))
    j = i if name == "parents" else call.args["transforms"].shape[1]  # lowest value too large
    low = -2 if name == "parents" else -1  # highest value too small
    flat[i] = data.draw(st.one_of(st.sampled_from([j, low, 2**63 - 1, -2**63]),
                                  st.integers(j, j + 10), st.integers(-2**63, low)))
    call.args[name] = t
    return naming(name)


def m_shuffle_parents(call, name, data):
    """Permuted parents: an error unless the permutation happens to stay ordered."""
    p = call.args[name]
    perm = torch.randperm(p.numel(), generator=torch.Generator().manual_seed(data.draw(SEEDS)))
    call.args[name] = p[perm.to(p.device)]
    values = call.args[name].tolist()
    ordered = all(-1 <= v < j for j, v in enumerate(values))
    return None if ordered else naming(name)


def m_no_influences(call, name, data):
    """K = 0 (indices and weights [V, 0]) or J = 0 (transforms [B, 0, 3, 4]) with V >= 1."""
    if data.draw(st.booleans()):
        call.args["indices"] = call.args["indices"][:, :0]
        call.args["weights"] = call.args["weights"][:, :0]
    else:
        call.args["transforms"] = call.args["transforms"][:, :0]
    return naming("indices")


ANY = lambda name, t: True  # noqa: E731
MUTATIONS = {  # mutation: does it apply to this tensor argument
    m_rank: ANY, m_size: ANY, m_dtype: ANY, m_device: ANY, m_not_tensor: ANY, m_sparse: ANY,
    m_bad_value: lambda name, t: name in ("parents", "indices") and t.numel() > 0,
    m_shuffle_parents: lambda name, t: name == "parents",
    m_no_influences: lambda name, t: name == "indices",
}


@pytest.mark.parametrize("device", DEVICES)
@FUZZ
@given(data=st.data())
def test_bad_input_raises_an_error_naming_the_argument(device, data):
    call = data.draw(calls(device))
    choices = {m: [n for n, t in call.args.items() if isinstance(t, torch.Tensor) and applies(n, t)]
               for m, applies in MUTATIONS.items()}
    mutate = data.draw(st.sampled_from([m for m, names in choices.items() if names]))
    name = data.draw(st.sampled_from(choices[mutate]))
    expect = mutate(call, name, data)  # None: the mutation kept the call valid
    raised = None
    with watchdog():
        try:
            call.op(*call.args.values())
        except Exception as exc:  # noqa: BLE001 - any kind is checked below
            raised = exc
    event(f"{mutate.__name__} -> {type(raised).__name__ if raised else 'no error'}")
    what = f"{mutate.__name__}({name})"
    if expect is None:
        assert raised is None, f"{what} kept the call valid, yet it raised {raised!r}"
        return
    assert isinstance(raised, expect.types), f"{what}: expected {expect.types}, got {raised!r}"
    assert re.search(expect.pattern, str(raised)), \
        f"{what}: message does not match {expect.pattern!r}: {raised}"
