"""The one reader of pixi.toml (what pixi would resolve; no pixi needed); `pixi` verb: describe().

Shared by the environment and docs generators (gen/), the CI matrix and the manifest
tests (recipe/variants.yaml is read by variants.py):
environments with their features, the packages and settings those features
merge into, the tasks each environment can run, and the depends-on graph.
"""
from __future__ import annotations

import dataclasses
import pathlib
import re
from collections.abc import Iterator, Mapping
from typing import Any

from .paths import MANIFEST
from .variants import version_key
DEFAULT_FEATURE = "default"  # pixi's name for the manifest's top-level tables
PYTHON_FEATURE = re.compile(r"^py(\d)(\d+)$")  # py312 -> python 3.12

TORCH_PACKAGES = ("pytorch", "pytorch-cpu", "pytorch-gpu")

__all__ = ["DEFAULT_FEATURE", "MANIFEST", "TORCH_PACKAGES", "Environment", "Task", "describe",
           "as_task", "environments", "feature", "find_cycle", "load_manifest", "load_toml", "merged", "newest", "platforms", "python_features", "reaches",
           "stack", "sync_file", "task_definitions", "task_graph", "tasks_in", "version_key",
           "platform_names", "virtual_packages", "workspace_platforms"]


@dataclasses.dataclass(frozen=True)
class Environment:
    """A pixi environment: its name, its features in priority order, its solve group."""

    name: str
    features: tuple[str, ...]
    solve_group: str | None = None


@dataclasses.dataclass(frozen=True)
class Task:
    """One definition of a task; ``origin`` is the feature that defines it."""

    name: str
    origin: str
    cmd: str | None
    depends_on: tuple[tuple[str, str | None], ...]  # (task, environment or None)
    spec: Mapping[str, Any]


def load_toml(path: pathlib.Path) -> dict[str, Any]:
    """A TOML file as a dict (tomllib, or tomli on Python 3.10, imported on first use)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    with open(path, "rb") as f:
        return tomllib.load(f)


def load_manifest(path: pathlib.Path = MANIFEST) -> dict[str, Any]:
    """pixi.toml as a dict."""
    return load_toml(path)


def newest(versions: list[str]) -> str:
    """The highest of dotted versions ('2.13', '2.14' -> '2.14')."""
    return max(versions, key=version_key)


def feature(manifest: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """The table of feature ``name``; the default feature is the manifest's top level."""
    if name == DEFAULT_FEATURE:
        return manifest
    try:
        return manifest.get("feature", {})[name]
    except KeyError:
        raise KeyError(f"pixi.toml has no [feature.{name}]") from None


def environments(manifest: Mapping[str, Any]) -> dict[str, Environment]:
    """Every environment, the implicit `default` included, with the default feature prepended
    unless the environment sets ``no-default-feature``."""
    table = dict(manifest.get("environments", {}))
    table.setdefault("default", [])
    result = {}
    for name, spec in table.items():
        if isinstance(spec, list):
            spec = {"features": spec}
        features = tuple(spec.get("features", []))
        if not spec.get("no-default-feature", False):
            features = (DEFAULT_FEATURE, *features)
        result[name] = Environment(name, features, spec.get("solve-group"))
    return result


def merged(manifest: Mapping[str, Any], env: Environment, key: str) -> dict[str, Any]:
    """Union of table ``key`` (e.g. "dependencies") over the environment's features.

    A package listed by two features with different specs raises ValueError: pixi would
    combine them, but a generated file should never have to guess which one is meant.
    """
    result: dict[str, Any] = {}
    for name in env.features:
        for item, value in feature(manifest, name).get(key, {}).items():
            if item in result and result[item] != value:
                raise ValueError(f"environment {env.name}: {key} {item!r} is {result[item]!r} "
                                 f"in one feature and {value!r} in {name!r}")
            result[item] = value
    return result


def workspace_platforms(manifest: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{name: {"platform": subdir, virtual package keys ...}} for [workspace] platforms:
    "linux-64" -> {"linux-64": {"platform": "linux-64"}}; a table keeps its virtual packages
    ({ name = "linux-64-cuda13", platform = "linux-64", cuda = "13" })."""
    result = {}
    for entry in manifest["workspace"]["platforms"]:
        if isinstance(entry, str):
            result[entry] = {"platform": entry}
        else:
            entry = dict(entry)
            name = entry.pop("name", None) or entry["platform"]
            entry.setdefault("platform", name)
            result[name] = entry
    return result


def platform_names(manifest: Mapping[str, Any], env: Environment) -> list[str]:
    """The workspace platform names ``env`` is solved for, by pixi's rule (PIXI_SOURCE,
    crates/pixi_manifest/src/features_ext.rs, ``FeaturesExt::platforms``, the path for named
    platforms): a workspace platform is kept when every feature of ``env`` supports it
    (``Feature::supports_platform`` -> ``PixiPlatform::matches_reference``: a feature's
    ``platforms`` entry matches a platform by its name *or by its bare subdir*, so "linux-64"
    admits "linux-64-cuda13"), and then only if some feature names it exactly or no feature
    names any platform of its subdir exactly (prefix-dev/pixi#6493). A feature without
    ``platforms`` supports every platform; the default feature has none."""
    table = workspace_platforms(manifest)
    if all(isinstance(p, str) for p in manifest["workspace"]["platforms"]):
        raise ValueError("pixi.toml declares only bare subdirs: pixi then composes platforms "
                         "(use_platform_composition), a rule this reader does not model")
    lists = [feature(manifest, name).get("platforms") for name in env.features
             if name != DEFAULT_FEATURE]
    lists = [own for own in lists if own is not None]

    def supports(own: list[str], name: str) -> bool:
        return name in own or table[name]["platform"] in own

    exact = {name for own in lists for name in own}
    exact_subdirs = {spec["platform"] for name, spec in table.items() if name in exact}
    return [name for name in table
            if all(supports(own, name) for own in lists)
            and (name in exact or table[name]["platform"] not in exact_subdirs)]


def platforms(manifest: Mapping[str, Any], env: Environment) -> list[str]:
    """The conda subdirs ``env`` is solved for (its workspace platforms' `platform`)."""
    table = workspace_platforms(manifest)
    return list(dict.fromkeys(table[name]["platform"] for name in platform_names(manifest, env)))


def virtual_packages(manifest: Mapping[str, Any], env: Environment) -> dict[str, Any]:
    """The virtual packages (e.g. {"cuda": "13"}) that every platform of ``env`` declares."""
    table = workspace_platforms(manifest)
    declared = [{k: v for k, v in table[name].items() if k != "platform"}
                for name in platform_names(manifest, env)]
    if not declared:
        return {}
    return {k: v for k, v in declared[0].items() if all(d.get(k) == v for d in declared)}


def _pinned(spec: Any) -> str | None:
    """'3.12.*' -> '3.12'; None for an unpinned '*' (or no spec)."""
    version = spec.get("version", "*") if isinstance(spec, Mapping) else (spec or "*")
    return None if version == "*" else version.removesuffix(".*")


def stack(manifest: Mapping[str, Any], env: Environment) -> dict[str, str | None]:
    """What ``env`` pins: {"python": "3.12", "pytorch": "2.14", "cuda": "13.0" or None}."""
    deps = merged(manifest, env, "dependencies")
    torch = [_pinned(deps[name]) for name in TORCH_PACKAGES if name in deps]
    return {"python": _pinned(deps.get("python")),
            "pytorch": torch[0] if torch else None,
            "cuda": _pinned(deps.get("cuda-version"))}


def python_features(manifest: Mapping[str, Any]) -> dict[str, str]:
    """{feature name: python version} for the pyXY features ('py312' -> '3.12')."""
    found = {}
    for name, table in manifest.get("feature", {}).items():
        match = PYTHON_FEATURE.match(name)
        if match:
            found[name] = _pinned(table.get("dependencies", {}).get("python"))
    return found


def _task_tables(manifest: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(feature name, tasks table) for every place tasks can be written, targets included."""
    owners = [(DEFAULT_FEATURE, manifest)] + list(manifest.get("feature", {}).items())
    for owner, table in owners:
        yield owner, table.get("tasks", {})
        for target in table.get("target", {}).values():
            yield owner, target.get("tasks", {})


def as_task(name: str, origin: str, spec: Any) -> Task:
    """A task in any of pixi's spellings (string, alias list, table) as a Task."""
    if isinstance(spec, str):
        spec = {"cmd": spec}
    elif isinstance(spec, list):
        spec = {"depends-on": spec}
    deps = spec.get("depends-on", spec.get("depends_on", []))
    if not isinstance(deps, list):
        deps = [deps]
    edges = tuple((d, None) if isinstance(d, str) else (d["task"], d.get("environment"))
                  for d in deps)
    cmd = spec.get("cmd")
    if isinstance(cmd, list):
        cmd = " ".join(cmd)
    return Task(name, origin, cmd, edges, spec)


def task_definitions(manifest: Mapping[str, Any]) -> list[Task]:
    """Every task definition in the manifest (a name may be defined in several places)."""
    return [as_task(name, origin, spec)
            for origin, table in _task_tables(manifest) for name, spec in table.items()]


def tasks_in(manifest: Mapping[str, Any], env: Environment) -> dict[str, Task]:
    """The tasks ``env`` can run: those its features define (by name; for a name defined twice,
    e.g. once more for a target platform, the definition read last)."""
    return {task.name: task for task in task_definitions(manifest) if task.origin in env.features}


def task_graph(manifest: Mapping[str, Any]) -> dict[str, set[str]]:
    """task -> the tasks it depends on, over all definitions (environments ignored)."""
    graph: dict[str, set[str]] = {}
    for task in task_definitions(manifest):
        graph.setdefault(task.name, set()).update(dep for dep, _ in task.depends_on)
    return graph


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """A list of tasks forming a depends-on cycle (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state:
                cycle = visit(dep, path + [dep])
                if cycle:
                    return cycle
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start, [start])
            if cycle:
                return cycle
    return None


def reaches(graph: Mapping[str, set[str]], start: str, goal: str) -> bool:
    """Whether running ``start`` runs ``goal`` first (directly or transitively)."""
    seen, todo = set(), list(graph.get(start, ()))
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return False


def sync_file(path: pathlib.Path, text: str, check: bool) -> str | None:
    """Write ``text`` to ``path`` unless it already holds it (with ``check``, never write).

    Returns None when in sync, else what was (or would be) done."""
    if path.is_file() and path.read_text() == text:
        return None
    change = f"{'differs' if path.is_file() else 'missing'}: {path}"
    if not check:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return change


def describe(manifest: Mapping[str, Any]) -> str:
    """The environments (features, platforms, solve group) and the task graph, as text."""
    lines = ["environments:"]
    for env in environments(manifest).values():
        group = f"  [solve-group {env.solve_group}]" if env.solve_group else ""
        lines.append(f"  {env.name:13} {' + '.join(env.features):52} "
                     f"{', '.join(platforms(manifest, env))}{group}")
    lines.append("tasks (-> depends on):")
    for task in task_definitions(manifest):
        deps = ", ".join(f"{d}@{e}" if e else d for d, e in task.depends_on)
        where = "" if task.origin == DEFAULT_FEATURE else f" [feature {task.origin}]"
        lines.append(f"  {task.name:17} -> {deps or '-':28} {task.cmd or ''}{where}")
    return "\n".join(lines)
