"""abi-check's stable-ABI rule, as a pure function over symbol names.

A stable-ABI torchrig (``"abi": "stable"`` in its build record) promises to
load in every torch from its target on. That holds only if its undefined torch
symbols are all torch's C shim (``aoti_torch_*``, ``torch_*``: plain C names
whose meaning torch keeps across releases) and each torch checked defines every
one of them. A mangled ``c10::``/``at::``/``torch::``/``caffe2::`` symbol is a
failure even when the torch at hand defines it: C++ symbols tie a binary to one
torch minor. To be wired into check.py (one call per extension and torch).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .elf import _TORCH_C_SHIM, _TORCH_NAMESPACE, Symbol

__all__ = ["StableVerdict", "check_stable_symbols"]


@dataclass
class StableVerdict:
    """What one stable-ABI extension asks of the torches it was checked against."""

    shim: list[str] = field(default_factory=list)       # C shim symbols it needs
    mangled: list[str] = field(default_factory=list)    # demangled C++ torch symbols (failures)
    missing: dict[str, list[str]] = field(default_factory=dict)  # torch label -> shim undefined there

    @property
    def problems(self) -> list[str]:
        out = [f"stable-ABI library uses the C++ torch symbol {name}: it ties the binary to "
               "one torch minor (use the torch/csrc/stable API instead)" for name in self.mangled]
        out += [f"torch {label} does not define {', '.join(names)} (stable C shim): the "
                "library cannot load there" for label, names in self.missing.items() if names]
        return out

    @property
    def ok(self) -> bool:
        return not self.problems


def check_stable_symbols(undefined: Iterable[Symbol],
                         torches: dict[str, Callable[[str], bool]]) -> StableVerdict:
    """Apply the stable rule.

    Args:
        undefined: the extension's undefined dynamic symbols (elf.undefined_symbols).
        torches: label (e.g. "2.15.0+cu132") -> whether that torch's libraries
            define a symbol name (e.g. ``lambda n: any(t.defines(n) for t in tables)``).
    """
    verdict = StableVerdict()
    for s in undefined:
        if _TORCH_NAMESPACE.search(s.demangled):
            verdict.mangled.append(s.demangled)
        elif _TORCH_C_SHIM.match(s.name):
            verdict.shim.append(s.name)
    for label, defines in torches.items():
        verdict.missing[label] = [n for n in verdict.shim if not defines(n)]
    return verdict
