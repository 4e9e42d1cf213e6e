"""ops.joint_transforms (joint parameters -> global / skinning transforms, one op) against
torchrig.reference.joint_transforms: values, float64 gradcheck, opcheck, torch.compile,
torch.func, and the errors of what it does not differentiate."""
from __future__ import annotations

import pytest
import torch
from helpers import DEVICES, fk_inputs, skin_inputs

import torchrig
from torchrig import reference
from torchrig.rig import invert_rigid

DTYPES = [torch.float32, torch.float64]
TOL = {torch.float32: dict(atol=1e-4, rtol=1e-4), torch.float64: dict(atol=1e-10, rtol=1e-10)}


def joint_inputs(B=3, J=7, *, dtype=torch.float64, device="cpu", seed=0, bind=True,
                 requires_grad=False):
    """(joint_params [B,J,7], offsets [J,3], parents [J], inverse_bind [J,3,4] | None):
    translations, angles and log2 scales all non-zero."""
    _, off, par = fk_inputs(1, J, dtype=dtype, seed=seed)
    g = torch.Generator().manual_seed(seed + 3)
    jp = torch.cat([0.3 * torch.randn(B, J, 3, generator=g, dtype=dtype),
                    torch.randn(B, J, 3, generator=g, dtype=dtype),
                    0.3 * torch.randn(B, J, 1, generator=g, dtype=dtype)], dim=-1)
    ib = None
    if bind:
        eye = torch.eye(3, dtype=dtype).expand(1, J, 3, 3).contiguous()
        ib = invert_rigid(reference.forward_kinematics(eye, off, par)[0]).to(device)
    jp, off, par = jp.to(device), off.to(device), par.to(device)
    if requires_grad:
        jp.requires_grad_()
    return jp, off, par, ib


def sample_joint(device="cpu", dtype=torch.float64, requires_grad=False):
    kw = dict(dtype=dtype, device=device, requires_grad=requires_grad)
    return [joint_inputs(3, 7, **kw), joint_inputs(2, 5, bind=False, seed=2, **kw),
            joint_inputs(1, 1, seed=4, **kw), joint_inputs(0, 4, seed=6, **kw)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_reference(dtype):
    for args in sample_joint(dtype=dtype):
        torch.testing.assert_close(torchrig.ops.joint_transforms(*args),
                                   reference.joint_transforms(*args), **TOL[dtype])


def test_zero_parameters_give_forward_kinematics_of_the_rest_pose():
    jp, off, par, ib = joint_inputs(2, 6)
    jp = torch.zeros_like(jp)
    eye = torch.eye(3, dtype=jp.dtype).expand(2, 6, 3, 3).contiguous()
    torch.testing.assert_close(torchrig.ops.joint_transforms(jp, off, par),
                               torchrig.forward_kinematics(eye, off, par))
    identity = torch.eye(3, 4, dtype=jp.dtype).expand(2, 6, 3, 4)  # G @ inverse_bind at rest
    torch.testing.assert_close(torchrig.ops.joint_transforms(jp, off, par, ib), identity)


def test_non_contiguous_joint_params():
    jp, off, par, ib = joint_inputs(4, 6)
    jp_nc = torch.stack([jp, jp], dim=-1)[..., 0][::2]
    assert not jp_nc.is_contiguous()
    torch.testing.assert_close(torchrig.ops.joint_transforms(jp_nc, off, par, ib),
                               reference.joint_transforms(jp_nc, off, par, ib))


@pytest.mark.parametrize("device", DEVICES)
def test_gradcheck(device):
    for args in sample_joint(device=device, requires_grad=True)[:3]:
        assert torch.autograd.gradcheck(torchrig.ops.joint_transforms, args)


def test_gradient_matches_reference_through_skin():
    jp, off, par, ib = joint_inputs(2, 7, requires_grad=True)
    rest, _, idx, w = skin_inputs(2, 7, 60, 4)
    grad = torch.randn(2, 60, 3, dtype=torch.float64)
    (g_op,) = torch.autograd.grad(torchrig.skin(rest, torchrig.ops.joint_transforms(jp, off, par, ib),
                                                idx, w), jp, grad)
    (g_ref,) = torch.autograd.grad(reference.skin(rest, reference.joint_transforms(jp, off, par, ib),
                                                  idx, w), jp, grad)
    torch.testing.assert_close(g_op, g_ref)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_opcheck(dtype, device):
    for args in sample_joint(device=device, dtype=dtype, requires_grad=True):
        torch.library.opcheck(torch.ops.torchrig.joint_transforms.default, args)
    jp, off, par, ib = joint_inputs(2, 5, dtype=dtype, device=device)
    for bind in (ib, None):
        torch.library.opcheck(torch.ops.torchrig.joint_transforms_backward.default,
                              (torch.randn(2, 5, 3, 4, dtype=dtype, device=device), jp, off, par,
                               bind))


@pytest.mark.parametrize("device", DEVICES)
def test_torch_compile_fullgraph(device):
    jp, off, par, ib = joint_inputs(4, 8, dtype=torch.float32, device=device)
    rest, _, idx, w = skin_inputs(4, 8, 100, 4, dtype=torch.float32, device=device)

    def pose(jp):
        T = torchrig.ops.joint_transforms(jp, off, par, ib)
        return torchrig.skin(rest, T, idx, w).square().sum()

    compiled = torch.compile(pose, fullgraph=True, backend="inductor")
    jp.requires_grad_()
    torch.testing.assert_close(compiled(jp), pose(jp))
    (g_c,) = torch.autograd.grad(compiled(jp), jp)
    (g_e,) = torch.autograd.grad(pose(jp), jp)
    torch.testing.assert_close(g_c, g_e)


def test_torch_func_grad_and_vmap():
    jp, off, par, ib = joint_inputs(3, 6)

    def energy(p):
        return torchrig.ops.joint_transforms(p, off, par, ib).square().sum()

    g = torch.func.grad(energy)(jp)
    g_ref = torch.func.grad(lambda p: reference.joint_transforms(p, off, par, ib).square().sum())(jp)
    torch.testing.assert_close(g, g_ref)
    batched = torch.func.vmap(lambda p: torchrig.ops.joint_transforms(p, off, par, ib))(jp[:, None])
    torch.testing.assert_close(batched[:, 0], reference.joint_transforms(jp, off, par, ib))


def test_constants_asking_for_a_gradient_raise():
    jp, off, par, ib = joint_inputs(2, 5, requires_grad=True)
    with pytest.raises(ValueError, match="differentiates joint_params only"):
        torchrig.ops.joint_transforms(jp, off.clone().requires_grad_(), par, ib)
    with pytest.raises(ValueError, match="differentiates joint_params only"):
        torchrig.ops.joint_transforms(jp, off, par, ib.clone().requires_grad_())
    with torch.no_grad():  # no gradient wanted: fine
        torchrig.ops.joint_transforms(jp, off.clone().requires_grad_(), par, ib)


def test_second_order_and_forward_mode_raise_clearly():
    jp, off, par, ib = joint_inputs(2, 5, requires_grad=True)
    out = torchrig.ops.joint_transforms(jp, off, par, ib)
    (g,) = torch.autograd.grad(out.square().sum(), jp, create_graph=True)
    with pytest.raises((NotImplementedError, RuntimeError), match="first derivatives only"):
        torch.autograd.grad(g.sum(), jp)
    with pytest.raises(NotImplementedError, match="no forward-mode derivative"):
        torch.func.jvp(lambda p: torchrig.ops.joint_transforms(p, off, par, ib), (jp.detach(),),
                       (torch.ones_like(jp),))


@pytest.mark.parametrize("bad, match", [
    (lambda jp, off, par, ib: (jp[..., :6], off, par, ib), r"joint_params must have shape \[B, J, 7\]"),
    (lambda jp, off, par, ib: (jp, off[:-1], par, ib), r"offsets must have shape \[J, 3\]"),
    (lambda jp, off, par, ib: (jp, off, par, ib[:, :2]), r"inverse_bind must have shape \[J, 3, 4\]"),
    (lambda jp, off, par, ib: (jp, off, par[:-1], ib), r"parents must have shape \[J\]"),
    (lambda jp, off, par, ib: (jp, off, par.flip(0), ib), "topologically ordered"),
])
@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_bad_inputs_raise_value_errors(bad, match, device):
    args = bad(*joint_inputs(2, 5))
    if device == "meta":
        if "topologically" in match:
            pytest.skip("parents ordering reads data: real tensors only")
        args = tuple(a.to("meta") for a in args)
    with pytest.raises(ValueError, match=match):
        torchrig.ops.joint_transforms(*args)


def test_dtype_mismatch_raises_type_error():
    jp, off, par, ib = joint_inputs(2, 5)
    with pytest.raises(TypeError, match="offsets has dtype Float but joint_params has dtype Double"):
        torchrig.ops.joint_transforms(jp, off.float(), par, ib)
    with pytest.raises(TypeError, match="joint_params must be float32 or float64"):
        torchrig.ops.joint_transforms(jp.half(), off.half(), par, ib)


def test_rig_paths_agree_with_rotation_matrices():
    from torchrig.rotations import euler_xyz_to_matrix

    jp, off, par, _ = joint_inputs(2, 6, bind=False)
    jp = jp.clone()
    jp[..., 6] = 0  # unit scale, translation on the root only: what Rig.pose takes
    jp[:, 1:, :3] = 0
    rest, _, idx, w = skin_inputs(2, 6, 50, 3)
    rig = torchrig.Rig(par, off, rest, idx, w)
    rot = euler_xyz_to_matrix(jp[..., 3:6])
    want = rig.pose(rot, jp[:, 0, :3])
    torch.testing.assert_close(rig.pose_params(jp), want)
    torch.testing.assert_close(rig.skin_global(rig.global_transforms(jp)), want)


def test_flat_joint_params_as_pymomentum_takes_them():
    jp, off, par, ib = joint_inputs(3, 6, requires_grad=True)
    flat = jp.detach().reshape(3, 42).requires_grad_()
    torch.testing.assert_close(torchrig.ops.joint_transforms(flat, off, par, ib),
                               torchrig.ops.joint_transforms(jp, off, par, ib))
    grad = torch.randn(3, 6, 3, 4, dtype=torch.float64)
    (g_flat,) = torch.autograd.grad(torchrig.ops.joint_transforms(flat, off, par, ib), flat, grad)
    (g,) = torch.autograd.grad(torchrig.ops.joint_transforms(jp, off, par, ib), jp, grad)
    assert g_flat.shape == (3, 42)
    torch.testing.assert_close(g_flat, g.reshape(3, 42))
    assert torch.autograd.gradcheck(torchrig.ops.joint_transforms, (flat, off, par, ib))
    with pytest.raises(ValueError, match=r"\[B, J, 7\] or \[B, 7 \* J\]"):
        torchrig.ops.joint_transforms(flat[:, :41], off, par, ib)


def test_rig_hot_paths_keep_the_rigs_messages():
    jp, off, par, _ = joint_inputs(2, 6, bind=False)
    rest, _, idx, w = skin_inputs(2, 6, 50, 3)
    rig = torchrig.Rig(par, off, rest, idx, w)
    with pytest.raises(TypeError, match=r"pass joint_params.to\(torch.float64\)"):
        rig.global_transforms(jp.float())
    with pytest.raises(TypeError, match=r"pass joint_params.to\(torch.float64\)"):
        rig.pose_params(jp.float())
    with pytest.raises(TypeError, match="joint_params must be a torch.Tensor, got list"):
        rig.global_transforms(jp.tolist())
    with pytest.raises(ValueError, match=r"global_transforms must have shape \[B, J, 3, 4\]"):
        rig.skin_global(torch.zeros(2, 5, 3, 4, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"pass global_transforms.to\(torch.float64\)"):
        rig.skin_global(torch.zeros(2, 6, 3, 4))
