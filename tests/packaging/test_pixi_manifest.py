"""pixi.toml: pixi's schema, the versions of recipe/variants.yaml, a sound task graph, and
task commands that name scripts and modules which exist and answer ``--help``.

There is no pixi binary here: nothing is run through pixi. The task commands are run
directly, with ``--help``, by this interpreter.
"""
from __future__ import annotations

import copy
import importlib.util
import json
import os
import pathlib
import re
import shlex
import subprocess
import sys

import pytest
from support import import_closure as ic

from torchrig_release import pixi as pm
from torchrig_release.paths import REPO as ROOT
from torchrig_release.variants import load as load_variants

SCHEMA = ROOT.parent / "shared" / "reference" / "pixi-schema" / "schema.json"
MANIFEST = pm.load_manifest()
ENVS = pm.environments(MANIFEST)
COMMAND_TASKS = [t for t in pm.task_definitions(MANIFEST) if t.cmd]
REQUIRED_TASKS = {"build", "test", "test-gpu", "bench", "demo", "render", "build-conda",
                  "abi-check", "upload", "test-all"}
CUDA_PLATFORMS = {"linux-64", "linux-aarch64", "win-64"}  # NVIDIA drivers exist there
CPU_ENV = re.compile(r"^py3\d+-cpu$")
SHELL_OPERATORS = {"&&", "||", ";", "|", ">", "<", "&"}


@pytest.fixture(scope="module")
def variants():
    return load_variants()


def _schema_errors(manifest):
    if not SCHEMA.is_file():
        pytest.skip(f"pixi's JSON schema is not at {SCHEMA} (shared/ beside the clone)")
    import jsonschema

    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(manifest)]


# ---- schema -------------------------------------------------------------------------------
def test_manifest_matches_pixi_schema():
    assert _schema_errors(MANIFEST) == []


def test_schema_check_catches_a_broken_manifest():
    broken = copy.deepcopy(MANIFEST)
    broken["tasks"]["test"]["depends-onn"] = ["build"]  # misspelt key
    broken["environments"]["py312-cpu"] = "py312"  # features must be a list
    errors = _schema_errors(broken)
    assert sorted(e.split(":")[0] for e in errors) == ["environments/py312-cpu", "tasks/test"], errors


# ---- versions: recipe/variants.yaml is the source of truth ---------------------------------
def test_python_features_are_the_variants(variants):
    found = pm.python_features(MANIFEST)
    assert sorted(found.values(), key=pm.version_key) == sorted(variants["python"], key=pm.version_key)
    for name, version in found.items():
        assert name == "py" + version.replace(".", ""), f"feature {name} pins python {version}"


def test_every_torch_environment_asks_for_pytorch_from_the_stable_floor_up(variants):
    """A range the user's solver resolves (the lock file pins the build), never one minor that
    conda-forge may not have yet: from stable_torch_target (the oldest torch any torchrig
    build loads in), open above."""
    want = ">=" + variants["stable_torch_target"][0]
    pins = {env.name: pm.stack(MANIFEST, env)["pytorch"] for env in ENVS.values()}
    with_torch = {name: pin for name, pin in pins.items() if pin}
    assert with_torch and set(with_torch.values()) == {want}, with_torch


def test_cuda_versions_are_the_variants(variants):
    want = {v for v in variants["cuda_compiler_version"] if v not in (None, "None")}
    used = {pm.stack(MANIFEST, env)["cuda"] for env in ENVS.values()} - {None}
    assert used == want


def test_cuda_driver_requirement_matches_cuda_version():
    """A CUDA environment's platforms declare a __cuda virtual package of its toolkit's major."""
    for env in ENVS.values():
        cuda = pm.stack(MANIFEST, env)["cuda"]
        required = pm.virtual_packages(MANIFEST, env).get("cuda")
        assert (cuda is None) == (required is None), env.name
        if cuda:
            assert str(required).split(".")[0] == cuda.split(".")[0], env.name


def test_no_deprecated_system_requirements():
    """pixi >= 0.71: workspace platforms with virtual packages replace system-requirements."""
    tables = [MANIFEST, *MANIFEST.get("feature", {}).values()]
    assert not [t for t in tables if "system-requirements" in t]
    assert MANIFEST["workspace"].get("requires-pixi", "").startswith(">=")


def test_cuda_feature_holds_the_recipes_cuda_host_packages():
    """nvcc + the -dev libraries recipe.yaml builds with, not the whole cuda-toolkit."""
    recipe = (ROOT / "recipe" / "recipe.yaml").read_text()
    block = recipe[recipe.index("cuda-version ==") : recipe.index("run:", recipe.index("cuda-version =="))]
    host = set(re.findall(r"^\s*- ([a-z][a-z0-9-]*-dev|libcu[a-z]+-dev)\b", block, re.M))
    deps = pm.feature(MANIFEST, "cuda")["dependencies"]
    assert host and host <= set(deps), host - set(deps)
    assert "cuda-nvcc" in deps and "cuda-toolkit" not in deps


def test_test_gpu_has_a_cuda_default_environment():
    (task,) = [t for t in pm.task_definitions(MANIFEST) if t.name == "test-gpu"]
    env = ENVS[task.spec["default-environment"]]
    assert pm.stack(MANIFEST, env)["cuda"] and "test-gpu" in pm.tasks_in(MANIFEST, env)
    assert pm.stack(MANIFEST, env)["python"] == pm.newest(load_variants()["python"])


def test_each_python_has_a_cpu_and_a_cuda_environment(variants):
    for python in variants["python"]:
        for flavour in ("cpu", "cuda"):
            name = f"py{python.replace('.', '')}-{flavour}"
            assert name in ENVS, f"no environment {name}"
            pins = pm.stack(MANIFEST, ENVS[name])
            assert pins["python"] == python and (pins["cuda"] is None) == (flavour == "cpu"), name


def test_default_is_newest_python_on_cpu(variants):
    pins = pm.stack(MANIFEST, ENVS["default"])
    assert pins == {"python": pm.newest(variants["python"]),
                    "pytorch": ">=" + variants["stable_torch_target"][0], "cuda": None}


def test_flavour_is_pinned_explicitly():
    """CPU environments must get a CPU pytorch and CUDA ones a CUDA pytorch, never 'any'."""
    for env in ENVS.values():
        deps = pm.merged(MANIFEST, env, "dependencies")
        if not any(name in deps for name in pm.TORCH_PACKAGES):
            continue
        has_cuda = "cuda-version" in deps
        assert ("pytorch-gpu" in deps) == has_cuda and ("pytorch-cpu" in deps) != has_cuda, env.name


def test_cuda_environments_only_on_cuda_platforms():
    for env in ENVS.values():
        if pm.virtual_packages(MANIFEST, env).get("cuda") is not None:
            assert pm.platforms(MANIFEST, env), f"{env.name} has no platform left"
            assert set(pm.platforms(MANIFEST, env)) <= CUDA_PLATFORMS, env.name


@pytest.mark.parametrize("feature, extra", [("build", None), ("test", "test"), ("demo", "demo")])
def test_features_hold_pyproject_requirements(feature, extra):
    """The pip path (pyproject.toml) and the pixi path install the same tools."""
    pyproject = pm.load_toml(ROOT / "pyproject.toml")
    requires = (pyproject["build-system"]["requires"] if extra is None
                else pyproject["project"]["optional-dependencies"][extra])
    conda_names = {"matplotlib": "matplotlib-base"}
    names = {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requires}
    wanted = {conda_names.get(n, n) for n in names} - {"torch"}  # torch comes from the flavour
    assert wanted <= set(pm.feature(MANIFEST, feature).get("dependencies", {})), wanted


# ---- environments and features --------------------------------------------------------------
def test_environment_features_exist():
    missing = [(env.name, name) for env in ENVS.values() for name in env.features
               if name != pm.DEFAULT_FEATURE and name not in MANIFEST.get("feature", {})]
    assert missing == []


def test_every_feature_is_used():
    used = {name for env in ENVS.values() for name in env.features}
    assert set(MANIFEST["feature"]) - used == set()


# ---- the task graph ---------------------------------------------------------------------------
def test_required_tasks_exist():
    assert REQUIRED_TASKS <= {t.name for t in pm.task_definitions(MANIFEST)}


def test_every_task_is_described():
    assert [t.name for t in pm.task_definitions(MANIFEST) if not t.spec.get("description")] == []


def test_task_graph_has_no_cycle():
    assert pm.find_cycle(pm.task_graph(MANIFEST)) is None


def test_cycle_check_finds_an_injected_cycle():
    looped = copy.deepcopy(MANIFEST)
    looped["tasks"]["test"]["depends-on"] = ["build"]
    looped["tasks"]["build"]["depends-on"] = ["test"]
    cycle = pm.find_cycle(pm.task_graph(looped))
    assert cycle and cycle[0] == cycle[-1] and {"build", "test"} <= set(cycle), cycle


@pytest.mark.parametrize("task, prerequisite", [("test", "build"), ("_test-py310-cpu", "build"),
                                                ("upload", "build-conda"), ("build-conda", "render")])
def test_task_runs_after_its_prerequisite(task, prerequisite):
    assert pm.reaches(pm.task_graph(MANIFEST), task, prerequisite)


def test_dependencies_exist_in_the_environment_they_run_in():
    """`pixi run -e ENV task` must find every task it depends on, in ENV or the one named."""
    problems = []
    for env in ENVS.values():
        for task in pm.tasks_in(MANIFEST, env).values():
            for dep, where in task.depends_on:
                target = ENVS.get(where or env.name)
                if target is None or dep not in pm.tasks_in(MANIFEST, target):
                    problems.append(f"{task.name} in {env.name} -> {dep} in {where or env.name}")
    assert problems == []


def test_test_all_covers_every_cpu_environment():
    """test-all -> _test-<env> in <env> -> build in <env>, for every pyXY-cpu environment."""
    (test_all,) = [t for t in pm.task_definitions(MANIFEST) if t.name == "test-all"]
    cpu = {name for name in ENVS if CPU_ENV.match(name)}
    assert set(test_all.depends_on) == {(f"_test-{name}", name) for name in cpu}
    by_name = {t.name: t for t in pm.task_definitions(MANIFEST)}
    (test,) = [t for t in pm.task_definitions(MANIFEST) if t.name == "test"]
    for name in cpu:
        hidden = by_name[f"_test-{name}"]
        assert hidden.cmd == test.cmd and hidden.depends_on == (("build", name),), hidden


def test_test_gpu_builds_in_its_own_command():
    """`pixi run test-gpu` runs in its default-environment; a depends-on `build` would not."""
    (task,) = [t for t in pm.task_definitions(MANIFEST) if t.name == "test-gpu"]
    assert task.depends_on == () and "--build" in shlex.split(task.cmd)


def test_test_gpu_is_offered_exactly_in_cuda_environments():
    offered = {name for name, env in ENVS.items() if "test-gpu" in pm.tasks_in(MANIFEST, env)}
    cuda = {name for name, env in ENVS.items() if pm.stack(MANIFEST, env)["cuda"]}
    assert offered == cuda


def test_build_directory_is_per_environment_and_abi(monkeypatch):
    """pixi renders cmd/inputs/outputs with MiniJinja; a shell variable there never matches.
    The outputs are the folder the `build` verb builds in (install.build_dir)."""
    from torchrig_release import install

    (build,) = [t for t in pm.task_definitions(MANIFEST) if t.name == "build"]
    per_env = "build/{{ pixi.environment.name }}/{{ abi }}"
    assert build.spec["outputs"] == [per_env + "/**"]
    assert not [p for p in [*build.spec.get("inputs", []), *build.spec["outputs"]] if "$" in p]
    monkeypatch.setenv("PIXI_ENVIRONMENT_NAME", "py312-cpu")
    assert install.build_dir("stable").as_posix() == "build/py312-cpu/stable"


# ---- task commands: one script or module each, present and answering --help ---------------------
SCRIPTS = ic.console_scripts(ROOT)  # torchrig-release -> torchrig_release (python/pyproject.toml)


def _words(cmd: str) -> list[str]:
    """The task's command, a console script of this repository read as `python -m` its package."""
    words = shlex.split(cmd)
    return ["python", "-m", SCRIPTS[words[0]], *words[1:]] if words[0] in SCRIPTS else words


def _help_command(cmd: str) -> list[str]:
    """`python path/x.py ...` -> [python, path/x.py, --help]; `python -m mod sub ...` (or a
    console script of this repository) -> [python, -m, mod, sub, --help]."""
    words = _words(cmd)
    if words[1] == "-m":
        sub = words[3:4] if len(words) > 3 and re.match(r"^[a-z][\w-]*$", words[3]) else []
        return [sys.executable, "-m", words[2], *sub, "--help"]
    return [sys.executable, str(ROOT / words[1]), "--help"]


@pytest.mark.parametrize("task", COMMAND_TASKS, ids=lambda t: t.name)
def test_task_is_one_python_command(task):
    words = _words(task.cmd)
    assert words[0] == "python" and len(words) > 1, task.cmd
    assert not SHELL_OPERATORS & set(words), f"{task.name}: call a script instead of a shell line"


@pytest.mark.parametrize("task", COMMAND_TASKS, ids=lambda t: t.name)
def test_task_target_exists(task):
    words = _words(task.cmd)
    if words[1] != "-m":
        assert (ROOT / words[1]).is_file(), f"{task.name}: {words[1]} does not exist"
    elif (ROOT / "python" / words[2]).is_dir():  # this project's package
        assert (ROOT / "python" / words[2] / "__main__.py").is_file(), f"{task.name}: no __main__"
    elif (ROOT / task.spec.get("cwd", ".") / words[2].replace(".", "/")).with_suffix(".py").is_file():
        pass  # a module beside the task's working directory (tests/support/...)
    else:
        assert importlib.util.find_spec(words[2]) is not None, f"{task.name}: no module {words[2]}"


@pytest.mark.parametrize("task", COMMAND_TASKS, ids=lambda t: t.name)
def test_task_command_answers_help(task):
    env = dict(os.environ, PIXI_PROJECT_ROOT=str(ROOT), PIXI_ENVIRONMENT_NAME="default")
    result = subprocess.run(_help_command(task.cmd), cwd=ROOT / task.spec.get("cwd", "."), env=env,
                            capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0 and "usage" in result.stdout.lower(), (
        f"{task.name}: {' '.join(_help_command(task.cmd))} -> rc {result.returncode}\n"
        f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")


def test_the_release_tasks_run_the_installed_console_script():
    """Every task of the release tooling calls `torchrig-release`, and every environment that
    offers one installs the distribution editable from python/ (no link task of its own)."""
    for name, env in ENVS.items():
        for task in pm.tasks_in(MANIFEST, env).values():
            if task.cmd and "torchrig_release" in task.cmd:
                raise AssertionError(f"{task.name}: call `torchrig-release`, not the module")
            if task.cmd and shlex.split(task.cmd)[0] in SCRIPTS:
                pypi = pm.merged(MANIFEST, env, "pypi-dependencies")
                assert pypi.get("torchrig-release") == {"path": "python", "editable": True}, (name, task.name)
    assert "link-release" not in {t.name for t in pm.task_definitions(MANIFEST)}
