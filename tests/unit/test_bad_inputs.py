"""Every bad input raises a Python error naming the argument - never a crash."""
from __future__ import annotations

import pytest
import torch
from helpers import fk_inputs, skin_inputs

import torchrig

FK_CASES = {
    "rotations rank": (lambda r, o, p: (r[0], o, p), ValueError, "rotations must have shape"),
    "rotations 3x4": (lambda r, o, p: (torch.cat([r, r[..., :1]], -1), o, p), ValueError, "rotations"),
    "offsets J": (lambda r, o, p: (r, o[:-1], p), ValueError, "offsets must have shape"),
    "offsets B": (lambda r, o, p: (r, o.expand(5, *o.shape), p), ValueError, "offsets must have shape"),
    "parents J": (lambda r, o, p: (r, o, p[:-1]), ValueError, "parents must have shape"),
    "parents dtype": (lambda r, o, p: (r, o, p.int()), TypeError, "parents must be int64"),
    "float parents": (lambda r, o, p: (r, o, p.double()), TypeError, "parents must be int64"),
    "offsets [J, 4]": (lambda r, o, p: (r, torch.cat([o, o[:, :1]], 1), p), ValueError,
                       "offsets must have shape"),
    "parents order": (lambda r, o, p: (r, o, torch.tensor([-1, 2, 0, 1, 0, 0, 0])), ValueError,
                      "topologically ordered"),
    "parents self": (lambda r, o, p: (r, o, torch.tensor([-1, 1, 0, 1, 0, 0, 0])), ValueError,
                     "topologically ordered"),
    "parents < -1": (lambda r, o, p: (r, o, torch.tensor([-2, 0, 0, 1, 0, 0, 0])), ValueError,
                     "parents"),
    "dtype mix": (lambda r, o, p: (r, o.float(), p), TypeError, "offsets has dtype"),
    "integer rotations": (lambda r, o, p: (r.long(), o.long(), p), TypeError, "float32 or float64"),
    "half": (lambda r, o, p: (r.half(), o.half(), p), TypeError, "float32 or float64"),
    "device mix": (lambda r, o, p: (r, o.to("meta"), p), ValueError, "same device"),
    "None": (lambda r, o, p: (r, None, p), ValueError, "offsets is None"),
}

SKIN_CASES = {
    "transforms rank": (lambda x, t, i, w: (x, t[0], i, w), ValueError, "transforms must have shape"),
    "transforms 4x4": (lambda x, t, i, w: (x, torch.cat([t, t[:, :, :1]], 2), i, w), ValueError,
                       "transforms"),
    "rest V": (lambda x, t, i, w: (x[:-1], t, i, w), ValueError, "rest_vertices must have shape"),
    "rest [V, 4]": (lambda x, t, i, w: (torch.cat([x, x[:, :1]], 1), t, i, w), ValueError,
                    "rest_vertices must have shape"),
    "half transforms": (lambda x, t, i, w: (x.half(), t.half(), i, w.half()), TypeError,
                        "float32 or float64"),
    "rest B": (lambda x, t, i, w: (x.expand(9, *x.shape), t, i, w), ValueError, "rest_vertices"),
    "weights shape": (lambda x, t, i, w: (x, t, i, w[:, :2]), ValueError, "weights must have"),
    "K = 0": (lambda x, t, i, w: (x, t, i[:, :0], w[:, :0]), ValueError, "K >= 1"),
    "indices rank": (lambda x, t, i, w: (x, t, i[:, 0], w[:, 0]), ValueError, "indices must have"),
    "index too large": (lambda x, t, i, w: (x, t, i.clone().fill_(7), w), ValueError, "[0, J)"),
    "negative index": (lambda x, t, i, w: (x, t, torch.where(i == 0, -1, i), w), ValueError, "[0, J)"),
    # J = 0 with V > 0: no index can be valid, decidable from shapes (the meta kernel too)
    "no joints": (lambda x, t, i, w: (x, t[:, :0], i, w), ValueError, "[0, J) = [0, 0): transforms has no joints"),
    "indices dtype": (lambda x, t, i, w: (x, t, i.int(), w), TypeError, "indices must be int64"),
    "float indices": (lambda x, t, i, w: (x, t, i.double(), w), TypeError, "indices must be int64"),
    "dtype mix": (lambda x, t, i, w: (x, t, i, w.float()), TypeError, "weights has dtype"),
    "device mix": (lambda x, t, i, w: (x.to("meta"), t, i, w), ValueError, "same device"),
    "None": (lambda x, t, i, w: (x, t, i, None), ValueError, "weights is None"),
}


@pytest.mark.parametrize("case", FK_CASES)
def test_fk_bad_input(case):
    make, exc, match = FK_CASES[case]
    with pytest.raises(exc, match=match):
        torchrig.forward_kinematics(*make(*fk_inputs(2, 7)))


@pytest.mark.parametrize("case", SKIN_CASES)
def test_skin_bad_input(case):
    make, exc, match = SKIN_CASES[case]
    with pytest.raises(exc, match=match.replace("[", r"\[").replace(")", r"\)")):
        torchrig.skin(*make(*skin_inputs(2, 7, 30, 3)))


def test_backward_ops_check_gradient_shape():
    rot, off, par = fk_inputs(2, 5)
    G = torchrig.forward_kinematics(rot, off, par)
    with pytest.raises(ValueError, match="grad_transforms must have shape"):
        torch.ops.torchrig.forward_kinematics_backward(G[:1], rot, off, par, G)
    rest, tf, idx, w = skin_inputs(2, 5, 20, 3)
    with pytest.raises(ValueError, match="grad_vertices must have shape"):
        torch.ops.torchrig.skin_backward(torch.zeros(2, 19, 3, dtype=tf.dtype), rest, tf, idx, w,
                                         [True, True, True])


def test_rig_rejects_bad_shapes():
    char_parents = torch.tensor([-1, 0, 1])
    offsets = torch.randn(3, 3)
    rest = torch.randn(10, 3)
    with pytest.raises(ValueError, match="k must be in"):
        torchrig.Rig.from_dense_weights(char_parents, offsets, rest, torch.rand(10, 3), k=0)
    with pytest.raises(ValueError, match="dense_weights must have shape"):
        torchrig.Rig.from_dense_weights(char_parents, offsets, rest, torch.rand(9, 3), k=2)
    with pytest.raises(ValueError, match="offsets must have shape"):
        torchrig.Rig(char_parents, offsets[:2], rest, torch.zeros(10, 1, dtype=torch.long),
                     torch.ones(10, 1))
    rig = torchrig.Rig.from_dense_weights(char_parents, offsets, rest, torch.rand(10, 3), k=2)
    with pytest.raises(ValueError, match="root_translation must have shape"):
        rig.pose(torch.eye(3).expand(2, 3, 3, 3).contiguous(), torch.zeros(3, 3))


def test_parents_error_names_the_first_bad_joint_without_dumping_the_tensor():
    J = 100_000
    parents = torch.arange(-1, J - 1)
    parents[70_001] = 80_000  # a child before its parent
    parents[90_000] = -3
    rot = torch.eye(3).expand(1, J, 3, 3)
    with pytest.raises(ValueError) as info:
        torchrig.forward_kinematics(rot, torch.zeros(J, 3), parents)
    msg = str(info.value)
    assert "parents[70001] = 80000" in msg and len(msg) < 400
    parents[70_001] = 70_000
    with pytest.raises(ValueError, match=r"parents\[90000\] = -3"):
        torchrig.forward_kinematics(rot, torch.zeros(J, 3), parents)


def test_rig_pose_names_a_root_translation_of_another_dtype():
    rig = torchrig.Rig.from_dense_weights(torch.tensor([-1, 0, 1]), torch.randn(3, 3),
                                          torch.randn(10, 3), torch.rand(10, 3), k=2)
    rot = torch.eye(3).expand(2, 3, 3, 3)
    with pytest.raises(TypeError, match="root_translation has dtype torch.float64 but the rig is "
                                        "torch.float32"):
        rig.pose(rot, torch.zeros(2, 3, dtype=torch.float64))
    with pytest.raises(TypeError, match="rotations has dtype torch.float64"):
        rig.pose(rot.double())
    assert rig.pose(rot, torch.zeros(2, 3)).shape == (2, 10, 3)


@pytest.mark.parametrize("op, position, name", [
    ("fk", 2, "parents"), ("fk", 1, "offsets"), ("skin", 2, "indices"), ("skin", 0, "rest_vertices")])
def test_python_lists_get_a_short_type_error_naming_the_argument(op, position, name):
    """Issue 29: a list reached torch's argument parser, whose RuntimeError printed the
    whole value (1.38 MB for 100,000 parents)."""
    args = list(fk_inputs(2, 7) if op == "fk" else skin_inputs(2, 7, 30, 3))
    args[position] = args[position].tolist() * (100_000 // max(args[position].numel(), 1) + 1)
    fn = torchrig.forward_kinematics if op == "fk" else torchrig.skin
    with pytest.raises(TypeError, match=rf"^{name} must be a torch.Tensor, got list; convert") as info:
        fn(*args)
    assert len(str(info.value)) < 200
