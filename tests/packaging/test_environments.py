"""Files generated from pixi.toml and recipe/variants.yaml stay in sync with them:
environments/*.yml (`gen environments`) and docs/compatibility.md's tables
(`gen docs`), whose measured section the generator must leave alone.
"""
from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest
import yaml

from torchrig_release import pixi as pm
from torchrig_release.variants import load as load_variants
from torchrig_release.gen import compat_docs as gen_compat_docs
from torchrig_release.gen import environments as gen_environments
from torchrig_release.paths import REPO as ROOT

MANIFEST = pm.load_manifest()
ENVS = pm.environments(MANIFEST)
MEASURED_BEGIN, MEASURED_END = "<!-- measured:begin -->", "<!-- measured:end -->"


def _run_check(what: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "torchrig_release", "gen", what, "--check"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


# ---- environments/*.yml -------------------------------------------------------------------------
def test_environment_files_are_in_sync():
    result = _run_check("environments")
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_file_per_python_and_flavour():
    names = set(gen_environments.generate(MANIFEST))
    for python in load_variants()["python"]:
        for flavour in ("cpu", "cuda"):
            assert f"py{python.replace('.', '')}-{flavour}.yml" in names


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "environments").glob("*.yml")))
def test_file_holds_the_environment_pins(name):
    env = ENVS[name.removesuffix(".yml")]
    data = yaml.safe_load((ROOT / "environments" / name).read_text())
    pins = pm.stack(MANIFEST, env)
    deps = {d for d in data["dependencies"] if isinstance(d, str)}  # the {pip: [...]} entry aside
    assert f"python={pins['python']}" in deps
    flavour = "pytorch-gpu" if pins["cuda"] else "pytorch-cpu"
    spec = pm.merged(MANIFEST, env, "dependencies")[flavour]
    assert gen_environments.conda_spec(flavour, spec) in deps
    assert spec.startswith(">="), "a range the solver resolves, not one minor"
    assert (f"cuda-version={pins['cuda']}" in deps) == bool(pins["cuda"])
    assert data["channels"] == MANIFEST["workspace"]["channels"]


def test_check_reports_edited_missing_and_stale_files(tmp_path):
    out = tmp_path / "environments"
    gen_environments.sync(MANIFEST, out, check=False)
    edited, removed = sorted(out.glob("*.yml"))[:2]
    edited.write_text(edited.read_text().replace("python=", "python>="))
    removed.unlink()
    (out / "py39-cpu.yml").write_text(gen_environments.HEADER + "\nname: old\n")
    (out / "mine.yml").write_text("name: hand-written\n")

    changes = gen_environments.sync(MANIFEST, out, check=True)
    assert sorted(changes) == sorted([f"differs: {edited}", f"missing: {removed}",
                                      f"stale: {out / 'py39-cpu.yml'}"])
    gen_environments.sync(MANIFEST, out, check=False)
    assert gen_environments.sync(MANIFEST, out, check=True) == []
    assert (out / "mine.yml").read_text() == "name: hand-written\n"  # not generated: kept


@pytest.mark.parametrize("name, spec, expected", [
    ("python", "3.12.*", "python=3.12"),
    ("cmake", ">=3.26", "cmake>=3.26"),
    ("ninja", "*", "ninja"),
    ("pytorch", {"version": "2.14.*", "build": "cpu*"}, "pytorch=2.14.*=cpu*"),
    ("pytorch", {"version": "2.14.*"}, "pytorch=2.14"),
])
def test_conda_spec(name, spec, expected):
    assert gen_environments.conda_spec(name, spec) == expected


@pytest.mark.parametrize("spec", ["2.14", {"version": "2.14.*", "channel": "pytorch"}])
def test_conda_spec_refuses_what_it_cannot_spell(spec):
    with pytest.raises(ValueError):
        gen_environments.conda_spec("pytorch", spec)


# ---- docs/compatibility.md ----------------------------------------------------------------------
def test_compatibility_doc_is_in_sync():
    result = _run_check("docs")
    assert result.returncode == 0, result.stdout + result.stderr


def test_compatibility_doc_has_one_measured_section():
    text = gen_compat_docs.DOC.read_text()
    assert text.count(MEASURED_BEGIN) == 1 and text.count(MEASURED_END) == 1
    assert text.index(MEASURED_BEGIN) < text.index(MEASURED_END)


def test_generator_keeps_the_measured_section():
    text = gen_compat_docs.DOC.read_text()
    head, rest = text.split(MEASURED_BEGIN)
    measured = "\n| torchrig built for | loads under | result |\n| 2.14 | 2.13 | ImportError |\n"
    filled = head + MEASURED_BEGIN + measured + MEASURED_END + rest.split(MEASURED_END)[1]
    result = gen_compat_docs.update(filled, load_variants(), MANIFEST)
    assert MEASURED_BEGIN + measured + MEASURED_END in result
    assert gen_compat_docs.update(result, load_variants(), MANIFEST) == result


def test_generator_refills_emptied_blocks():
    text = gen_compat_docs.DOC.read_text()
    emptied = gen_compat_docs.BLOCK.sub(lambda m: m.group(1) + m.group(3), text)
    assert emptied != text
    variants = load_variants()
    refilled = gen_compat_docs.update(emptied, variants, MANIFEST)
    assert refilled == gen_compat_docs.update(text, variants, MANIFEST)


def test_generator_refuses_a_doc_without_its_blocks():
    text = gen_compat_docs.DOC.read_text()
    without_matrix = gen_compat_docs.BLOCK.sub(
        lambda m: "" if m.group(2) == "matrix" else m.group(0), text)
    with pytest.raises(ValueError, match="matrix"):
        gen_compat_docs.update(without_matrix, load_variants(), MANIFEST)


def test_matrix_follows_the_variants():
    variants = load_variants()
    grown = dict(variants, python=[*variants["python"], "3.15"])
    table = gen_compat_docs.matrix(grown, MANIFEST)
    stable_rows = 1 if "stable" in variants.get("torchrig_abi", []) else 0  # one per Python
    assert table.count("| 3.15 |") == len(variants["pytorch"]) + stable_rows
    assert table != gen_compat_docs.matrix(variants, MANIFEST)
