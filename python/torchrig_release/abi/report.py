"""Rendering of a :class:`~.check.Report`: text for people, JSON for tools."""
from __future__ import annotations

import dataclasses

from pathlib import Path

from ..errors import ReleaseError
from .check import Report, TargetResult, check_artifact
from .declared import CondaRange, format_minors
from .torch_install import TorchInstall

__all__ = ["to_json", "to_text"]


def _torch_line(t: TorchInstall) -> str:
    return (f"torch {t.version} ({t.flavour}, cxx11 ABI {int(t.cxx11_abi)}, "
            f"Python {t.python_version}) at {t.path}")


def _symbol_lines(report: Report, r: TargetResult) -> list[str]:
    libs = ", ".join(r.libraries) or "none"
    if r.missing_libraries:
        lines = [f"  libraries   MISSING: {', '.join(r.missing_libraries)} (not in {r.torch.lib_dir})"]
    else:
        lines = []
    if r.mangled:
        lines.append(f"  symbols     STABLE RULE BROKEN: {len(r.mangled)} C++ torch symbol(s), e.g. "
                     f"{r.mangled[0]}")
    if not r.missing:
        what = "C shim symbols" if report.stable else "torch symbols"
        return lines + [f"  symbols     OK: all {r.checked} {what} defined by {libs}"]
    lines.append(f"  symbols     MISSING {len(r.missing)} of {r.checked} (searched {libs}):")
    lines += [f"                {s.demangled}   [{s.name}{', weak' if s.weak else ''}]" for s in r.missing]
    return lines


def _target_block(report: Report, r: TargetResult) -> list[str]:
    declared = report.artifact.declared.text
    if r.admitted:
        range_line = f"admitted by {declared}"
    else:
        range_line = f"excluded by {declared} (pip/conda will not install them together)"
    return [
        _torch_line(r.torch),
        *_symbol_lines(report, r),
        "  build info  " + ("OK: the import guard accepts this torch" if not r.build_info_problems
                            else "MISMATCH: " + "; ".join(r.build_info_problems)),
        f"  declared    {range_line}",
        f"  verdict     {'LOADS' if r.loads else 'INCOMPATIBLE'}",
    ]


def to_text(report: Report) -> str:
    a = report.artifact
    info = a.build_info
    built_flavour = f"CUDA {info['torch_cuda']}" if info.get("with_cuda") else "CPU"
    lines = [
        f"abi-check {a.spec} ({a.kind})",
        f"  built with torch {info['torch_version']} ({built_flavour} build, "
        f"cxx11 ABI {int(info.get('cxx11_abi', True))}, compiler {info.get('compiler') or '?'})",
        f"  declares   {a.declared.text}  [{a.declared.source}]; admits torch "
        + format_minors(report.admitted_minors) + (" and beyond" if report.unbounded else ""),
    ]
    if report.stable:
        lines.append(f"  abi        stable, target torch {info.get('stable_target')}: loads in every "
                     "torch from the target on (C shim symbols only; range must be "
                     + ("pytorch >=" if isinstance(a.declared, CondaRange) else "torch>=")
                     + f"{info.get('stable_target')})")
    for ext in report.extensions:
        needs = ", ".join(n for n in ext.needed if n.startswith(("libtorch", "libc10")))
        lines.append(f"  extension  {ext.path}: {ext.undefined} undefined symbols, "
                     f"{len(ext.torch_symbols)} from torch; needs {needs or 'no torch library'}")
    for r in report.targets:
        lines += ["", *_target_block(report, r)]
    problems = report.problems
    lines += ["", f"RESULT: {'OK' if not problems else f'FAIL ({len(problems)} problem(s))'}"]
    lines += [f"  - {p}" for p in problems]
    lines += [f"NOTE: {n}" for n in report.notes]
    return "\n".join(lines)


def _plain(value):
    """Dataclasses, paths and tuples -> JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def to_json(report: Report) -> dict:
    a = report.artifact
    return {
        "artifact": {"spec": a.spec, "kind": a.kind, "build_info": a.build_info,
                     "declared": a.declared.to_json()},
        "extensions": _plain(report.extensions),
        "targets": [dict(_plain(r), loads=r.loads) for r in report.targets],
        "admitted_minors": [f"{M}.{m}" for M, m in report.admitted_minors],
        "unbounded": report.unbounded,
        "abi": a.build_info.get("abi", "classic"),
        "problems": report.problems,
        "notes": report.notes,
        "ok": report.ok,
    }


def verdict(artifact: Path | str, torches: list[str], venv_root: Path | None = None) -> tuple[bool, str]:
    """The ABI check as a gate (upload, wheel check): (passed, its text report). An unusable
    argument (not a torchrig artifact, no such torch) fails with its message."""
    try:
        report = check_artifact(str(artifact), torches, venv_root)
    except ReleaseError as err:
        return False, f"abi-check: error: {err}"
    return report.ok, to_text(report)
