"""Every test, tool or doc path that the tree names exists: after the tests moved into
tests/unit, tests/packaging and tests/support, a dozen comments and docs still named
tests/test_*.py (fixed 2026-12-06); this keeps them from coming back.

Three kinds of name are checked: repository paths (``tests/unit/test_ops.py``,
``requirements/dev.txt``); paths inside the Python packages, which live under python/
(``torchrig/bench/gpu.py``); and module names (``python -m torchrig.bench``,
``:mod:`torchrig.bench.gpu```, ``from torchrig.procedural import``), which went stale
when the benchmark modules moved into the torchrig.bench package."""
from __future__ import annotations

import pathlib
import re
import subprocess

from torchrig_release.paths import REPO
from support.timeouts import COMMAND_S

NAMED = re.compile(r"(?<![\w./-])((?:tests|python|tools|docs|csrc|recipe|environments|build_tools"
                   r"|requirements|cmake|\.github)"
                   r"/[\w./-]*\w\.(?:py|md|cu|cuh|cpp|h|yaml|yml|sh|txt|cmake))\b")
# a file of a package, named from the package down (python/ left out): torchrig/bench/gpu.py
IN_PACKAGE = re.compile(r"(?<![\w./-])((?:torchrig|torchrig_release)/[\w./-]*\w\.py)\b")
# a module, where only a module can stand: `python -m M`, :mod:`M`, `from M import`, `import M`
MODULE = re.compile(r"(?:\bpython[\d.]* -m |:mod:`~?|\bfrom |\bimport )"
                    r"(torchrig(?:_release)?(?:\.\w+)*)")
BUILT = {"_C"}  # modules the build makes (the compiled extension), not in the tree
TEXT = (".py", ".md", ".txt", ".toml", ".yml", ".yaml", ".cu", ".cuh", ".cpp", ".h", ".sh", ".cmake")


def named_paths(text: str) -> list[str]:
    """Repository paths named in ``text`` (a one-letter file name is an example, not a path);
    a file of a package is given with python/ in front."""
    paths = [m for m in NAMED.findall(text) if len(m.rsplit("/", 1)[-1].split(".")[0]) > 1]
    return paths + [f"python/{m}" for m in IN_PACKAGE.findall(text)]


def named_modules(text: str) -> list[str]:
    """Dotted names of torchrig / torchrig_release modules named in ``text``."""
    return MODULE.findall(text)


def module_exists(dotted: str) -> bool:
    path = REPO / "python" / pathlib.Path(*dotted.split("."))
    return (path.name in BUILT or path.with_suffix(".py").is_file()
            or (path / "__init__.py").is_file())


def _texts():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                             check=True, timeout=COMMAND_S).stdout.split()
    own = str(pathlib.Path(__file__).relative_to(REPO))   # its examples are stale on purpose
    for name in tracked:
        if (name.endswith(TEXT) or name.startswith(".ci/")) and name != own:
            yield name, (REPO / name).read_text(errors="replace")


def test_every_named_path_exists():
    missing = [f"{name}: {path}" for name, text in _texts() for path in named_paths(text)
               if "*" not in path and "{" not in path and not (REPO / path).exists()]
    assert not missing, "\n".join(missing)


def test_every_named_module_exists():
    missing = [f"{name}: {module}" for name, text in _texts() for module in named_modules(text)
               if not module_exists(module)]
    assert not missing, "\n".join(missing)


def test_a_stale_test_path_is_found():
    assert named_paths("the incident (see `tests/test_abi_check.py`, and tests/x.py)") == [
        "tests/test_abi_check.py"]
    assert named_paths("pip install -r requirements/dev.txt; see torchrig/bench_gpu.py") == [
        "requirements/dev.txt", "python/torchrig/bench_gpu.py"]


def test_a_stale_module_is_found():
    text = ("`python -m torchrig.bench_gpu`, :mod:`~torchrig.bench_abi`, "
            "from torchrig.demo import walk_cycle; python -m torchrig bench; import torchrig._C")
    assert named_modules(text) == ["torchrig.bench_gpu", "torchrig.bench_abi", "torchrig.demo",
                                   "torchrig", "torchrig._C"]
    assert [m for m in named_modules(text) if not module_exists(m)] == [
        "torchrig.bench_gpu", "torchrig.bench_abi", "torchrig.demo"]
