"""What ``pixi run [-e ENV] [--skip-deps] TASK [ARGS]`` runs, and what its task cache sees, by pixi's own rules.

There is no pixi binary on the machines this is checked on, so the rules are read from
pixi's source and applied here to pixi.toml (read by pixi.py). Each function names the
file and function of pixi it follows, at PIXI_REPO tag PIXI_TAG (PIXI_COMMIT, PIXI_DATE);
prefix-dev/pixi#4713 (open) is the behaviour in question: a task named in ``depends-on``
is looked up on its own, not in the environment of the task that depends on it.

The rules, in short:
  * a task is looked up in one environment only when the command line names one
    (``-e``) or the ``depends-on`` entry does (``{task, environment}``); ``-e`` applies to
    every task of the run, a ``depends-on`` environment to that entry only;
  * otherwise the `default` environment wins when it has the task (or the task's
    ``default-environment`` when that environment can run on this machine), unless another
    runnable environment has a *different definition* of that name;
  * otherwise every environment is searched: one hit runs there; several are resolved by
    a candidate whose ``default-environment`` is its own environment, or else pixi asks
    (an interactive prompt; an error when nobody can answer);
  * ``--skip-deps`` runs the task alone: its ``depends-on`` is not followed (a command line
    asking a task for ``--help`` uses it, so that nothing is built first);
  * a task's cache entry is keyed on its environment, name, arguments and rendered
    inputs/outputs, and holds a hash of its rendered command (with its arguments), its input
    and output files and its environment (platform, activation scripts and variables, the
    locked packages). Shell variables and the task's own ``env`` table are not hashed.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from . import pixi as pm
from .errors import PixiRunError as RunError

PIXI_REPO = "prefix-dev/pixi"
PIXI_TAG = "v0.77.0"
PIXI_COMMIT = "e3c26fbf7d8294d4ddbe7c913b4f8e60bcbafe5a"
PIXI_DATE = "2026-08-19"
TASK_ENVIRONMENT = "crates/pixi_task/src/task_environment.rs"
TASK_GRAPH = "crates/pixi_task/src/task_graph.rs"
TASK_HASH = "crates/pixi_task/src/task_hash.rs"
RUN_CLI = "crates/pixi_cli/src/run.rs"

__all__ = ["MACHINES", "Machine", "PIXI_COMMIT", "PIXI_REPO", "PIXI_TAG", "RunError", "Step",
           "cache_key", "environment_tasks", "find_task", "parse_options", "run", "run_graph",
           "runnable", "switch_from_argument"]

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclasses.dataclass(frozen=True)
class Machine:
    """Where ``pixi run`` is typed: a conda subdir and the CUDA driver's major (None: no GPU)."""

    name: str
    subdir: str
    cuda: int | None = None


MACHINES = (Machine("linux-64 with a CUDA 13 driver", "linux-64", 13),
            Machine("linux-64 without a GPU", "linux-64"),
            Machine("osx-arm64", "osx-arm64"),
            Machine("win-64", "win-64"))


@dataclasses.dataclass(frozen=True)
class Step:
    """One node of pixi's task graph: a task, the environment it runs in, its arguments."""

    task: str
    environment: str
    args: tuple[str, ...] = ()
    typed: tuple[tuple[str, str], ...] = ()  # (name, value) of the task's declared args
    command: bool = False  # no task of that name anywhere: pixi runs the words as a command


def environment_tasks(manifest: Mapping[str, Any], env: pm.Environment) -> dict[str, pm.Task]:
    """The tasks of ``env`` (pixi: crates/pixi_core/src/workspace/environment.rs,
    ``Environment::tasks`` over ``Environment::features``): the environment's features in
    the order listed, then the default feature; a name defined by several of them takes the
    definition of the first one listed."""
    order = [name for name in env.features if name != pm.DEFAULT_FEATURE]
    if pm.DEFAULT_FEATURE in env.features:
        order.append(pm.DEFAULT_FEATURE)
    result: dict[str, pm.Task] = {}
    for name in reversed(order):
        table = pm.feature(manifest, name)
        if any("tasks" in target for target in table.get("target", {}).values()):
            raise ValueError(f"feature {name!r} has platform-specific tasks: pixi resolves them per "
                             "platform, which this reader does not model")
        for task_name, spec in table.get("tasks", {}).items():
            result[task_name] = pm.as_task(task_name, name, spec)
    return result


def runnable(manifest: Mapping[str, Any], env: pm.Environment, machine: Machine) -> bool:
    """Whether ``machine`` can run ``env`` (pixi: crates/pixi_core/src/workspace/
    virtual_packages.rs, ``verify_current_platform_can_run_environment``, no lock file):
    one of the environment's platforms has the machine's subdir and asks for no CUDA driver
    newer than the machine's."""
    table = pm.workspace_platforms(manifest)
    for name in pm.platform_names(manifest, env):
        spec = table[name]
        if spec["platform"] != machine.subdir:
            continue
        cuda = spec.get("cuda")
        if cuda is None or (machine.cuda is not None and machine.cuda >= int(str(cuda).split(".")[0])):
            return True
    return False


def _same(a: pm.Task, b: pm.Task) -> bool:
    """pixi compares task references (``std::ptr::eq``): one definition, one feature."""
    return (a.name, a.origin) == (b.name, b.origin)


def find_task(manifest: Mapping[str, Any], name: str, machine: Machine, explicit: str | None = None,
              task_specific: str | None = None, depended_on_by: str | None = None) -> tuple[str, pm.Task]:
    """(environment, task) for ``name`` (pixi: TASK_ENVIRONMENT, ``SearchEnvironments::find_task``,
    with the disambiguation of crates/pixi_cli/src/run.rs, ``disambiguate_task_interactive``).

    ``explicit``: ``pixi run -e``; ``task_specific``: the ``environment`` of a ``depends-on``
    entry (an environment that does not exist is ignored, as pixi does: prefix-dev/pixi#4712).
    RunError("missing") when no environment searched has it, RunError("prompt") when pixi
    would ask the user to choose."""
    envs = pm.environments(manifest)
    tasks = {env_name: environment_tasks(manifest, env) for env_name, env in envs.items()}
    if task_specific not in envs:
        task_specific = None
    if explicit is None and task_specific is None and name in tasks["default"]:
        in_default = tasks["default"][name]
        preferred = in_default.spec.get("default-environment")
        if (preferred in envs and runnable(manifest, envs[preferred], machine)
                and name in tasks[preferred]):
            return preferred, tasks[preferred][name]
        disputed = [env_name for env_name, env in envs.items()
                    if env_name != "default" and runnable(manifest, env, machine)
                    and name in tasks[env_name] and not _same(tasks[env_name][name], in_default)]
        if not disputed:
            return "default", in_default
    searched = [task_specific] if task_specific else [explicit] if explicit else list(envs)
    found = [(env_name, tasks[env_name][name]) for env_name in searched if name in tasks[env_name]]
    if not found:
        raise RunError("missing", f"task {name!r} is in none of: {', '.join(searched)}")
    if len(found) == 1:
        return found[0]
    for env_name, task in found:
        if task.spec.get("default-environment") == env_name:
            return env_name, task
    by = f" (depended on by {depended_on_by!r})" if depended_on_by else ""
    raise RunError("prompt", f"task {name!r}{by} can run in {', '.join(e for e, _ in found)}: "
                             "pixi asks which (and fails where nobody can answer)")


def _render(text: str, values: Mapping[str, str]) -> str:
    """``{{ name }}`` of a task argument replaced by its value (MiniJinja, the subset used here)."""
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _arg_specs(task: pm.Task) -> list[dict[str, Any]]:
    return [{"arg": a} if isinstance(a, str) else dict(a) for a in task.spec.get("args", [])]


def _merge_args(task: pm.Task, given: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """The typed arguments' values (pixi: TASK_GRAPH, ``TaskGraph::merge_args``): positional
    values, then defaults; a missing value or one outside ``choices`` stops the run."""
    specs = _arg_specs(task)
    if not specs:
        return ()
    if len(given) > len(specs):
        raise RunError("arguments", f"{task.name}: {len(given)} arguments for {len(specs)} declared")
    values = []
    for i, spec in enumerate(specs):
        value = given[i] if i < len(given) else spec.get("default")
        if value is None:
            raise RunError("arguments", f"{task.name}: no value for argument {spec['arg']!r}")
        if "choices" in spec and value not in spec["choices"]:
            raise RunError("arguments", f"{task.name}: {spec['arg']}={value!r} is not one of {spec['choices']}")
        values.append((spec["arg"], value))
    return tuple(values)


def parse_options(command: str | Sequence[str]) -> tuple[str | None, bool, list[str]]:
    """(``-e`` environment or None, ``--skip-deps`` given, the words from the task on) of
    ``pixi run [OPTIONS] TASK [ARGS]`` (pixi: RUN_CLI, ``Args``: the options come before the
    task, every word from the task on is the task's; ``--frozen`` and ``--locked`` concern the
    lock file only and change nothing here). RunError("arguments") for another option."""
    words = command.split() if isinstance(command, str) else list(command)
    if words[:2] == ["pixi", "run"]:
        words = words[2:]
    explicit, skip_deps = None, False
    while words and words[0].startswith("-"):
        if words[0] in ("-e", "--environment") and len(words) > 1:
            explicit, words = words[1], words[2:]
        elif words[0] == "--skip-deps":
            skip_deps, words = True, words[1:]
        elif words[0] in ("--frozen", "--locked"):
            words = words[1:]
        else:
            raise RunError("arguments", f"pixi run option {words[0]!r} is not modelled here (pixi_run.py)")
    if not words:
        raise RunError("arguments", "pixi run names no task")
    return explicit, skip_deps, words


def run_graph(manifest: Mapping[str, Any], command: str | Sequence[str],
              machine: Machine = MACHINES[0]) -> tuple[list[Step], list[tuple[int, int, str | None]]]:
    """pixi's task graph for ``pixi run [-e ENV] [--skip-deps] TASK [ARGS]`` (pixi: TASK_GRAPH,
    ``TaskGraph::from_cmd_args`` and ``TaskGraph::from_root``): the nodes, root first, and
    the edges (needing node, needed node, the environment the depends-on entry names).

    ``-e`` stays in force for every dependency lookup (one ``SearchEnvironments`` serves the
    whole graph); a dependency's own ``environment`` overrides it; nodes are shared by
    (task, arguments, depends-on environment), not by the environment they resolve to. A name
    that no environment defines as a task runs as a command, in ``-e`` or `default`.
    ``--skip-deps`` (pixi: RUN_CLI, ``Args::skip_deps``, "Don't run the dependencies of the
    task", passed to ``from_cmd_args``, which then returns the task's node alone, with its
    arguments merged as usual and no dependencies, instead of calling ``from_root``) gives one
    node and no edges."""
    explicit, skip_deps, words = parse_options(command)
    if explicit is not None and explicit not in pm.environments(manifest):
        raise RunError("missing", f"no environment {explicit!r}")
    name, rest = words[0], words[1:]
    try:
        env_name, task = find_task(manifest, name, machine, explicit=explicit)
    except RunError as err:
        defined = [e for e, env in pm.environments(manifest).items()
                   if name in environment_tasks(manifest, env)]
        if err.kind != "missing" or defined:  # pixi: UnrunnableTaskError names them
            raise RunError(err.kind, f"{err} (defined in {', '.join(defined)})" if defined else str(err)) from None
        return [Step(name, explicit or "default", tuple(rest), command=True)], []
    typed_given = rest[:rest.index("--")] if "--" in rest else rest
    typed = _merge_args(task, typed_given) if _arg_specs(task) else ()
    if not typed and typed_given and _arg_specs(task):
        raise RunError("arguments", f"{name}: arguments {typed_given} for no declared argument")
    nodes: list[tuple[Step, pm.Task]] = [(Step(name, explicit or env_name, tuple(rest), typed), task)]
    if skip_deps:
        return [nodes[0][0]], []
    edges: list[tuple[int, int, str | None]] = []
    seen: dict[tuple[str, tuple[str, ...] | None, str | None], int] = {(name, tuple(rest), None): 0}
    i = 0
    while i < len(nodes):
        step, task = nodes[i]
        values = dict(step.typed)
        for dep_name, dep_env, dep_args in _dependencies(task):
            rendered = None if dep_args is None else tuple(_render(a, values) for a in dep_args)
            key = (dep_name, rendered, dep_env)
            if key not in seen:
                found_env, found = find_task(manifest, dep_name, machine, explicit=explicit,
                                             task_specific=dep_env, depended_on_by=step.task)
                seen[key] = len(nodes)
                nodes.append((Step(dep_name, found_env, rendered or (),
                                   _merge_args(found, rendered or ())), found))
            edges.append((i, seen[key], dep_env if dep_env in pm.environments(manifest) else None))
        i += 1
    return [step for step, _ in nodes], edges


def run(manifest: Mapping[str, Any], command: str | Sequence[str], machine: Machine = MACHINES[0]) -> list[Step]:
    """The steps of ``pixi run [-e ENV] [--skip-deps] TASK [ARGS]`` in the order pixi runs them (pixi:
    TASK_GRAPH, ``TaskGraph::topological_order``: depth first, dependencies in the order
    listed, each node once)."""
    steps, edges = run_graph(manifest, command, machine)
    order: list[int] = []

    def visit(n: int) -> None:
        if n in order:
            return
        for parent, child, _ in edges:
            if parent == n:
                visit(child)
        order.append(n)

    for n in range(len(steps)):
        visit(n)
    return [steps[n] for n in order]


def switch_from_argument(manifest: Mapping[str, Any], step: Step, variable: str,
                         option: str | None = None) -> bool:
    """Whether ``variable`` of ``step``'s command comes from one of its typed arguments, so
    that another value is another cache entry: the task's ``env`` sets it from ``{{ arg }}``
    (the arguments name the cache file), or its command passes ``{{ arg }}`` to ``option``
    (the rendered command is hashed)."""
    env = pm.environments(manifest)[step.environment]
    task = environment_tasks(manifest, env)[step.task]
    declared = {spec["arg"] for spec in _arg_specs(task)}

    def from_arg(text: str) -> bool:
        return any(name in declared for name in _VARIABLE.findall(text))

    if from_arg(str(task.spec.get("env", {}).get(variable, ""))):
        return True
    if option and task.cmd:
        match = re.search(re.escape(option) + r"""[= ]+(\{\{[^}]*\}\}|'[^']*'|"[^"]*"|\S+)""", task.cmd)
        return bool(match and from_arg(match.group(1)))
    return False


def _dependencies(task: pm.Task) -> list[tuple[str, str | None, tuple[str, ...] | None]]:
    deps = task.spec.get("depends-on", task.spec.get("depends_on", []))
    deps = [deps] if isinstance(deps, (str, Mapping)) else deps
    result = []
    for dep in deps:
        if isinstance(dep, str):
            result.append((dep, None, None))
        else:
            args = dep.get("args")
            if args is not None and any(not isinstance(a, str) for a in args):
                raise ValueError(f"{task.name}: named depends-on arguments are not modelled")
            result.append((dep["task"], dep.get("environment"), None if args is None else tuple(args)))
    return result


def cache_key(manifest: Mapping[str, Any], step: Step) -> dict[str, Any]:
    """What pixi's task cache keys and hashes for ``step`` (pixi: TASK_HASH,
    ``TaskHash::from_task``, ``TaskHash::task_args_hash``, ``ComputationHash``; and
    crates/pixi_task/src/executable_task.rs, ``ExecutableTask::cache_name`` and
    ``full_command``; crates/pixi_core/src/environment/mod.rs,
    ``EnvironmentHash::from_environment``). None of these include shell variables
    (the task hash passes an empty map of input variables) nor the task's ``env`` table
    (only the shell script gets it). ``cached`` is False when the task has neither inputs
    nor outputs: it always runs."""
    env = pm.environments(manifest)[step.environment]
    task = environment_tasks(manifest, env)[step.task]
    values = dict(step.typed)

    def render(text: str) -> str:
        return _render(re.sub(r"\{\{\s*pixi\.environment\.name\s*\}\}", step.environment, text), values)

    extra = step.args if not step.typed else tuple(step.args[step.args.index("--") + 1:]) if "--" in step.args else ()
    activation: dict[str, str] = {}
    for name in env.features:
        activation.update(pm.feature(manifest, name).get("activation", {}).get("env", {}))
    return {
        "cached": bool(task.spec.get("inputs") or task.spec.get("outputs")),
        "name": (step.environment, step.task, step.typed or step.args,
                 tuple(render(p) for p in task.spec.get("inputs", [])),
                 tuple(render(p) for p in task.spec.get("outputs", []))),
        "command": " ".join([render(task.cmd or ""), *extra]).strip(),
        "environment": {"activation-env": activation, "platforms": pm.platform_names(manifest, env)},
        "not hashed": {"task env": {k: render(v) for k, v in task.spec.get("env", {}).items()},
                       "shell variables": "all"},
    }
