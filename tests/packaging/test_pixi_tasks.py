"""Every `pixi run` command of README.md and docs/ does what the docs say, under pixi's own rules.

There is no pixi binary here. torchrig_release.pixi_run applies the rules as pixi's source
states them, at prefix-dev/pixi tag v0.77.0 (commit e3c26fbf7d8294d4ddbe7c913b4f8e60bcbafe5a,
2026-08-19):
  * crates/pixi_task/src/task_environment.rs, SearchEnvironments::find_task: which
    environment a task (the one typed, or one named in depends-on) is looked up in; an
    explicit `-e` holds for the whole run, a depends-on `environment` for its entry only;
    without either, `default` wins unless another environment defines the name differently;
  * crates/pixi_cli/src/run.rs, disambiguate_task_interactive: several candidates -> the one
    whose default-environment is its own environment, else a prompt;
  * crates/pixi_task/src/task_graph.rs, TaskGraph::from_cmd_args / from_root / merge_args /
    topological_order: the graph, typed arguments, the order of the run;
  * crates/pixi_core/src/workspace/environment.rs, Environment::tasks: the first listed
    feature's definition wins inside one environment;
  * crates/pixi_manifest/src/features_ext.rs, FeaturesExt::platforms, and
    crates/pixi_manifest/src/platform.rs, PixiPlatform::matches_reference: the platforms an
    environment is solved for (a feature's bare subdir admits the named platforms of it);
  * crates/pixi_task/src/task_hash.rs, TaskHash::from_task / task_args_hash, and
    crates/pixi_task/src/executable_task.rs, cache_name / full_command; with
    crates/pixi_core/src/environment/mod.rs, EnvironmentHash::from_environment: the task
    cache keys on environment, task, arguments and rendered inputs/outputs, and hashes the
    rendered command, the files and the environment (its activation variables included), never
    shell variables nor the task's `env` table.
The open upstream issue about the first rule is prefix-dev/pixi#4713.
"""
from __future__ import annotations

import copy
import re

import pytest

from torchrig_release import build_switches
from torchrig_release import pixi as pm
from torchrig_release import pixi_run as pr
from torchrig_release.paths import REPO as ROOT

MANIFEST = pm.load_manifest()
ENVS = pm.environments(MANIFEST)
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
        *sorted((ROOT / ".github" / "workflows").glob("*.yml"))]
COMMAND = re.compile(r"pixi run((?: (?:--frozen|--locked|--skip-deps|-e [\w-]+))*) ([a-z][\w-]*)([^`#|,\n]*)")
PLACEHOLDER = re.compile(r"X\.Y|\.\.\.|<|>|\$")

# Where each documented task is meant to run when no -e is given (README, docs/).
INTENDED = {"build": "default", "test": "default", "demo": "default", "test-all": "default", "abi-check": "default",
            "test-gpu": "py314-cuda", "gen-environments": "default", "gen-compat-docs": "default",
            "render": "package", "build-conda": "package", "upload": "package",
            "local-channel": "package"}
# Build options that change the output: what reaches pixi's task cache for these tasks.
BUILD_TASKS = ("build", "build-wheel")
SWITCHES = ("TORCHRIG_ABI", "TORCH_CUDA_ARCH_LIST", "TORCHRIG_CUDA")


def documented_commands(paths=DOCS) -> list[tuple[str, str]]:
    """(where, "pixi run [-e ENV] [--skip-deps] TASK [ARGS]") for every `pixi run` of README.md,
    docs/ and the workflows (placeholders such as X.Y, <env> or $VARIABLE left out; --frozen and
    --locked, which only concern the lock file, too)."""
    found: dict[str, set[str]] = {}
    for path in paths:
        for match in COMMAND.finditer(path.read_text()):
            options, task, rest = match.groups()
            options = [w for w in options.split() if w not in ("--frozen", "--locked")]
            args = [w for w in rest.split() if not PLACEHOLDER.search(w)]
            found.setdefault(" ".join(["pixi run", *options, task, *args]), set()).add(path.name)
    return [(", ".join(sorted(where)), command) for command, where in sorted(found.items())]


COMMANDS = documented_commands()


def chain_problems(manifest, command: str, machine: pr.Machine) -> list[str]:
    """Why `command` does not run its whole chain in its intended environment: the root in
    `-e ENV` or INTENDED; each dependency where its depends-on entry says, else where the
    task needing it runs (never by way of `default`)."""
    explicit, _, words = pr.parse_options(command)
    root = words[0]
    want = explicit or INTENDED.get(root)
    try:
        steps, edges = pr.run_graph(manifest, command, machine)
    except pr.RunError as err:
        return [f"{command} on {machine.name}: pixi stops ({err.kind}): {err}"]
    if steps[0].command:  # not a task (e.g. `pixi run -e package torchrig-release ...`)
        return [] if explicit else [f"{command}: {root!r} is no task; name its environment (-e)"]
    if want is None:
        return [f"{command}: the docs run {root!r} without -e; say in INTENDED where it is meant to run"]
    problems = []
    if steps[0].environment != want:
        problems.append(f"{command}: {root} runs in {steps[0].environment}, not {want}")
    for parent, child, named in edges:
        expected = named or steps[parent].environment
        if steps[child].environment != expected:
            problems.append(f"{command} on {machine.name}: {steps[child].task} (needed by "
                            f"{steps[parent].task} in {steps[parent].environment}) runs in "
                            f"{steps[child].environment}, not {expected}")
    return problems


# ---- the rule model, on pixi's own examples ---------------------------------------------------
TWO_ENVS = {"workspace": {"channels": [], "platforms": [
                "linux-64", {"name": "linux-64-cuda13", "platform": "linux-64", "cuda": "13"}]},
            "tasks": {"build": "make", "test": {"cmd": "pytest", "depends-on": ["build"]}},
            "feature": {"gpu": {"tasks": {"gpu": {"cmd": "pytest -m gpu", "depends-on": ["build"],
                                                  "default-environment": "cuda"}}},
                        "py": {"dependencies": {"python": "3.12.*"}}},
            "environments": {"cuda": ["gpu"], "cuda2": ["gpu", "py"], "py": ["py"]}}


def test_a_dependency_does_not_inherit_the_environment_of_its_parent():
    """prefix-dev/pixi#4713: `pixi run gpu` runs gpu in its default-environment, build in default."""
    steps = pr.run(TWO_ENVS, "pixi run gpu")
    assert [(s.task, s.environment) for s in steps] == [("build", "default"), ("gpu", "cuda")]
    assert chain_problems(TWO_ENVS, "pixi run -e cuda gpu", pr.MACHINES[0]) == []


def test_an_explicit_environment_holds_for_every_dependency():
    steps = pr.run(TWO_ENVS, "pixi run -e py test")
    assert [(s.task, s.environment) for s in steps] == [("build", "py"), ("test", "py")]


def test_skip_deps_runs_the_task_alone():
    """pixi: crates/pixi_cli/src/run.rs Args::skip_deps -> TaskGraph::from_cmd_args returns the
    task's node without dependencies (task_graph.rs, test_skip_deps: `bar` alone, not `foo`)."""
    for command in ("pixi run --skip-deps test", "pixi run --skip-deps -e py test --help",
                    "pixi run -e py --skip-deps test"):
        steps = pr.run(TWO_ENVS, command)
        assert [s.task for s in steps] == ["test"], command
    assert [s.task for s in pr.run(TWO_ENVS, "pixi run test --skip-deps")] == ["build", "test"]  # the task's word
    with pytest.raises(pr.RunError):
        pr.run(TWO_ENVS, "pixi run --clean-env test")  # not modelled: refused, never guessed


def test_a_name_defined_in_two_features_prompts():
    twice = copy.deepcopy(TWO_ENVS)
    for name in ("gpu", "py"):
        twice["feature"][name].setdefault("tasks", {})["link"] = "ln -s a b"
    with pytest.raises(pr.RunError) as err:
        pr.run(twice, "pixi run link")
    assert err.value.kind == "prompt"


# ---- the documented commands ------------------------------------------------------------------
def test_the_docs_have_commands():
    assert {"pixi run test", "pixi run test-gpu", "pixi run test-all", "pixi run demo",
            "pixi run -e wheel-cpu build-wheel"} <= {c for _, c in COMMANDS}


@pytest.mark.parametrize("machine", pr.MACHINES, ids=lambda m: m.name)
@pytest.mark.parametrize("where, command", COMMANDS, ids=[c for _, c in COMMANDS])
def test_documented_command_runs_its_chain_in_the_intended_environment(where, command, machine):
    assert chain_problems(MANIFEST, command, machine) == [], where


def test_the_checks_catch_the_old_task_graph():
    """pixi.toml before issue 25: test-gpu depended on build, test-all on test in each
    environment; link-release was defined in three features."""
    old = copy.deepcopy(MANIFEST)
    old["feature"]["cuda"]["tasks"]["test-gpu"] = {"cmd": "torchrig-release test-gpu", "depends-on": ["build"],
                                                   "default-environment": "py314-cuda"}
    old["tasks"]["test-all"]["depends-on"] = [{"task": "test", "environment": e} for e in ENVS
                                             if re.fullmatch(r"py3\d+-cpu", e)]
    for name in ("test", "package", "wheel"):
        old["feature"][name].setdefault("tasks", {})["link-release"] = "pip install -e python"
    machine = pr.MACHINES[0]
    assert chain_problems(old, "pixi run test-gpu", machine) == [
        "pixi run test-gpu on linux-64 with a CUDA 13 driver: build (needed by test-gpu in py314-cuda) "
        "runs in default, not py314-cuda"]
    assert len(chain_problems(old, "pixi run test-all", machine)) == 5  # py310..py314-cpu
    INTENDED["link-release"] = "default"
    try:
        (problem,) = chain_problems(old, "pixi run link-release", machine)
    finally:
        del INTENDED["link-release"]
    assert "pixi stops (prompt)" in problem, problem


def test_no_task_name_has_two_definitions():
    """Two definitions of one name (e.g. link-release in three features) make pixi ask."""
    owners: dict[str, set[str]] = {}
    for task in pm.task_definitions(MANIFEST):
        owners.setdefault(task.name, set()).add(task.origin)
    assert {name: sorted(o) for name, o in owners.items() if len(o) > 1} == {}


def test_depends_on_names_existing_environments():
    """pixi ignores a depends-on environment that does not exist (prefix-dev/pixi#4712)."""
    missing = [(t.name, env) for t in pm.task_definitions(MANIFEST)
               for _, env in t.depends_on if env is not None and env not in ENVS]
    assert missing == []


def help_problems(commands: list[tuple[str, str]]) -> list[str]:
    """A shown `pixi run TASK --help` (or -h) that would run more than the task: pixi runs the
    task's depends-on first (`pixi run upload --help` builds every conda package before the
    help), so the docs must ask with `pixi run --skip-deps TASK --help`."""
    problems = []
    for where, command in commands:
        _, _, words = pr.parse_options(command)
        if not {"--help", "-h"} & set(words[1:]):
            continue
        try:
            steps = pr.run(MANIFEST, command)
        except pr.RunError as err:
            problems.append(f"{where}: {command}: pixi stops ({err.kind}): {err}")
            continue
        if len(steps) != 1:
            problems.append(f"{where}: {command} runs {' -> '.join(s.task for s in steps)} "
                            f"(write `pixi run --skip-deps {words[0]} {' '.join(words[1:])}`)")
    return problems


def test_a_shown_help_command_builds_nothing_first():
    """README, docs/, the workflows and the task descriptions of pixi.toml (`pixi task list`)."""
    shown = COMMANDS + documented_commands([ROOT / "pixi.toml"])
    helps = [c for _, c in shown if re.search(r" (--help|-h)\b", c)]
    assert helps, "the docs show no `pixi run TASK --help`: this check would check nothing"
    assert help_problems(shown) == []


def test_the_help_check_catches_a_help_behind_a_build():
    assert help_problems([("docs/publishing.md", "pixi run upload --help")]) == [
        "docs/publishing.md: pixi run upload --help runs render -> build-conda -> upload "
        "(write `pixi run --skip-deps upload --help`)"]


# ---- the task cache -----------------------------------------------------------------------------
def _offering(task: str) -> list[str]:
    return [name for name, env in ENVS.items() if task in pr.environment_tasks(MANIFEST, env)]


@pytest.mark.parametrize("task", BUILD_TASKS)
def test_build_options_reach_the_task_cache(task):
    """A build with another TORCHRIG_ABI, TORCH_CUDA_ARCH_LIST or TORCHRIG_CUDA must miss the
    cache: each comes from a task argument (in the cache file's name and the hashed command)
    or from the environment's activation variables (in its hash), never from the shell."""
    problems = []
    for env_name in _offering(task):
        steps = pr.run(MANIFEST, f"pixi run -e {env_name} {task}")
        key = pr.cache_key(MANIFEST, steps[-1])
        assert key["cached"], f"{task} has no inputs/outputs: pixi never skips it"
        for switch in SWITCHES:
            if switch in key["environment"]["activation-env"]:
                continue
            if not pr.switch_from_argument(MANIFEST, steps[-1], switch, build_switches.OPTIONS.get(switch)):
                problems.append(f"{task} in {env_name}: {switch} comes from the shell (not hashed)")
    assert problems == []


@pytest.mark.parametrize("task", BUILD_TASKS)
def test_another_abi_is_another_cache_entry(task):
    env = _offering(task)[0]
    classic = pr.cache_key(MANIFEST, pr.run(MANIFEST, f"pixi run -e {env} {task} classic")[-1])
    stable = pr.cache_key(MANIFEST, pr.run(MANIFEST, f"pixi run -e {env} {task} stable")[-1])
    assert classic["name"] != stable["name"]  # another cache file
    assert "--abi classic" in classic["command"] and "--abi stable" in stable["command"]


# ---- platforms ----------------------------------------------------------------------------------
def test_platforms_follow_pixis_rule_on_named_platforms():
    """features_ext.rs: a bare subdir admits that subdir's named platforms unless some feature of
    the environment names one of them (prefix-dev/pixi#6493)."""
    manifest = {"workspace": {"channels": [], "platforms": [
        "linux-64", "osx-arm64", {"name": "linux-64-cuda13", "platform": "linux-64", "cuda": "13"}]},
        "feature": {"cpu": {"platforms": ["linux-64", "osx-arm64"]},
                    "tool": {"platforms": ["linux-64", "linux-64-cuda13"]},
                    "cu": {"platforms": ["linux-64-cuda13"]}},
        "environments": {"cpu": ["cpu"], "both": ["cpu", "tool"], "gpu": ["cu", "tool"]}}
    envs = pm.environments(manifest)
    assert pm.platform_names(manifest, envs["cpu"]) == ["linux-64", "osx-arm64"]
    assert pm.platform_names(manifest, envs["both"]) == ["linux-64", "linux-64-cuda13"]
    assert pm.platform_names(manifest, envs["gpu"]) == ["linux-64-cuda13"]


def test_wheel_cpu_is_solved_for_linux_64_only():
    """docs/compatibility.md and docs/publishing.md: the wheel environments are Linux wheels."""
    assert pm.platform_names(MANIFEST, ENVS["wheel-cpu"]) == ["linux-64"]
    assert pm.platform_names(MANIFEST, ENVS["wheel-cuda"]) == ["linux-64-cuda13"]


def test_the_pixi_verb_shows_a_chain(capsys):
    from torchrig_release.main import main

    assert main(["pixi", "--run", "pixi run test-all"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"build\s+in py310-cpu\s+abi='classic'", out) and "_test-py310-cpu" in out
    assert main(["pixi", "--run", "pixi run build-wheel"]) == 1  # wheel-cpu or wheel-cuda: pixi asks
    assert "pixi asks which" in capsys.readouterr().err
