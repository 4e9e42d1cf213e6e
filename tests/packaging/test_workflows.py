"""The GitHub Actions workflows: lint, security audit, and a build matrix that follows
recipe/variants.yaml.

actionlint and zizmor (offline) must report nothing on .github/workflows; each is also
shown a broken copy, to prove it is looking. The matrix the `matrix` job emits is
produced here by the very command the workflow runs (`torchrig-release ci-matrix`) and compared
with variants.yaml, pixi.toml's platforms and, as an independent oracle for the
recipe's `build.skip`, rattler-build's own CLI renderer. Copies of the tool tree show
that editing variants.yaml (or letting the recipe build Windows) changes the matrix with
no edit to any workflow. Offline, about 5 s; the lint tests skip only when the tool is
not installed (requirements/dev.txt installs it).
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from torchrig_release import ci_matrix
from torchrig_release import pixi as pm
from torchrig_release import variants as cu
from torchrig_release.paths import RECIPE
from torchrig_release.paths import REPO as ROOT
WORKFLOWS = ROOT / ".github" / "workflows"
PACKAGES = WORKFLOWS / "packages.yml"
# The tools' own folder first: pip puts actionlint, shellcheck and zizmor next to python.
TOOL_PATH = os.pathsep.join([str(pathlib.Path(sys.executable).parent), os.environ.get("PATH", "")])
ENTRY_KEYS = {"os", "platform", "python", "pytorch", "cuda", "abi", "flavour", "build_string",
              "abi_check"}
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}\s+# v\d+(\.\d+)*$")


def _tool(name: str) -> str:
    found = shutil.which(name, path=TOOL_PATH)
    if found is None:
        pytest.skip(f"{name} is not installed (requirements/dev.txt has it)")
    return found


def _run(args: list, cwd: pathlib.Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in (env or os.environ).items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}
    env.update(PATH=TOOL_PATH, NO_COLOR="1")
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def _actionlint(*files: pathlib.Path) -> subprocess.CompletedProcess:
    return _run([_tool("actionlint"), "-no-color", "-oneline", *files])


def _zizmor(*paths: pathlib.Path) -> subprocess.CompletedProcess:
    return _run([_tool("zizmor"), "--offline", "--no-progress", "--color=never", *paths])


def _broken_copy(tmp_path: pathlib.Path, old: str, new: str, source: pathlib.Path = PACKAGES,
                 count: int = 1) -> pathlib.Path:
    """packages.yml (by default) with ``old`` replaced by ``new``, in tmp_path/.github/workflows."""
    text = source.read_text()
    assert text.count(old) >= count, f"{old!r} is not in {source.name}: update this test"
    target = tmp_path / ".github" / "workflows" / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text.replace(old, new, count))
    return target


# ---- actionlint -----------------------------------------------------------------------------
def test_actionlint_is_clean():
    result = _actionlint(*sorted(WORKFLOWS.glob("*.yml")))
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_actionlint_catches_a_broken_workflow(tmp_path):
    # a typo in the name of the matrix job's output
    broken = _broken_copy(tmp_path, "needs.matrix.outputs.build", "needs.matrix.outputs.bulid")
    result = _actionlint(broken)
    assert result.returncode == 1 and "bulid" in result.stdout, result.stdout


def test_actionlint_runs_shellcheck_on_run_scripts(tmp_path):
    _tool("shellcheck")
    broken = _broken_copy(tmp_path, 'package=$(ls output/"$PLATFORM"', "package=$(ls output/$PLATFORM")
    result = _actionlint(broken)
    assert result.returncode == 1 and "SC2086" in result.stdout, result.stdout


# ---- zizmor ----------------------------------------------------------------------------------
def test_zizmor_is_clean():
    result = _zizmor(WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout, result.stdout


@pytest.mark.parametrize("old, new, audit", [
    # a tag instead of a commit: whoever moves the tag changes our build
    ("@3d3c42e5aac5ba805825da76410c181273ba90b1  # v7.0.1", "@v7", "unpinned-uses"),
    # the checkout token left in .git (the default), where an uploaded artifact could carry it
    ("        with:\n          persist-credentials: false\n", "", "artipacked"),
    # a matrix value expanded into the script instead of passed through env
    ('--python "$PYTHON"', "--python ${{ matrix.python }}", "template-injection"),
    # a build job allowed to write everything
    ("    permissions:\n      contents: read\n    strategy:", "    permissions: write-all\n    strategy:",
     "excessive-permissions"),
])
def test_zizmor_catches_an_unsafe_workflow(tmp_path, old, new, audit):
    result = _zizmor(_broken_copy(tmp_path, old, new))
    assert result.returncode != 0 and audit in result.stdout, result.stdout


def test_every_action_is_pinned_by_commit_with_its_version():
    pins: dict[str, set[str]] = {}
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for line in path.read_text().splitlines():
            if "uses:" in line:
                use = line.split("uses:", 1)[1].strip()
                assert PINNED.match(use), f"{path.name}: {use!r} is not `owner/repo@<sha>  # vX.Y.Z`"
                pins.setdefault(use.split("@")[0], set()).add(use.split("@")[1])
    assert {"actions/checkout", "prefix-dev/setup-pixi", "actions/upload-artifact",
            "actions/download-artifact"} <= set(pins)
    assert all(len(p) == 1 for p in pins.values()), f"one action, several pins: {pins}"


# ---- the build matrix ----------------------------------------------------------------------
def _emit(*args: str, root: pathlib.Path = ROOT) -> dict:
    """What the `matrix` job writes to $GITHUB_OUTPUT: the ci-matrix verb's one line of JSON.
    ``root``: a copy of the repository; its python/ goes first on the path (nothing there
    imports torchrig, so the copy's python/torchrig cannot shadow the installed one)."""
    env = {**os.environ, "PYTHONPATH": str(root / "python")} if root != ROOT else None
    result = _run([sys.executable, "-m", "torchrig_release", "ci-matrix", *args], cwd=root, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1, "a $GITHUB_OUTPUT value must be one line"
    return json.loads(result.stdout)


def _triples(entries) -> set[tuple[str, str, str, str]]:
    return {(e["python"], e["pytorch"], e["cuda"], e["abi"]) for e in entries}


def _rattler_build_cli(recipe: pathlib.Path, platform: str, tmp_path: pathlib.Path) -> set:
    """(python, pytorch, cuda) of every variant the rattler-build CLI renders -- it applies
    `build.skip`, which py-rattler-build's render() (the `render` verb) does not."""
    script = ("import sys, warnings\nwarnings.simplefilter('ignore')\n"
              "from rattler_build.cli_api import build_recipes\n"
              "build_recipes([sys.argv[1]], render_only=True, target_platform=sys.argv[2],"
              " output_dir=sys.argv[3])\n")
    result = _run([sys.executable, "-c", script, recipe, platform, tmp_path / "render"])
    assert result.returncode == 0, result.stderr
    variants = [r["build_configuration"]["variant"] for r in json.loads(result.stdout)]
    return {(v["python"], v["pytorch"], v["cuda_compiler_version"], v[cu.ABI_KEY]) for v in variants}


@pytest.fixture(scope="module")
def matrix():
    return _emit()["include"]


def test_matrix_is_variants_yaml_on_every_package_platform(matrix, tmp_path):
    product = {cu.variant_key(b) for b in cu.builds()}  # classic product + stable on one pytorch
    platforms = ci_matrix.build_platforms()
    assert platforms == pm.platforms(pm.load_manifest(), pm.environments(pm.load_manifest())["package"])
    assert {e["platform"] for e in matrix} <= set(platforms)
    for entry in matrix:
        assert set(entry) == ENTRY_KEYS
        assert entry["os"] == ci_matrix.RUNNERS[entry["platform"]]
        family = {"linux": "ubuntu", "osx": "macos", "win": "windows"}[entry["platform"].split("-")[0]]
        assert entry["os"].startswith(family), entry
        assert entry["flavour"] == ("cpu" if entry["cuda"] == "None" else "cuda")
        py = entry["python"].replace(".", "")
        assert entry["build_string"].startswith(
            f"{cu.flavour_tag(entry['cuda'])}_stable_py{py}_h" if entry["abi"] == "stable"
            else f"{cu.flavour_tag(entry['cuda'])}_py{py}_pt"), entry
    # linux-64 builds the whole product; every platform exactly what rattler-build would build
    linux = [e for e in matrix if e["platform"] == "linux-64"]
    assert len(linux) == len(product) and _triples(linux) == product
    for platform in platforms:
        entries = [e for e in matrix if e["platform"] == platform]
        if platform == "win-64" and not entries:  # the recipe skips Windows; the CLI cannot render it
            assert "win" in cu.skip_conditions()
            continue
        assert len(entries) == len(_triples(entries))
        assert _triples(entries) == _rattler_build_cli(RECIPE, platform, tmp_path), platform
    # one artifact per entry
    names = [f"conda-{e['platform']}-{e['build_string']}" for e in matrix]
    assert len(set(names)) == len(names)


def test_the_build_job_builds_the_entry_it_is_given():
    """Each variant key of a matrix entry reaches build-conda's command line: without --abi
    the stable entries built the classic package (build-conda's default) and their abi-check
    step found no package with the entry's build string."""
    build = yaml.safe_load(PACKAGES.read_text())["jobs"]["build"]
    env = build.get("env", {})
    (command,) = [line for s in build["steps"] for line in s.get("run", "").splitlines()
                  if "build-conda" in line and not line.lstrip().startswith("#")]
    options = {"python": "--python", "pytorch": "--pytorch", "cuda": "--cuda", "abi": "--abi"}
    missing = []
    for key, option in options.items():
        names = [name for name, value in env.items() if value == f"${{{{ matrix.{key} }}}}"]
        if not any(re.search(rf"{option} \"?\$\{{?{name}\b", command) for name in names):
            missing.append(f"{option} (matrix.{key})")
    assert not missing, f"build-conda in packages.yml lacks {missing}: {command.strip()}"


def test_publish_matrix_is_the_abi_checkable_builds(matrix):
    publish = _emit("--abi-checkable")["include"]
    assert publish == [e for e in matrix if e["abi_check"]]
    assert {e["platform"] for e in publish} == {"linux-64"}


def test_gpu_matrix_is_the_pixi_environments_with_test_gpu():
    manifest = pm.load_manifest()
    envs = _emit("--gpu")["environment"]
    assert envs and all("test-gpu" in pm.tasks_in(manifest, pm.environments(manifest)[e]) for e in envs)
    assert all(pm.platforms(manifest, pm.environments(manifest)[e]) == ["linux-64"] for e in envs)


def test_the_workflow_takes_its_matrices_from_the_matrix_job():
    workflow = yaml.safe_load(PACKAGES.read_text())
    jobs = workflow["jobs"]
    emitted = " ".join(s.get("run", "") for s in jobs["matrix"]["steps"])
    assert "pixi run -e package render" in emitted and "torchrig-release ci-matrix" in emitted
    for job, output in [("build", "build"), ("publish", "publish"), ("test-gpu", "gpu")]:
        assert jobs[job]["strategy"]["matrix"] == f"${{{{ fromJSON(needs.matrix.outputs.{output}) }}}}"
    # every matrix.<key> a job reads is a key the tool emits (actionlint cannot know them)
    emitted_keys = {"build": ENTRY_KEYS, "publish": ENTRY_KEYS, "test-gpu": {"environment"}}
    for job, keys in emitted_keys.items():
        used = set(re.findall(r"(?<![\w.])matrix\.(\w+)", json.dumps(jobs[job])))
        assert used and used <= keys, (job, used - keys)
    # and no version of variants.yaml is written into it
    text = PACKAGES.read_text()
    for key, values in cu.matrix().items():
        for value in values:
            if value != "None":
                assert not re.search(rf"(?<![\d.]){re.escape(value)}(?![\d])", text), (key, value)


# ---- the matrix follows the recipe, not the workflow ----------------------------------------
@pytest.fixture()
def tree(tmp_path):
    """A copy of what the ci-matrix verb reads: python/torchrig_release, the library's
    _torch_version.py, recipe/, pixi.toml (no workflows)."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "python" / "torchrig_release", copy / "python" / "torchrig_release",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "python" / "torchrig").mkdir()
    shutil.copy(ROOT / "python" / "torchrig" / "_torch_version.py", copy / "python" / "torchrig")
    shutil.copytree(ROOT / "recipe", copy / "recipe")
    shutil.copy(ROOT / "pixi.toml", copy / "pixi.toml")
    return copy


def _edit(path: pathlib.Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path.name}: update this test"
    path.write_text(text.replace(old, new, 1))


def test_adding_a_python_to_variants_yaml_adds_its_builds(tree, matrix):
    workflows = {p.name: p.read_bytes() for p in WORKFLOWS.glob("*.yml")}
    newest = cu.matrix()["python"][-1]
    major, minor = newest.split(".")
    added = f"{major}.{int(minor) + 1}"
    _edit(tree / "recipe" / "variants.yaml", f'  - "{newest}"\n', f'  - "{newest}"\n  - "{added}"\n')

    grown = _emit(root=tree)["include"]
    new = [e for e in grown if e["python"] == added]
    per_python = [e for e in matrix if e["python"] == newest]
    assert len(grown) == len(matrix) + len(per_python)
    assert {(e["platform"], e["pytorch"], e["cuda"], e["abi"]) for e in new} == \
        {(e["platform"], e["pytorch"], e["cuda"], e["abi"]) for e in per_python}
    py = added.replace(".", "")
    assert all(e["build_string"].startswith(f"{cu.flavour_tag(e['cuda'])}"
                                            + (f"_stable_py{py}_h" if e["abi"] == "stable" else f"_py{py}_pt"))
               for e in new)
    assert {p.name: p.read_bytes() for p in WORKFLOWS.glob("*.yml")} == workflows


def test_windows_and_macos_build_the_cpu_flavour_only(tree):
    """variants.yaml gives osx and win no CUDA version: win-64 and osx-arm64 get every python x
    pytorch on CPU. A build.skip in the recipe is refused by name (conda-build would ignore it
    and build what it drops)."""
    cpu_only = {cu.variant_key(b) for b in cu.builds() if b["cuda_compiler_version"] == "None"}
    entries = _emit(root=tree)["include"]
    for platform, runner in (("win-64", "windows-latest"), ("osx-arm64", None)):
        mine = [e for e in entries if e["platform"] == platform]
        assert _triples(mine) == cpu_only, platform
        if runner:
            assert {e["os"] for e in mine} == {runner}
    _edit(tree / "recipe" / "recipe.yaml", "  script:\n    file: build", "  skip:\n    - win\n  script:\n    file: build")
    env = {**os.environ, "PYTHONPATH": str(tree / "python")}
    refused = _run([sys.executable, "-m", "torchrig_release", "ci-matrix"], cwd=tree, env=env)
    assert refused.returncode == 2 and "build.skip (win)" in refused.stderr, refused.stderr


# ---- the pixi version -------------------------------------------------------------------------
PIXI_VERSION_FILE = ROOT / ".github" / "pixi-version"  # the one owner of CI's pixi version
PIXI_VERSION_STEP = "pixi-version"  # the step id that reads it, before each setup-pixi


def pixi_versions(workflows: pathlib.Path = WORKFLOWS) -> dict[str, str]:
    """{"<file>:<job>": the pixi version its setup-pixi step installs}, resolving
    ``${{ env.X }}`` (workflow or job env) and ``${{ steps.pixi-version.outputs.version }}``
    (a step that reads PIXI_VERSION_FILE)."""
    found = {}
    for path in sorted(workflows.glob("*.yml")):
        data = yaml.safe_load(path.read_text())
        for job_name, job in data["jobs"].items():
            env = {**data.get("env", {}), **job.get("env", {})}
            steps = job.get("steps", [])
            for i, step in enumerate(steps):
                if not str(step.get("uses", "")).startswith("prefix-dev/setup-pixi@"):
                    continue
                value = str(step.get("with", {}).get("pixi-version", "latest"))
                env_ref = re.fullmatch(r"\$\{\{\s*env\.(\w+)\s*\}\}", value)
                if env_ref:
                    value = str(env.get(env_ref.group(1), f"unset env.{env_ref.group(1)}"))
                elif value == f"${{{{ steps.{PIXI_VERSION_STEP}.outputs.version }}}}":
                    reader = [s for s in steps[:i] if s.get("id") == PIXI_VERSION_STEP]
                    reads_file = reader and ".github/pixi-version" in reader[0].get("run", "")
                    value = PIXI_VERSION_FILE.read_text().strip() if reads_file else "no reader step"
                found[f"{path.name}:{job_name}"] = value
    return found


def test_every_workflow_installs_one_pixi_that_pixi_toml_admits():
    """One owner (.github/pixi-version), read by every job; pixi refuses a manifest whose
    requires-pixi it does not meet, before parsing anything else."""
    from packaging.specifiers import SpecifierSet

    versions = pixi_versions()
    assert len(versions) >= 5, versions  # ci.yml's pixi job, packages.yml's four
    assert len(set(versions.values())) == 1, f"several pixi versions: {versions}"
    (version,) = set(versions.values())
    assert re.fullmatch(r"v\d+\.\d+\.\d+", version), f"not an exact release: {version!r}"
    required = SpecifierSet(pm.load_manifest()["workspace"]["requires-pixi"])
    assert version.removeprefix("v") in required, f"CI's pixi {version} does not meet {required}"
    literal = [f"{p.name}: {line.strip()}" for p in sorted(WORKFLOWS.glob("*.yml"))
               for line in p.read_text().splitlines() if re.search(r"\bv?0\.\d+\.\d+\b", line)
               and "pixi" in line.lower() and "uses:" not in line]  # uses: the action's own version
    assert literal == [], "a pixi version written in a workflow, not read from .github/pixi-version"
