"""The release tooling's layout (python/torchrig_release), read with :mod:`ast`:

* verbs on top: only ``main.py`` (the parser) imports a ``main_<verb>`` module; a helper that
  imports a verb, or a verb that imports another, hides shared logic in a verb;
* one home for errors: every exception class is defined in ``errors.py``;
* helpers return data: only the verbs (``main*.py``) call ``print``;
* pairs named alike: the helper of ``main_X.py`` is ``X.py`` or the package ``X/`` where the
  verb has a helper of its own (``main_test_gpu.py`` -> ``test_gpu.py``).
"""
from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

from torchrig_release.paths import REPO
from torchrig_release.pixi import load_toml

PACKAGE = REPO / "python" / "torchrig_release"
EXCEPTION_BASES = {"Exception", "BaseException"}


def imported_modules(tree: ast.AST, rel: pathlib.Path) -> list[str]:
    """Every module an import statement of ``tree`` names, as a dotted name relative to the
    package; ``rel``: the module's path in it (``from . import main_x`` -> ``main_x``;
    ``from ..abi.check import x`` in wheel/ -> ``abi.check``)."""
    here = rel.parent.parts
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name.removeprefix("torchrig_release.") for a in node.names
                      if a.name.startswith("torchrig_release.")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(here[:len(here) - (node.level - 1)] if node.level > 1 else here)
                parts = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "torchrig_release":
                parts = node.module.split(".")[1:]
            else:
                continue
            names.append(".".join(parts))
            names += [".".join([*parts, a.name]) for a in node.names]  # `from . import main_x`
    return names


def layout_problems(root: pathlib.Path = PACKAGE) -> list[str]:
    problems = []
    for path in sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts):
        rel = path.relative_to(root)
        tree = ast.parse(path.read_text(), str(path))
        verb_layer = path.parent == root and (path.name == "main.py" or path.name.startswith("main_"))
        if rel.as_posix() != "main.py":
            for name in imported_modules(tree, rel):
                if name.split(".")[-1].startswith("main_") and name.count(".") == 0:
                    problems.append(f"{rel}: imports the verb module {name} (only main.py may; "
                                    "move the shared logic to a helper)")
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and rel.as_posix() != "errors.py":
                bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
                if bases & EXCEPTION_BASES or any(b.endswith(("Error", "Exception")) for b in bases):
                    problems.append(f"{rel}:{node.lineno}: defines the exception {node.name} "
                                    "(define it in errors.py)")
            if (not verb_layer and isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "print"):
                problems.append(f"{rel}:{node.lineno}: print() in a helper (return the text; "
                                "the verb prints it)")
    return sorted(set(problems))


def test_verbs_on_top_errors_in_one_module_and_no_print_in_helpers():
    problems = layout_problems()
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("verb, helper", [("test_gpu", "test_gpu.py"), ("venv", "venv.py"),
                                          ("sanitize", "sanitize.py"), ("pixi", "pixi.py"),
                                          ("ci_matrix", "ci_matrix.py"), ("gen", "gen")])
def test_a_verb_and_its_own_helper_are_named_alike(verb, helper):
    assert (PACKAGE / f"main_{verb}.py").is_file() and (PACKAGE / helper).exists()


def test_the_rules_catch_what_they_are_for(tmp_path):
    pkg = tmp_path / "torchrig_release"
    (pkg / "wheel").mkdir(parents=True)
    (pkg / "main_check.py").write_text("def run_checks():\n    print('x')\n")
    (pkg / "main_publish.py").write_text("from .main_check import run_checks\n")  # verb -> verb
    (pkg / "main.py").write_text("from . import main_check, main_publish\n")  # the parser: allowed
    (pkg / "wheel" / "check.py").write_text(
        "from ..main_check import run_checks\nfrom .. import main_check\n"
        "class WheelError(RuntimeError):\n    pass\n"
        "def f():\n    print('no')\n")
    (pkg / "errors.py").write_text("class ReleaseError(Exception):\n    pass\n")
    problems = layout_problems(pkg)
    assert [p.split(":")[0] for p in problems] == ["main_publish.py"] + ["wheel/check.py"] * 3, problems
    assert any("main_check" in p for p in problems) and any("WheelError" in p for p in problems)
    assert any("print()" in p for p in problems)


# ---- the distribution: python/pyproject.toml, one console script ------------------------------
def test_the_console_script_runs_the_same_command_line_as_the_module():
    """`torchrig-release` (installed beside this interpreter by tools/dev-setup, editable)."""
    script = pathlib.Path(sys.executable).parent / "torchrig-release"
    if not script.is_file():
        pytest.skip(f"torchrig-release is not installed beside {sys.executable} (tools/dev-setup)")
    by_script = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    by_module = subprocess.run([sys.executable, "-m", "torchrig_release", "--help"],
                               capture_output=True, text=True, timeout=120)
    assert by_script.returncode == by_module.returncode == 0, by_script.stderr + by_module.stderr
    assert by_script.stdout.startswith("usage: torchrig-release ")
    assert by_module.stdout.startswith("usage: python -m torchrig_release ")
    assert by_script.stdout.split("\n", 1)[1] == by_module.stdout.split("\n", 1)[1]


def test_the_release_tool_is_its_own_distribution_and_never_in_the_torchrig_wheel():
    release = load_toml(REPO / "python" / "pyproject.toml")
    assert release["project"]["scripts"] == {"torchrig-release": "torchrig_release.main:main"}
    assert release["tool"]["setuptools"]["packages"]["find"]["include"] == [
        "torchrig_release", "torchrig_release.*"]
    assert "package-dir" not in release["tool"]["setuptools"]  # editable: an import hook, not python/ on sys.path
    torchrig = load_toml(REPO / "pyproject.toml")
    assert torchrig["tool"]["scikit-build"]["wheel"]["packages"] == ["python/torchrig"]
