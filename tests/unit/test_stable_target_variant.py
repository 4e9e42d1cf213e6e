"""recipe/variants.yaml's stable_torch_target is python/torchrig/_stable_target.py's target.

The conda stable package's `pytorch >=<target>` comes from variants.yaml (rattler-build
reads only that file); CMake, the wheel pin and the import guard read _stable_target.py.
"""
from __future__ import annotations

from torchrig_release import variants
from torchrig_release.library import library_module


def test_variants_stable_target_is_the_stable_target():
    target = library_module("_stable_target")
    values = variants.load()
    assert values["stable_torch_target"] == [target.target_str()], (
        "recipe/variants.yaml stable_torch_target must equal STABLE_TORCH_TARGET in "
        "python/torchrig/_stable_target.py; change both together")
    assert set(values[variants.ABI_KEY]) == {"classic", "stable"}
