"""Static import closure of a pixi task: the third-party modules its script/module can import.

Follows ``import`` statements with :mod:`ast` (every one in a file, function bodies
included: a task may take any path) through the repo's own modules (python/torchrig,
python/torchrig_release, build_tools, tests/ with tests/support and tests/unit/helpers);
what is neither the repo's nor the standard library is third-party. An import in a
``try:`` whose ``except ImportError`` imports another module (``tomllib`` / ``tomli``) is
one requirement satisfied by any of them; one whose handler imports nothing (``return
False``, ``pass``) marks the module optional in that file, every import of it there included. Stdlib membership is per Python version
(:data:`STDLIB_CHANGES`): ``tomllib`` is not stdlib on 3.10.

Names map to the conda (or PyPI, for pypi-dependencies) packages that provide them with
:data:`PROVIDERS` (``elftools`` -> ``pyelftools``, ``yaml`` -> ``pyyaml``, ...).
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import pathlib
import shlex
import sys

from torchrig_release.pixi import load_toml

__all__ = ["PROVIDERS", "STDLIB_CHANGES", "Requirement", "closure", "console_scripts", "is_stdlib",
           "providers", "repo_module_file", "task_entry_files"]

# import name -> packages (conda or PyPI name) any of which provides it; a name not listed
# is provided by the package of the same name (underscores as dashes).
PROVIDERS: dict[str, tuple[str, ...]] = {
    "elftools": ("pyelftools",),
    "yaml": ("pyyaml",),
    "rattler": ("py-rattler",),
    "rattler_build": ("py-rattler-build",),
    "PIL": ("pillow",),
    "matplotlib": ("matplotlib-base", "matplotlib"),
    "mpl_toolkits": ("matplotlib-base", "matplotlib"),
    "torch": ("pytorch-cpu", "pytorch-gpu", "pytorch"),
    "torchgen": ("pytorch-cpu", "pytorch-gpu", "pytorch"),
    "_pytest": ("pytest",),
    "pluggy": ("pytest",),
    "scikit_build_core": ("scikit-build-core",),
    "conda_package_handling": ("conda-package-handling",),
    "jsonschema": ("jsonschema",),
    "cxxfilt": ("cxxfilt",),
    "skbuild": ("scikit-build",),
}

# Modules whose presence in the standard library depends on the Python version:
# name -> (first version that has it, first version that no longer has it).
# tests/packaging/test_task_imports.py checks this against every interpreter it finds.
STDLIB_CHANGES: dict[str, tuple[tuple[int, int] | None, tuple[int, int] | None]] = {
    "tomllib": ((3, 11), None),
    "annotationlib": ((3, 14), None),
    "compression": ((3, 14), None),
    "distutils": (None, (3, 12)),
    "imp": (None, (3, 12)),
    "asynchat": (None, (3, 12)),
    "asyncore": (None, (3, 12)),
    "smtpd": (None, (3, 12)),
    **{name: (None, (3, 13)) for name in (
        "aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "lib2to3", "mailcap",
        "msilib", "nis", "nntplib", "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau",
        "telnetlib", "uu", "xdrlib")},
}

IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError"}


def is_stdlib(name: str, python: tuple[int, int]) -> bool:
    """Whether top-level module ``name`` is in the standard library of Python ``python``."""
    if name in STDLIB_CHANGES:
        added, removed = STDLIB_CHANGES[name]
        return (added is None or python >= added) and (removed is None or python < removed)
    return name in sys.stdlib_module_names or name == "__future__"


def providers(name: str) -> tuple[str, ...]:
    """The packages that provide top-level import ``name`` ('elftools' -> ('pyelftools',))."""
    return PROVIDERS.get(name, (name.replace("_", "-").lower(),))


@dataclasses.dataclass(frozen=True)
class Requirement:
    """One import requirement: any of ``names`` (top-level modules), seen first in ``where``."""

    names: tuple[str, ...]
    where: str


def _package_roots(repo: pathlib.Path) -> list[pathlib.Path]:
    """Folders whose modules are the repo's own (import roots)."""
    return [repo / "python", repo / "build_tools", repo / "tests", repo / "tests" / "unit"]


def repo_module_file(repo: pathlib.Path, dotted: str) -> pathlib.Path | None:
    """The .py file of repo module ``dotted`` ('torchrig_release.pixi'), or None."""
    parts = dotted.split(".")
    for root in _package_roots(repo):
        base = root.joinpath(*parts)
        for candidate in (base / "__init__.py", base.with_suffix(".py")):
            if candidate.is_file():
                return candidate
    return None


def _is_repo_top(repo: pathlib.Path, top: str) -> bool:
    return any((root / top / "__init__.py").is_file() or (root / f"{top}.py").is_file()
               for root in _package_roots(repo))


def _module_name(repo: pathlib.Path, path: pathlib.Path) -> str:
    """Dotted name of a repo file, relative to the import root it lives under."""
    for root in sorted(_package_roots(repo), key=lambda r: -len(r.parts)):
        if path.is_relative_to(root):
            rel = path.relative_to(root).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            return ".".join(parts)
    return path.stem


def _absolute(module: str | None, level: int, current: str, is_package: bool) -> str:
    """The absolute name of ``from <level dots><module> import ...`` inside ``current``."""
    if level == 0:
        return module or ""
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[:len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, module] if module else base)


OTHER_INTERPRETER = "import-closure: other interpreter"  # marks a def run by another Python


def _nodes(tree: ast.AST, lines: list[str]):
    """(node, at module level) for every node, skipping the bodies of functions whose
    ``def`` line carries :data:`OTHER_INTERPRETER` (code run by another venv's Python)."""
    todo = [(tree, True)]
    while todo:
        node, top = todo.pop()
        yield node, top
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if OTHER_INTERPRETER in lines[node.lineno - 1]:
                continue
            top = False
        todo.extend((child, top) for child in ast.iter_child_nodes(node))


def _imports(tree: ast.AST, current: str, is_package: bool,
             lines: list[str]) -> list[tuple[tuple[str, ...], bool]]:
    """Every import in ``tree`` as (group of alternative dotted names, at module level);
    a try/except ImportError pair of imports is one group. ``from a import b`` yields 'a.b'
    and 'a'."""
    groups: list[tuple[tuple[str, ...], bool]] = []
    grouped: set[int] = set()
    optional: set[str] = set()
    nodes = list(_nodes(tree, lines))

    def names(node: ast.AST) -> list[str]:
        if isinstance(node, ast.Import):
            return [alias.name for alias in node.names]
        if isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, current, is_package)
            return [f"{base}.{alias.name}" if base else alias.name for alias in node.names] + [base]
        return []

    for node, top in nodes:
        if not isinstance(node, ast.Try):
            continue
        catches = [h for h in node.handlers if h.type is not None and any(
            isinstance(t, ast.Name) and t.id in IMPORT_ERRORS
            for t in (h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]))]
        if not catches:
            continue
        first = [n for n in node.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        fallback = [n for h in catches for n in h.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        if len(first) == 1 and fallback:
            alternatives = tuple(dict.fromkeys(n for imp in (first[0], *fallback) for n in names(imp)[:1]))
            groups.append((alternatives, top))
            grouped.update(id(n) for n in (first[0], *fallback))
        elif first and not fallback:
            # `try: import x / except ImportError: return False`: the file treats x as an
            # optional dependency (its other uses sit behind that check)
            optional.update(name.split(".")[0] for imp in first for name in names(imp)[:1])
    for node, top in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in grouped:
            groups.extend(((name,), top) for name in names(node) if name)
    return [(group, top) for group, top in groups
            if not all(name.split(".")[0] in optional for name in group)]


@functools.lru_cache(maxsize=None)
def _file_imports(repo: pathlib.Path, path: pathlib.Path) -> list[tuple[tuple[str, ...], bool]]:
    text = path.read_text()
    tree = ast.parse(text, filename=str(path))
    return _imports(tree, _module_name(repo, path), path.name == "__init__.py", text.splitlines())


def closure(repo: pathlib.Path, entries: list[pathlib.Path], python: tuple[int, int],
            loaded: list[pathlib.Path] = ()) -> list[Requirement]:
    """Third-party requirements reachable from ``entries`` (repo .py files) on ``python``.

    From ``entries`` every import is followed, those inside functions included (the task
    may call any of them), and so on through the repo modules they reach. ``loaded`` are
    files only imported (a dispatcher's other verbs): only their module-level imports
    count, and only those of the modules these reach, unless an entry reaches them too.
    """
    full: set[pathlib.Path] = set()
    shallow: set[pathlib.Path] = set()
    todo = [(path, True) for path in entries] + [(path, False) for path in loaded]
    found: dict[tuple[str, ...], str] = {}
    while todo:
        path, deep = todo.pop()
        if path in full or (not deep and path in shallow):
            continue
        (full if deep else shallow).add(path)
        for group, top in _file_imports(repo, path):
            if not (deep or top):
                continue
            outside: list[str] = []
            for dotted in group:
                top_name = dotted.split(".")[0]
                if _is_repo_top(repo, top_name):
                    # the module itself, or for `from pkg import name` the package's file
                    target = repo_module_file(repo, dotted) or repo_module_file(
                        repo, dotted.rpartition(".")[0] or dotted)
                    if target is not None:
                        todo.append((target, deep))
                    outside = []  # a repo module satisfies the group
                    break
                if is_stdlib(top_name, python):
                    outside = []
                    break
                outside.append(top_name)
            if outside:
                found.setdefault(tuple(dict.fromkeys(outside)), str(path.relative_to(repo)))
    return [Requirement(names, where) for names, where in sorted(found.items())]


def console_scripts(repo: pathlib.Path) -> dict[str, str]:
    """{console script: the package it runs} of the repo's own distributions besides torchrig
    (python/pyproject.toml's [project.scripts]: ``torchrig-release`` -> ``torchrig_release``)."""
    pyproject = repo / "python" / "pyproject.toml"
    scripts = load_toml(pyproject).get("project", {}).get("scripts", {}) if pyproject.is_file() else {}
    return {name: target.split(":")[0].split(".")[0] for name, target in scripts.items()}


def task_entry_files(repo: pathlib.Path, cmd: str,
                     cwd: str = ".") -> tuple[list[pathlib.Path], list[str], list[pathlib.Path]]:
    """(repo .py files a `python ...` task runs, third-party modules it runs, repo files it
    only imports).

    ``python x.py args`` -> x.py; ``python -m repo_pkg`` -> its __main__.py; ``python -m
    repo_pkg verb`` with a ``repo_pkg/main_verb.py`` (a dispatcher, one module per verb)
    -> main_verb.py, and __main__.py only imported (it loads every verb to build its
    parser); ``python -m other`` -> the module ``other`` itself; every argument naming a
    repo .py file or folder adds its .py files (``pytest tests`` collects tests/). A console
    script of the repo's (:func:`console_scripts`: ``torchrig-release verb``) counts as
    ``python -m`` its package.
    """
    words = shlex.split(cmd)
    scripts = console_scripts(repo)
    if words and words[0] in scripts:
        words = ["python", "-m", scripts[words[0]], *words[1:]]
    base = repo / cwd
    files: list[pathlib.Path] = []
    loaded: list[pathlib.Path] = []
    modules: list[str] = []
    rest = words[1:]
    if rest[:1] == ["-m"]:
        module, rest = rest[1], rest[2:]
        target = repo_module_file(repo, module)
        if target is not None:
            main = target.parent / "__main__.py" if target.name == "__init__.py" else target
            main = main if main.is_file() else target
            verb = target.parent / f"main_{rest[0].replace('-', '_')}.py" if rest else None
            if target.name == "__init__.py" and verb is not None and verb.is_file():
                files.append(verb)
                loaded.append(main)
                rest = rest[1:]
            else:
                files.append(main)
        else:
            modules.append(module.split(".")[0])
    elif rest:
        files.append(base / rest[0])
        rest = rest[1:]
    for word in rest:
        path = base / word
        if word.startswith("-") or "$" in word or not path.exists() or path.resolve() == repo.resolve():
            continue  # `pip install .` names the project, not code it runs
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.py") if not any(
                part.startswith(".") or part in ("__pycache__", "build") for part in p.relative_to(repo).parts)))
        elif path.suffix == ".py":
            files.append(path)
    return files, modules, loaded
