"""Every test, tool or doc path that the tree names exists: after the tests moved into
tests/unit, tests/packaging and tests/support, a dozen comments and docs still named
tests/test_*.py (fixed 2026-12-06); this keeps them from coming back."""
from __future__ import annotations

import pathlib
import re
import subprocess

from torchrig_release.paths import REPO

NAMED = re.compile(r"(?<![\w./-])((?:tests|python|tools|docs|csrc|recipe|environments|build_tools)"
                   r"/[\w./-]*\w\.(?:py|md|cu|cuh|cpp|h|yaml|yml|sh|txt|cmake))\b")
TEXT = (".py", ".md", ".txt", ".toml", ".yml", ".yaml", ".cu", ".cuh", ".cpp", ".h", ".sh", ".cmake")


def named_paths(text: str) -> list[str]:
    """Repository paths named in ``text`` (a one-letter file name is an example, not a path)."""
    return [m for m in NAMED.findall(text) if len(m.rsplit("/", 1)[-1].split(".")[0]) > 1]


def test_every_named_path_exists():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
    own = str(pathlib.Path(__file__).relative_to(REPO))   # its examples are stale on purpose
    missing = [f"{name}: {path}" for name in tracked
               if (name.endswith(TEXT) or name.startswith(".ci/")) and name != own
               for path in named_paths((REPO / name).read_text(errors="replace"))
               if "*" not in path and "{" not in path and not (REPO / path).exists()]
    assert not missing, "\n".join(missing)


def test_a_stale_test_path_is_found():
    assert named_paths("the incident (see `tests/test_abi_check.py`, and tests/x.py)") == [
        "tests/test_abi_check.py"]
