"""The wheel workflow (.github/workflows/wheels.yml) builds for PyPI's newest torch minor
(machine.NEWEST_TORCH; recipe/variants.yaml holds conda-forge's minors, which trail PyPI), publishes by trusted publishing on tags only, and runs the pipeline verbs.
(actionlint and zizmor lint it with the other workflows: test_workflows.py.) Offline, < 1 s."""
from __future__ import annotations

import yaml

from torchrig_release import machine, variants
from torchrig_release.paths import REPO

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
    for verb in ("build-wheel", "repair", "check"):
        assert f"torchrig-release {verb}" in run


def test_the_stable_abi_wheels_are_built_once_per_flavour_beside_the_classic_ones():
    """Classic: every Python x flavour; stable (TORCHRIG_ABI from the matrix): one job per
    flavour, its py3-none wheel serving every Python (docs/publishing.md, the flavour scheme)."""
    build = yaml.safe_load(WORKFLOW.read_text())["jobs"]["build"]
    matrix = build["strategy"]["matrix"]
    assert matrix["abi"] == ["classic"]
    stable = [e for e in matrix["include"] if e["abi"] == "stable"]
    assert sorted(e["flavour"] for e in stable) == sorted(matrix["flavour"])
    assert len({e["python"] for e in stable}) == 1 and stable[0]["python"] in matrix["python"]
    assert build["env"]["TORCHRIG_ABI"] == "${{ matrix.abi }}"
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert "matrix.abi" in upload["with"]["name"]   # classic and stable artifacts never collide
