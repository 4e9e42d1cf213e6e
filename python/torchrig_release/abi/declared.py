"""The torch range an artifact declares, and which torch versions it admits.

* pip: the ``Requires-Dist: torch ...`` entries of the wheel's METADATA,
  evaluated with ``packaging`` (PEP 440; a local tag such as ``+cpu`` is allowed).
* conda: the ``pytorch``/``libtorch`` entries of ``info/index.json`` ``depends``,
  evaluated with rattler's MatchSpec (conda semantics). A pip-installed torch has
  no conda build string; it is given the one conda-forge would use
  (``cpu_generic_py311_h0_0`` / ``cuda130_generic_py311_h0_0``) so that flavour
  constraints like ``pytorch * cpu*`` can be evaluated.

A declared range is a promise that every torch it admits can load the build.
:func:`admitted_minors` lists the torch minors a range admits, so the check can
demand a verified torch for each of them.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from .torch_install import TorchInstall

__all__ = ["CondaRange", "Declared", "PipRange", "admitted_minors", "format_minors", "minors_from"]

CONDA_TORCH_NAMES = frozenset({"pytorch", "libtorch"})
# Probed versions: majors 1..3, minors 0..59, patches 0..19. A range admitting
# the "far future" probe has no upper bound.
_PROBE_MAJORS, _PROBE_MINORS, _PROBE_PATCHES = range(1, 4), range(60), range(20)
FAR_FUTURE = "99.0.0"


@dataclass
class Declared:
    """Base: a list of requirement strings from one source; admits everything when empty."""

    source: str                          # where it was read, e.g. "METADATA Requires-Dist"
    entries: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return ", ".join(self.entries) if self.entries else "(no torch requirement)"

    def admits_version(self, version: str) -> bool:   # pragma: no cover - abstract
        raise NotImplementedError

    def admits(self, torch: TorchInstall) -> bool:
        return self.admits_version(torch.version)

    def to_json(self) -> dict:
        return {"source": self.source, "entries": self.entries, "kind": type(self).__name__}


class PipRange(Declared):
    """``Requires-Dist`` entries naming torch (without an ``extra`` marker)."""

    @classmethod
    def from_requires(cls, requires: Iterable[str], source: str) -> PipRange:
        entries = []
        for text in requires:
            req = Requirement(text)
            if canonicalize_name(req.name) != "torch":
                continue
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            entries.append(str(req))
        return cls(source, entries)

    @functools.cached_property
    def _specifiers(self) -> list:
        return [Requirement(e).specifier for e in self.entries]

    def admits_version(self, version: str) -> bool:
        return all(s.contains(version, prereleases=True) for s in self._specifiers)


class CondaRange(Declared):
    """``depends`` entries naming pytorch/libtorch, as conda match specs."""

    @classmethod
    def from_depends(cls, depends: Iterable[str], source: str) -> CondaRange:
        from rattler import MatchSpec

        return cls(source, [d for d in depends if MatchSpec(d).name.normalized in CONDA_TORCH_NAMES])

    @functools.cached_property
    def _specs(self) -> list:
        from rattler import MatchSpec

        return [MatchSpec(e) for e in self.entries]

    def admits_version(self, version: str) -> bool:
        from rattler import Version as CondaVersion
        from rattler import VersionSpec

        public = CondaVersion(Version(version).public)   # conda versions carry no '+cpu'
        return all(VersionSpec(s.version).matches(public) for s in self._specs if s.version)

    def admits(self, torch: TorchInstall) -> bool:
        return all(s.matches(_conda_record(s.name.normalized, torch)) for s in self._specs)


def _conda_record(name: str, torch: TorchInstall):
    """A conda PackageRecord standing for a (pip-installed) torch, built like conda-forge's."""
    from rattler import PackageRecord

    py = torch.python_version.replace(".", "")
    flavour = "cuda" + torch.cuda.replace(".", "") if torch.cuda else "cpu"
    build = f"{flavour}_generic_py{py}_h0_0"
    try:  # newer py-rattler wraps build strings
        from rattler.package.build_string import BuildString
        build = BuildString(build)
    except ImportError:
        pass
    return PackageRecord(name=name, version=Version(torch.version).public, build=build,
                         build_number=0, subdir="linux-64")


def admitted_minors(declared: Declared) -> tuple[list[tuple[int, int]], bool]:
    """(torch minors the range admits among the probed versions, unbounded above?)."""
    minors = [(M, m) for M in _PROBE_MAJORS for m in _PROBE_MINORS
              if any(declared.admits_version(f"{M}.{m}.{p}") for p in _PROBE_PATCHES)]
    return minors, declared.admits_version(FAR_FUTURE)


def minors_from(lowest: tuple[int, int]) -> list[tuple[int, int]]:
    """Every probed torch minor from ``lowest`` on: what ``torch>=lowest`` admits."""
    return [(M, m) for M in _PROBE_MAJORS for m in _PROBE_MINORS if (M, m) >= lowest]


def format_minors(minors: list[tuple[int, int]], limit: int = 6) -> str:
    """[(2, 8), (2, 9)] -> '2.8, 2.9'; long lists are shortened."""
    names = [f"{M}.{m}" for M, m in minors]
    if len(names) > limit:
        names = names[:3] + [f"... ({len(names) - 4} more)"] + names[-1:]
    return ", ".join(names) if names else "none"
