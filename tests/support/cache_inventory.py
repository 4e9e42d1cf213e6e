"""What the tests take from outside the checkout, and where each thing comes from.

Two kinds of things, and nothing else:

* **Files of the machine image** (:data:`IMAGE`): what every new machine of this kind has
  before any work (pip.conf's ``find-links`` folder and the two ``file://`` indexes). A
  test names them only through this module; pip finds them through the machine's pip.conf
  (or :data:`IMAGE_WHEELS` and :data:`IMAGE_INDEXES` where a test ignores pip's config).
* **Entries of the machine-wide cache** (:data:`ENTRIES`), ``<cache>/<name>``, each made
  by the code named beside it from the source named beside it, on first use, by whichever
  test needs it first. Every way into the cache goes through
  ``torchrig_release.paths.cache_entry``, which logs each use where ``$TORCHRIG_CACHE_LOG``
  is set; tests/conftest.py sets it for the slow suites, prints the report (which test took
  what, made or reused, from where) and fails the run on an entry this table lacks.

Nothing else: never a file that earlier work left on the machine (a torch wheel someone
downloaded by hand, a venv from another project). tests/packaging/test_cache_inventory.py
checks the source tree for paths outside this table. ``python -m support.cache_inventory
LOG`` prints the report of a log.
"""
from __future__ import annotations

import fnmatch
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from torchrig_release.machine import BUILD_TORCH, CUDA_TORCH

# The machine image of this kind (/etc/pip.conf: find-links /opt/wheels, extra-index-url the
# two file:// indexes; the env skill's machines/python.md: "a file of PyTorch 2.13.0, CPU build,
# for Python 3.11, lies on disk"; the indexes hold torch 2.14.1 cp311 and its CUDA 13 wheels).
IMAGE_WHEELS = Path("/opt/wheels")
IMAGE_INDEXES = ("file:///opt/pypi/simple", "file:///opt/pypi-more/simple")
IMAGE = {
    ("torch", BUILD_TORCH): (IMAGE_WHEELS, f"torch-{BUILD_TORCH}+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"),
    ("torch", CUDA_TORCH): (Path("/opt/pypi-more/files"), f"torch-{CUDA_TORCH}-cp311-cp311-manylinux_2_28_x86_64.whl"),
}


@dataclass(frozen=True)
class Entry:
    pattern: str      # fnmatch pattern of the entry's name under <cache>/
    made_by: str      # the code that creates it
    source: str       # where its contents come from


ENTRIES = (
    Entry(f"venv-py3.11-torch{BUILD_TORCH}", "torchrig_release.venv.ensure_venv",
          "torch from the image's /opt/wheels; test tools from PyPI"),
    Entry(f"venv-py3.11-torch{CUDA_TORCH}", "torchrig_release.venv.ensure_venv",
          "torch and most NVIDIA wheels from the image's /opt/pypi-more index; the rest from PyPI"),
    Entry("venv-py3.*-torch*", "torchrig_release.venv.ensure_venv",
          "PyPI (pip, torch pinned exactly, the machine's pip cap lifted)"),
    Entry("venv-asan-py3.11-torch*", "torchrig_release sanitize (venv.ensure_venv)",
          "torch from the image's /opt/wheels; test tools from PyPI"),
    Entry("venv-pypiserver-*", "support.pypi_server.server_python", "PyPI (pypiserver, passlib)"),
    Entry("venv-quetz-py3.11", "support.quetz_server.ensure_venv", "PyPI (quetz-server and its pins)"),
    Entry("ccache", "tools/ccache.sh (the compiler launcher of tools/dev-setup and .ci/run)",
          "compiles of this machine's builds"),
    Entry("conda-channel-py3.11-torch*-*", "support.local_channel.build_channel",
          "rattler-build stand-ins of the wheels pip downloads at .venv's versions "
          "(torch from the image, the rest from PyPI)"),
    Entry("conda-channel-cuda*-torch*-py3.11", "support.cuda_channel",
          "rattler-build stand-ins repacked from wheels-torch*-cp311-* (PyPI's CUDA torch of the "
          "conda-forge build recorded in recipe/conda-forge-facts.yaml), the image's NVIDIA wheels "
          "and /usr/local/cuda"),
    Entry("wheels-torch*-cp311-manylinux_2_28_x86_64", "support.cuda_channel.torch_wheel",
          "PyPI (one torch wheel, no dependencies)"),
)


def entry_for(name: str) -> Entry | None:
    """The first entry whose pattern matches ``name`` (lock files and .work folders go with
    their entry)."""
    base = name.removesuffix(".lock").removesuffix(".work")
    return next((e for e in ENTRIES if fnmatch.fnmatchcase(base, e.pattern)), None)


def read_log(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def report(records: list[dict]) -> tuple[list[str], list[str]]:
    """(lines of the report, problems): per test, each cache entry it used, made or reused,
    and its source; a problem for each entry :data:`ENTRIES` lacks."""
    lines, problems, seen = [], [], {}
    for rec in records:
        key = (rec["by"] or "(outside a test)", rec["entry"])
        seen[key] = seen.get(key, False) or not rec["existed"]
    for (test, name), made in sorted(seen.items()):
        entry = entry_for(name)
        if entry is None:
            problems.append(f"{test} used <cache>/{name}, which support/cache_inventory.py does "
                            "not list: add an Entry saying what makes it and from where")
            continue
        lines.append(f"{test}: {name} {'MADE' if made else 'reused'} "
                     f"(by {entry.made_by}; from {entry.source})")
    return lines, problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m support.cache_inventory LOG  (a $TORCHRIG_CACHE_LOG file)", file=sys.stderr)
        return 2
    lines, problems = report(read_log(Path(args[0])))
    print("\n".join(lines + [f"PROBLEM {p}" for p in problems]))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
