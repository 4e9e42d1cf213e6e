"""The checks: per torch installation, and for the artifact's declared range.

For each torch installation a build *loads* when
  1. every torch library the extension needs (DT_NEEDED, followed through the
     directory torch loads libc10.so from) exists,
  2. every torch symbol it leaves undefined is defined by one of them, and
  3. the artifact's own import guard accepts that torch (build info: torch minor,
     CUDA, cxx11 ABI), i.e. ``import torchrig`` would not refuse it, and
  4. a CUDA build meets a torch of the same CUDA major version (the guard only
     tells CUDA from CPU; libcudart.so.12 and .so.13 are different libraries).
The declared range is a promise: every torch given that it admits must load,
each torch minor it admits must be represented by such a torch, it must admit
the torch the build was compiled with, and it must have an upper bound. Any
failure is a problem; problems make the exit status non-zero.
"""
from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from ..library import torch_version
from . import elf
from .artifact import Artifact
from .declared import admitted_minors, format_minors
from .torch_install import TorchInstall

__all__ = ["ExtensionSymbols", "Report", "TargetResult", "check"]


@dataclass
class ExtensionSymbols:
    """What one extension module asks of torch."""

    path: str
    undefined: int                      # all undefined dynamic symbols
    needed: list[str]
    torch_symbols: list[elf.Symbol]     # the undefined ones that torch must define

    @classmethod
    def read(cls, artifact: Artifact, path: Path) -> ExtensionSymbols:
        undefined = elf.undefined_symbols(path)
        return cls(artifact.relative(path), len(undefined), elf.needed_libraries(path),
                   [s for s in undefined if elf.is_torch_symbol(s)])


@dataclass
class TargetResult:
    """The verdict for one torch installation."""

    torch: TorchInstall
    checked: int = 0                                      # torch symbols looked up
    libraries: list[str] = field(default_factory=list)    # torch libraries searched
    missing_libraries: list[str] = field(default_factory=list)
    missing: list[elf.Symbol] = field(default_factory=list)
    guard_problems: list[str] = field(default_factory=list)  # the artifact's guard: problems()
    cuda_mismatch: str | None = None
    admitted: bool = False                                # by the declared range

    @property
    def loads(self) -> bool:
        return not (self.missing or self.missing_libraries or self.build_info_problems)

    @property
    def build_info_problems(self) -> list[str]:
        """The guard's problems + the CUDA major check."""
        return self.guard_problems + ([self.cuda_mismatch] if self.cuda_mismatch else [])

    def reasons(self) -> list[str]:
        out = []
        if self.missing_libraries:
            out.append("missing libraries " + ", ".join(self.missing_libraries))
        if self.missing:
            out.append(f"{len(self.missing)} missing symbol(s), e.g. {self.missing[0].demangled}")
        if self.build_info_problems:
            out.append("build info: " + "; ".join(self.build_info_problems))
        return out


@dataclass
class Report:
    artifact: Artifact
    extensions: list[ExtensionSymbols]
    targets: list[TargetResult]
    admitted_minors: list[tuple[int, int]]
    unbounded: bool
    range_problems: list[str]

    @property
    def problems(self) -> list[str]:
        out = []
        declared = self.artifact.declared.text
        for t in self.targets:
            if not t.loads:
                out.append(f"torch {t.torch.version} cannot load this build: " + "; ".join(t.reasons()))
                if t.admitted:
                    out.append(f"declared range {declared} admits torch {t.torch.version}, which "
                               "cannot load this build: pip/conda would install them together")
        return out + self.range_problems

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_target(artifact: Artifact, extensions: list[ExtensionSymbols],
                  torch: TorchInstall) -> TargetResult:
    result = TargetResult(torch)
    lib_dir = Path(torch.lib_dir)
    with ExitStack() as stack:
        tables: dict[Path, elf.SymbolTable] = {}
        for ext in extensions:
            libs, missing_libs = elf.torch_dependency_closure(ext.needed, lib_dir)
            result.missing_libraries += [m for m in missing_libs if m not in result.missing_libraries]
            for lib in libs:
                if lib not in tables:
                    tables[lib] = stack.enter_context(elf.SymbolTable(lib))
            searched = [tables[lib] for lib in libs]
            result.checked += len(ext.torch_symbols)
            result.missing += [s for s in ext.torch_symbols
                               if not any(t.defines(s.name) for t in searched)]
        result.libraries = [p.name for p in tables]
    guard = artifact.guard
    torch_env = guard.TorchEnv(torch.version, torch.cuda, torch.cxx11_abi)
    result.guard_problems = [p.message for p in guard.problems(artifact.build_info, torch_env)]
    result.cuda_mismatch = _cuda_mismatch(artifact.build_info, torch)
    result.admitted = artifact.declared.admits(torch)
    return result


def _cuda_mismatch(info: dict, torch: TorchInstall) -> str | None:
    built = info.get("torch_cuda") if info.get("with_cuda") else None
    if built and torch.cuda and built.split(".")[0] != torch.cuda.split(".")[0]:
        return f"CUDA {built} build, torch has CUDA {torch.cuda} (major differs)"
    return None


def _range_problems(artifact: Artifact, targets: list[TargetResult],
                    minors: list[tuple[int, int]], unbounded: bool) -> list[str]:
    declared = artifact.declared.text
    built = artifact.build_info["torch_version"]
    problems = []
    if torch_version.minor_of(built) not in minors:
        problems.append(f"declared range {declared} excludes torch {built}, the torch it was built with")
    if unbounded:
        problems.append(f"declared range {declared} has no upper bound: it admits every future torch")
    # An admitted torch that fails is a broken promise, reported with its target;
    # here: admitted minors that no admitted torch was given for.
    checked = {t.torch.minor for t in targets if t.admitted}
    unchecked = [m for m in minors if m not in checked]
    if unchecked:
        problems.append(f"declared range {declared} admits torch {format_minors(unchecked)}, "
                        "not verified to load this build (pass such a torch with --torch)")
    return problems


def check(artifact: Artifact, torches: list[TorchInstall]) -> Report:
    """Run every check of ``artifact`` against each of ``torches``."""
    extensions = [ExtensionSymbols.read(artifact, p) for p in artifact.extensions]
    targets = [_check_target(artifact, extensions, t) for t in torches]
    minors, unbounded = admitted_minors(artifact.declared)
    return Report(artifact, extensions, targets, minors, unbounded,
                  _range_problems(artifact, targets, minors, unbounded))
