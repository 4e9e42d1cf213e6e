"""Scripts the install-scenario tests run in other venvs' interpreters (shared by
packaging/test_abi_scenarios.py and packaging/test_wheels.py)."""

# Run by the venvs' interpreters: import torchrig, then compare both ops (and a
# gradient) with the pure-torch reference. Prints LOADED once the import is done,
# so a failure after loading is told apart from a failed load.
OPS_PROBE = """
import torch, torchrig
from torchrig import reference, rotations
print("LOADED torch", torch.__version__, flush=True)
g = torch.Generator().manual_seed(0)
rot = rotations.axis_angle_to_matrix(torch.randn(2, 5, 3, dtype=torch.float64, generator=g))
off = torch.randn(5, 3, dtype=torch.float64, generator=g)
par = torch.tensor([-1, 0, 1, 1, 3])
fk = torchrig.forward_kinematics(rot, off, par)
assert torch.allclose(fk, reference.forward_kinematics(rot, off, par)), "forward_kinematics"
x = torch.randn(7, 3, dtype=torch.float64, generator=g)
idx = torch.randint(0, 5, (7, 3), generator=g)
w = torch.rand(7, 3, dtype=torch.float64, generator=g)
assert torch.allclose(torchrig.skin(x, fk, idx, w), reference.skin(x, fk, idx, w)), "skin"
r = rot.clone().requires_grad_()
assert torch.autograd.gradcheck(lambda a: torchrig.forward_kinematics(a, off, par), (r,)), "gradcheck"
print("OPS OK", flush=True)
"""
