"""Blocks of README.md and docs/*.md written from the code and files that own their facts
(`gen docs`): the conda build matrix (recipe/variants.yaml, counted by rattler-build's render)
and the GPU check's steps and limits (python/torchrig_release/gpu_check.py).

A block is the text between `<!-- generated:NAME:begin -->` and `<!-- generated:NAME:end -->`;
each name here stands exactly once in the docs. docs/compatibility.md's blocks belong to
compat_docs.
"""
from __future__ import annotations

import pathlib
import re
from collections.abc import Callable

from .. import ci_matrix, gpu_check, variants
from .. import pixi as pm
from ..errors import ReleaseError
from ..paths import REPO
from . import compat_docs

BLOCK = compat_docs.BLOCK  # the same markers as compatibility.md's blocks

__all__ = ["BLOCKS", "BLOCK", "sync", "update"]


def conda_builds() -> str:
    """variants.yaml's matrix keys and the number of packages render makes per platform."""
    linux, other = variants.raw(platform="linux-64"), variants.raw(platform="win-64")
    cuda = [c for c in linux["cuda_compiler_version"] if c != "None"]
    zipped = ", ".join(f"{t} {a}" for t, a in zip(linux["pytorch"], linux[variants.ABI_KEY], strict=True))
    rows = ["| key | values |", "| --- | --- |",
            f"| `python` | {', '.join(linux['python'])} |",
            f"| `pytorch` x `{variants.ABI_KEY}` (zipped) | {zipped} |",
            f"| `cuda_compiler_version` | `None` (CPU)"
            + (f"; on linux also {', '.join(cuda)}" if cuda and other["cuda_compiler_version"] == ["None"] else "")
            + " |"]
    platforms = ci_matrix.build_platforms()
    summary = ci_matrix.summary(ci_matrix.build_matrix(platforms), platforms)
    per = len(linux["pytorch"])
    return ("\n".join(rows) + f"\n\nEach Python x flavour gets {per} packages, one per `pytorch` x "
            f"`{variants.ABI_KEY}` entry. `torchrig-release ci-matrix` renders them with rattler-build: "
            f"{summary}.\n")


def _seconds(*names: str) -> str:
    return " + ".join(f"{gpu_check.TIMEOUTS[n]} s" for n in names)


def gpu_steps() -> str:
    """The GPU check's steps with their timeouts, and the limits of what goes and comes back."""
    mib = lambda n: f"{n >> 20} MiB"  # noqa: E731
    rows = ["| step | timeout |", "| --- | --- |",
            f"| 0 the device's capability | {_seconds('capability')} |",
            f"| 1 classic build + install + `info` | {_seconds('classic build', 'install', 'info')} |",
            f"| 2 stable install + `info` | {_seconds('install', 'info')} |",
            f"| 3 test-gpu, each build | {_seconds('tests')} |",
            f"| 3 memcheck, each build | {_seconds('memcheck')} |",
            f"| 3 racecheck, each build | {_seconds('racecheck')} |",
            f"| 3 bench, then bench compiled (classic) | {_seconds('bench')}, {_seconds('bench compiled')} |",
            f"| all (each step's timeout is cut to what is left) | {gpu_check.TOTAL_S} s |"]
    return ("\n".join(rows) + f"\n\nWhat is sent (checkout + `dist/gpu-kit`) must stay {mib(gpu_check.SEND_ROOM)} "
            f"under the device tool's {mib(gpu_check.SEND_LIMIT)}; each log that comes back is capped "
            f"at {mib(gpu_check.LOG_CAP)} (its start and its end kept).\n")


BLOCKS: dict[str, tuple[str, Callable[[], str]]] = {
    "conda-builds": ("docs/conda.md", conda_builds),
    "gpu-steps": ("README.md", gpu_steps),
}


def update(text: str, where: str) -> str:
    """``text`` (the doc at ``where``, relative to the repository) with this module's blocks
    refilled; a block of another doc, or one twice, is an error."""
    seen: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match[2]
        if name not in BLOCKS:
            return match[0]  # another generator's (compat_docs) or unknown: left to it
        doc, make = BLOCKS[name]
        if doc != where or name in seen:
            raise ReleaseError(f"{where}: block generated:{name} belongs once in {doc}", 1)
        seen.append(name)
        return match[1] + make() + match[3]

    return BLOCK.sub(fill, text)


def missing(found: dict[str, str]) -> list[str]:
    """The blocks of BLOCKS not found in their doc (``found``: doc -> its text)."""
    return [f"{doc}: no block <!-- generated:{name}:begin -->" for name, (doc, _) in BLOCKS.items()
            if f"<!-- generated:{name}:begin -->" not in found.get(doc, "")]


def documents(repo: pathlib.Path) -> dict[str, pathlib.Path]:
    return {doc: repo / doc for doc in sorted({d for d, _ in BLOCKS.values()})}


def sync(check: bool = False, repo: pathlib.Path = REPO) -> list[str]:
    """Rewrite (or, with ``check``, compare) this module's blocks in their docs: what changed
    (or differs), and each block missing from its doc."""
    docs = documents(repo)
    texts = {doc: path.read_text() for doc, path in docs.items()}
    changes = missing(texts)
    for doc, path in docs.items():
        change = pm.sync_file(path, update(texts[doc], doc), check)
        changes += [change] if change else []
    return changes
