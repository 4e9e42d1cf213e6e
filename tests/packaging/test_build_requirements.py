"""The build-tool list has one owner, pyproject.toml's [build-system] requires; every copy agrees with it.

Copies checked here: recipe/recipe.yaml (build + host requirements), pixi.toml's `build`
feature, requirements/dev.txt. The sanitizer build and the venv-based tests read the
list through torchrig_release.build_requirements, so they hold no copy.
"""
from __future__ import annotations

import re

import pytest

from torchrig_release import build_requirements as br
from torchrig_release import pixi as pm
from torchrig_release.paths import RECIPE, REPO

OWNER = dict(br.split(r) for r in br.specs())


def _recipe_specs() -> dict[str, str]:
    """Plain `- name spec` lines of recipe.yaml's build: and host: (jinja lines skipped)."""
    text = RECIPE.read_text()
    block = text[text.index("requirements:"):text.index("  run:", text.index("requirements:"))]
    found = {}
    for name, spec in re.findall(r"^\s+- ([a-z][a-z0-9_.-]*)(?: +([^\s#]+))?\s*(?:#.*)?$", block, re.M):
        found[name] = spec or ""
    return found


def _pixi_specs() -> dict[str, str]:
    deps = pm.feature(pm.load_manifest(), "build")["dependencies"]
    return {name: ("" if spec == "*" else spec) for name, spec in deps.items()}


def _dev_txt_specs() -> dict[str, str]:
    lines = (REPO / "requirements" / "dev.txt").read_text().splitlines()
    return dict(br.split(line) for line in lines if line.strip() and not line.startswith("#"))


def test_owner_lists_the_tools_and_torch():
    assert set(OWNER) >= {"scikit-build-core", "pybind11", "cmake", "ninja"}
    assert "torch" not in OWNER  # each caller chooses its torch


@pytest.mark.parametrize("copy", [_recipe_specs, _pixi_specs, _dev_txt_specs], ids=lambda f: f.__name__[1:-6])
def test_copy_agrees_with_pyproject(copy):
    have = copy()
    wrong = {name: (have.get(name, "missing"), spec) for name, spec in OWNER.items()
             if have.get(name) != spec}
    assert wrong == {}, f"(found, pyproject.toml [build-system]) per tool: {wrong}"


def test_a_changed_pin_is_caught():
    """Raising pybind11's pin in pyproject.toml alone makes every copy disagree."""
    owner = {**OWNER, "pybind11": ">=3.0"}
    for copy in (_recipe_specs(), _pixi_specs(), _dev_txt_specs()):
        assert copy.get("pybind11") != owner["pybind11"]
