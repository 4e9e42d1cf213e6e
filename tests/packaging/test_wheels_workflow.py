"""The wheel workflow (.github/workflows/wheels.yml): the one wheel per platform, built for
PyPI's newest torch minor (machine.NEWEST_TORCH; recipe/variants.yaml holds conda-forge's
minors, which trail PyPI) with a CUDA 12 and a CUDA 13 library, published by trusted
publishing on tags only, exactly what the build legs upload. (actionlint and zizmor lint it
with the other workflows: test_workflows.py.) Offline, < 1 s."""
from __future__ import annotations

import fnmatch

import yaml

from torchrig_release import machine, variants
from torchrig_release.library import library_module
from torchrig_release.paths import REPO

# the CUDA majors the released wheel holds, as the stable loader's no-kernels error names them
RELEASED_CUDA_MAJORS = library_module("_stable").RELEASED_CUDA_MAJORS

WORKFLOW = REPO / ".github" / "workflows" / "wheels.yml"


def test_torch_minor_is_pypis_newest_and_not_older_than_the_conda_builds():
    """pip users get PyPI's newest torch; the conda builds use conda-forge's minors
    (docs/compatibility.md, "When conda-forge is behind PyPI")."""
    minor = yaml.safe_load(WORKFLOW.read_text())["env"]["TORCH_MINOR"]
    assert minor == ".".join(machine.NEWEST_TORCH.split(".")[:2])
    conda_newest = max(variants.matrix()["pytorch"], key=variants.version_key)
    assert variants.version_key(minor) >= variants.version_key(conda_newest)


def test_publish_is_trusted_publishing_on_tags_after_the_checks():
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    publish = jobs["publish"]
    assert publish["permissions"] == {"id-token": "write"} and publish["needs"] == "build"
    assert "github.ref_type == 'tag'" in publish["if"]
    assert any(s.get("uses", "").startswith("pypa/gh-action-pypi-publish@") for s in publish["steps"])
    run = "\n".join(s.get("run", "") for s in jobs["build"]["steps"])
    for verb in ("build-wheel", "merge-wheels", "repair", "check"):
        assert f"torchrig-release {verb}" in run


def test_one_wheel_per_platform_and_publish_needs_exactly_what_it_uploads():
    """Issue 26: one build leg per platform (linux x86_64 and aarch64) in the manylinux_2_28
    image; no leg per Python (the wheel is py3-none) and so none for a Python torch has no wheel
    for; `publish` needs `build`, and the artifacts it downloads are exactly the legs' uploads."""
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    build = jobs["build"]
    legs = build["strategy"]["matrix"]["include"]
    assert set(build["strategy"]["matrix"]) == {"include"}          # no python / flavour axis
    assert sorted(leg["arch"] for leg in legs) == ["aarch64", "x86_64"]
    assert build["container"] == "quay.io/pypa/manylinux_2_28_${{ matrix.arch }}:2025.11.23-1"
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["name"] == "wheel-${{ matrix.arch }}"
    download = next(s for s in jobs["publish"]["steps"] if s.get("uses", "").startswith("actions/download-artifact@"))
    pattern = download["with"]["pattern"]
    uploaded = [upload["with"]["name"].replace("${{ matrix.arch }}", leg["arch"]) for leg in legs]
    assert all(fnmatch.fnmatchcase(name, pattern) for name in uploaded)
    assert set(jobs) == {"build", "publish"}                        # nothing else uploads wheel-*


def test_the_cuda_majors_built_are_the_ones_the_loader_names():
    """The workflow builds a CUDA kernel library per major in torchrig._stable.RELEASED_CUDA_MAJORS
    (the no-kernels error tells users which majors the released wheel holds), each against a torch
    >= the stable target with nvcc of the same major."""
    stable = library_module("_stable_target")
    text = WORKFLOW.read_text()
    env = yaml.safe_load(text)["env"]
    built = sorted(k.removeprefix("CUDA") for k in env if k.startswith("CUDA") and k[4:].isdigit())
    assert tuple(built) == RELEASED_CUDA_MAJORS
    for major in built:
        assert env[f"CUDA{major}"].split("-")[0] == major
        assert f"--dist dist/cu{major}" in text and f"CUDA{major}/-/." in text
    assert variants.version_key(env["TORCH_CUDA12"]) >= variants.version_key(stable.target_str())
    assert env["TORCH_CUDA12_INDEX"].endswith("/cu12" + env["TORCH_CUDA12_INDEX"][-1])
