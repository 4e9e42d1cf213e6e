"""The one torch-version parser (python/torchrig/_torch_version.py): minor and flavour."""
from __future__ import annotations

import pytest

from torchrig import _torch_version as tv


@pytest.mark.parametrize("version, minor", [("2.13.0+cpu", (2, 13)), ("2.14.1+cu130", (2, 14)),
                                            ("2.14", (2, 14)), ("10.0.0a0", (10, 0))])
def test_minor_of(version, minor):
    assert tv.minor_of(version) == minor
    assert tv.minor_text(version) == "{}.{}".format(*minor)


@pytest.mark.parametrize("bad", ["", "2", "torch", "x.y.z"])
def test_not_a_version_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="is not a torch version"):
        tv.minor_of(bad)


def test_requirement_and_flavour():
    assert tv.requirement("2.13.0+cpu") == "torch>=2.13,<2.14"
    assert tv.requirement("2.14", "pytorch") == "pytorch>=2.14,<2.15"
    assert [tv.flavour(c) for c in (None, "None", "13.0")] == ["CPU", "CPU", "CUDA 13.0"]
    assert [tv.flavour_tag(c) for c in ("None", "12.9")] == ["cpu", "cuda129"]
