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

A stable-ABI build (build record ``"abi": "stable"``) promises more and is
checked by other rules (abi/stable.py): its undefined torch symbols must all be
the C shim (a mangled ``c10::``/``at::``/``torch::`` one is a failure even where
defined: it ties the binary to one minor), each defined by every torch checked;
and the declared range must be exactly ``torch>=<stable_target>`` (no upper
bound: that is the point), with at least one admitted torch checked. Whether the
target minor itself was among the torches checked is stated as a note.
"""
from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from ..library import torch_version
from ..paths import cache_dir
from . import elf
from .artifact import Artifact, open_artifact
from .declared import CondaRange, admitted_minors, format_minors, minors_from
from .stable import check_stable_symbols
from .torch_install import TorchInstall, resolve

__all__ = ["ExtensionSymbols", "Report", "TargetResult", "check", "check_artifact"]


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
    mangled: list[str] = field(default_factory=list)      # stable build: C++ torch symbols used

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
    notes: list[str] = field(default_factory=list)        # facts worth saying, not failures

    @property
    def stable(self) -> bool:
        return is_stable(self.artifact)

    @property
    def problems(self) -> list[str]:
        out = []
        declared = self.artifact.declared.text
        for name in dict.fromkeys(n for t in self.targets for n in t.mangled):
            out.append(f"stable-ABI library uses the C++ torch symbol {name}: it ties the binary "
                       "to one torch minor (use the torch/csrc/stable API instead)")
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


def is_stable(artifact: Artifact) -> bool:
    """Whether the artifact's build record says it is a stable-ABI build."""
    return artifact.build_info.get("abi") == "stable"


def loaded_extensions(artifact: Artifact, extensions: list[ExtensionSymbols],
                      torch: TorchInstall) -> list[ExtensionSymbols]:
    """The libraries of ``artifact`` that load beside ``torch``: all of them, except in the one
    wheel (a stable record with ``cuda_libraries``), whose CUDA kernel library of a CUDA major
    loads only beside a torch of that major (torchrig._stable), none beside a CPU torch."""
    libraries = artifact.build_info.get("cuda_libraries")
    if artifact.build_info.get("abi") != "stable" or libraries is None:
        return extensions
    major = (torch.cuda or "").split(".")[0]
    skipped = {entry["library"] for m, entry in libraries.items() if m != major}
    return [ext for ext in extensions if Path(ext.path).name not in skipped]


def _check_target(artifact: Artifact, extensions: list[ExtensionSymbols],
                  torch: TorchInstall) -> TargetResult:
    result = TargetResult(torch)
    extensions = loaded_extensions(artifact, extensions, torch)
    lib_dir = Path(torch.lib_dir)
    with ExitStack() as stack:
        tables: dict[Path, elf.SymbolTable] = {}
        for ext in extensions:
            libs, missing_libs = elf.torch_dependency_closure(ext.needed, lib_dir)
            result.missing_libraries = sorted(set(result.missing_libraries) | set(missing_libs))
            for lib in libs:
                if lib not in tables:
                    tables[lib] = stack.enter_context(elf.SymbolTable(lib))
            searched = [tables[lib] for lib in libs]
            result.checked += len(ext.torch_symbols)
            if is_stable(artifact):   # the shim must be defined; a mangled symbol never passes
                verdict = check_stable_symbols(ext.torch_symbols, {
                    torch.version: lambda n, searched=searched: any(t.defines(n) for t in searched)})
                absent = set(verdict.missing[torch.version])
                result.missing += [s for s in ext.torch_symbols if s.name in absent]
                result.mangled += [m for m in verdict.mangled if m not in result.mangled]
            else:
                result.missing += [s for s in ext.torch_symbols if not elf.optional_at_load(s)
                                   and not any(t.defines(s.name) for t in searched)]
        result.libraries = [p.name for p in tables]
    guard = artifact.guard
    torch_env = guard.TorchEnv(torch.version, torch.cuda, torch.cxx11_abi)
    result.guard_problems = [p.message for p in guard.problems(artifact.build_info, torch_env)]
    result.cuda_mismatch = _cuda_mismatch(artifact.build_info, torch)
    result.admitted = artifact.declared.admits(torch)
    return result


def _cuda_mismatch(info: dict, torch: TorchInstall) -> str | None:
    if "cuda_libraries" in info and info.get("abi") == "stable":  # loads the library of torch's major
        return None
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


def _stable_range(artifact: Artifact, targets: list[TargetResult],
                  minors: list[tuple[int, int]], unbounded: bool) -> tuple[list[str], list[str]]:
    """(problems, notes) of a stable build's declared range: exactly ``torch>=<target>``."""
    declared = artifact.declared.text
    recorded = artifact.build_info.get("stable_target")
    if not recorded:
        return [f"the build record says abi stable but has no stable_target: cannot check "
                f"{declared} (rebuild with TORCHRIG_ABI=stable)"], []
    target = torch_version.minor_of(str(recorded))
    problems, notes = [], []
    floor = torch_version.minor_text(str(recorded))
    wanted = f"pytorch >={floor}" if isinstance(artifact.declared, CondaRange) else f"torch>={floor}"
    if minors != minors_from(target) or not unbounded:
        problems.append(f"declared range {declared} is not {wanted} (the stable target in the "
                        f"build record): it admits torch {format_minors(minors)}"
                        + (" and beyond" if unbounded else "") + "; a stable build loads in every "
                        "torch from its target on, so the range must say exactly that")
    checked = sorted({t.torch.minor for t in targets if t.admitted})
    if not checked:
        problems.append(f"declared range {declared} admits no torch given: nothing verified "
                        "(pass a torch >= the target with --torch)")
    elif target not in checked:
        notes.append(f"the target torch {torch_version.minor_text(str(recorded))} was not among "
                     f"the torches checked (oldest checked: {format_minors(checked[:1])}); pass "
                     f"--torch {torch_version.minor_text(str(recorded))}.x to verify the oldest "
                     "torch the range admits")
    built = artifact.build_info["torch_version"]
    if torch_version.minor_of(built) < target:
        problems.append(f"built with torch {built}, older than its stable target {recorded}")
    return problems, notes


def check(artifact: Artifact, torches: list[TorchInstall]) -> Report:
    """Run every check of ``artifact`` against each of ``torches``."""
    extensions = [ExtensionSymbols.read(artifact, p) for p in artifact.extensions]
    targets = [_check_target(artifact, extensions, t) for t in torches]
    minors, unbounded = admitted_minors(artifact.declared)
    if is_stable(artifact):
        problems, notes = _stable_range(artifact, targets, minors, unbounded)
    else:
        problems, notes = _range_problems(artifact, targets, minors, unbounded), []
    return Report(artifact, extensions, targets, minors, unbounded, problems, notes)


def check_artifact(artifact: str, torches: list[str], venv_root: Path | None = None) -> Report:
    """The ABI check of ``artifact`` (a path, see :func:`.artifact.open_artifact`) against each
    torch named in ``torches`` (see :func:`.torch_install.resolve`; versions are looked up in
    ``venv_root``, default the machine-wide cache). ReleaseError (status 2) for an unusable
    argument."""
    root = venv_root or cache_dir()
    installs = [resolve(spec, root) for spec in torches]
    with open_artifact(artifact) as opened:
        return check(opened, installs)
