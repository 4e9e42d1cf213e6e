"""Every pixi environment holds what its tasks import (static import closure, tests/support/import_closure.py).

For each environment and each task it offers, the third-party modules reachable from the
script or module the task runs (tests/ for `test`) must be provided by the environment's
dependencies or pypi-dependencies, on that environment's Python (tomllib is stdlib from
3.11 only). A task that builds torchrig (`build`, `build-wheel`, `test-gpu --build`: pip
install/wheel --no-build-isolation) also needs pyproject.toml's [build-system] requires.
"""
from __future__ import annotations

import copy
import functools
import os
import pathlib
import shlex
import subprocess

import pytest

from support import import_closure as ic
from torchrig_release import build_requirements
from torchrig_release import pixi as pm
from torchrig_release.paths import REPO
from support.timeouts import COMMAND_S

MANIFEST = pm.load_manifest()
CONDA_NAMES = {"torch": ("pytorch-cpu", "pytorch-gpu", "pytorch")}


def _provided(manifest, env) -> set[str]:
    return {name.lower() for key in ("dependencies", "pypi-dependencies")
            for name in pm.merged(manifest, env, key)} | {"python"}


def _builds_torchrig(cmd: str, files: list[pathlib.Path], modules: list[str]) -> bool:
    """pip builds torchrig: `pip install` itself, or a verb that runs it (`build`, `build-wheel`,
    `test-gpu --build`: torchrig_release/install.py and wheel/build.py)."""
    names = {f.name for f in files}
    return ((modules == ["pip"] and " install " in cmd) or bool(names & {"main_build.py", "main_build_wheel.py"})
            or ("main_test_gpu.py" in names and "--build" in shlex.split(cmd)))


@functools.lru_cache(maxsize=None)
def task_needs(cmd: str, cwd: str, python: tuple[int, int]) -> tuple[ic.Requirement, ...]:
    """What a task command needs on ``python``: the modules it runs, its static import closure,
    and for `pip install` (the build task) the build backend's requirements."""
    files, modules, loaded = ic.task_entry_files(REPO, cmd, cwd)
    needs = [ic.Requirement((m,), f"the command `{cmd}`") for m in modules]
    needs += ic.closure(REPO, files, python, loaded)
    if _builds_torchrig(cmd, files, modules):  # the backend's needs
        needs += [ic.Requirement((name,), "pyproject.toml [build-system]")
                  for name in [*build_requirements.names(), "torch"]]
        needs += ic.closure(REPO, sorted((REPO / "build_tools").glob("*.py")), python)
    return tuple(needs)


def missing_imports(manifest) -> list[str]:
    """'<env>: task <task> imports <module> (<file>): add <package> to a feature' for each gap."""
    problems = []
    for env in pm.environments(manifest).values():
        python = tuple(int(p) for p in pm.stack(manifest, env)["python"].split("."))
        have = _provided(manifest, env)
        for task in pm.tasks_in(manifest, env).values():
            if not task.cmd:
                continue
            for need in task_needs(task.cmd, task.spec.get("cwd", "."), python):
                options = [pkg for name in need.names if name not in ic.STDLIB_CHANGES
                           for pkg in CONDA_NAMES.get(name, ic.providers(name))]
                if not have & set(options):
                    problems.append(f"{env.name}: task {task.name} imports {' or '.join(need.names)}"
                                    f" ({need.where}): add {' or '.join(options)} to one of its"
                                    f" features ({', '.join(env.features)})")
    return sorted(set(problems))


def test_every_environment_holds_what_its_tasks_import():
    problems = missing_imports(MANIFEST)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("feature, package, module", [
    ("test", "pyelftools", "elftools"), ("test", "py-rattler", "rattler"),
    ("test", "pillow", "PIL"), ("test", "tomli", "tomli"), ("build", "pybind11", "pybind11")])
def test_removing_a_dependency_is_caught(feature, package, module):
    broken = copy.deepcopy(MANIFEST)
    table = broken["feature"][feature]
    for key in ("dependencies", "pypi-dependencies"):
        table.get(key, {}).pop(package, None)
    problems = missing_imports(broken)
    assert any(f"imports {module}" in p or f"or {module}" in p for p in problems), problems


def test_tomllib_needs_tomli_on_310_only():
    code = REPO / "python" / "torchrig_release" / "pixi.py"  # try: import tomllib / except: tomli
    assert ic.Requirement(("tomllib", "tomli"), str(code.relative_to(REPO))) in ic.closure(REPO, [code], (3, 10))
    assert not [r for r in ic.closure(REPO, [code], (3, 11)) if "tomli" in r.names]


def test_a_guarded_optional_import_is_not_required_but_a_plain_one_is(tmp_path):
    """bench/vs_pymomentum.py checks `import pymomentum` under `except ImportError: return False`
    and imports it again inside functions behind that check: optional in that file only."""
    bench = REPO / "python" / "torchrig" / "bench" / "vs_pymomentum.py"
    assert not [r for r in ic.closure(REPO, [bench], (3, 12)) if "pymomentum" in r.names]
    plain = tmp_path / "plain.py"
    plain.write_text("def run():\n    import pymomentum.geometry\n")
    assert ic.Requirement(("pymomentum",), str(plain)) in [
        ic.Requirement(r.names, str(tmp_path / r.where)) for r in ic.closure(tmp_path, [plain], (3, 12))]


@pytest.mark.parametrize("cmd", ["torchrig-release abi-check x", "python -m torchrig_release abi-check x"])
def test_closure_follows_the_repos_own_modules(cmd):
    """`torchrig-release abi-check` (the console script of python/pyproject.toml, as `python -m
    torchrig_release`) reaches elftools through the abi subpackage."""
    release = REPO / "python" / "torchrig_release"
    files, modules, loaded = ic.task_entry_files(REPO, cmd)
    assert (files, modules, loaded) == ([release / "main_abi_check.py"], [], [release / "__main__.py"])
    names = {n for r in ic.closure(REPO, files, (3, 12), loaded) for n in r.names}
    assert {"elftools", "conda_package_handling"} <= names and "torchrig_release" not in names


def test_other_verbs_count_only_for_what_they_import_at_load_time():
    """`render` loads main_test_gpu (for the parser) but never runs test_gpu.py's `import torch`;
    `test-gpu` does."""
    def names(cmd):
        files, _, loaded = ic.task_entry_files(REPO, cmd)
        return {n for r in ic.closure(REPO, files, (3, 12), loaded) for n in r.names}
    assert "torch" not in names("torchrig-release render")
    assert "torch" in names("torchrig-release test-gpu")


def _interpreters() -> list[pathlib.Path]:
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=COMMAND_S).stdout.strip() \
        if os.environ.get("PATH") else ""
    found = sorted(pathlib.Path(root or "/nonexistent").glob("versions/3.1[0-9]*/bin/python3"))
    return found


@pytest.mark.parametrize("python", _interpreters() or [None], ids=lambda p: p and p.parent.parent.name)
def test_stdlib_changes_table_matches_the_interpreters(python):
    """STDLIB_CHANGES against each interpreter's own sys.stdlib_module_names."""
    if python is None:
        pytest.skip("no pyenv interpreters on this machine")
    out = subprocess.run([str(python), "-c", "import sys; print(sys.version_info[:2]);"
                          "print(' '.join(sorted(sys.stdlib_module_names)))"],
                         capture_output=True, text=True, check=True, timeout=COMMAND_S).stdout.splitlines()
    version = tuple(int(p) for p in out[0].strip("()").split(", "))
    theirs = set(out[1].split())
    wrong = [name for name in ic.STDLIB_CHANGES
             if ic.is_stdlib(name, version) != (name in theirs)]
    assert wrong == [], f"Python {version}: STDLIB_CHANGES is wrong for {wrong}"
