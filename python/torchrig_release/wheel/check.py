"""The checks a wheel must pass before it may be published; each gives a named result.

* ``twine``: ``twine check --strict`` (metadata renders, required fields present);
* ``name``: the distribution name is the flavour's and ABI's (``torchrig-cpu`` /
  ``torchrig-cuXY``; stable: ``torchrig-stable-cpu`` / ``torchrig-stable-cuXY``), read back
  from METADATA and compared with the build record's;
* ``pin``: the torch Requires-Dist read back from METADATA equals the one the build record
  (``torchrig/_build_info.json``) implies: ``torch>=X.Y,<X.(Y+1)`` for the torch compiled
  against (a CUDA build also excluding ``+cpu`` torches); a stable build ``torch>=<target>``
  (its ``stable_target``);
* ``platform``: a manylinux tag (auditwheel repaired it; PyPI refuses ``linux_x86_64``);
* ``manylinux``: manylinux_2_28 or older as auditwheel judges the symbol versions, in the name's
  tag too, and no grafted OpenMP runtime (wheel/manylinux.py; each too-new symbol named);
* ``abi``: the ABI check (torchrig_release/abi, in-process) against the given torches;
* ``abi3audit``: only for a wheel tagged ``abi3`` (a stable-Python-ABI claim).
"""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from packaging.requirements import Requirement

from ..errors import WheelError
from ..library import library_module
from .archive import WheelName, build_info, metadata, normalize
from .build import flavour_name

__all__ = ["Result", "check_wheel", "check_wheels", "refuse_failed", "results_text"]


@dataclasses.dataclass(frozen=True)
class Result:
    check: str
    ok: bool
    detail: str


def _run(*cmd: str) -> tuple[bool, str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}  # plain, unwrapped text
    done = subprocess.run([sys.executable, "-m", *cmd], capture_output=True, text=True, env=env)
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def _torch_entries(requires: list[str]) -> list[Requirement]:
    return [r for r in map(Requirement, requires) if normalize(r.name) == "torch" and r.marker is None]


def check_pin(path: Path) -> Result:
    info = build_info(path)
    tv = library_module("_torch_version")
    if info.get("abi") == "stable":
        target = info.get("stable_target")
        if not target:
            return Result("pin", False, "the build record says abi stable but has no "
                                        "stable_target (rebuild with TORCHRIG_ABI=stable)")
        want, source = Requirement(f"torch>={tv.minor_text(target)}"), f"stable target {target}"
    else:
        want = Requirement(tv.requirement(info["torch_version"], cuda=bool(info.get("with_cuda"))))
        source = f"torch {info['torch_version']}"
    got = _torch_entries(metadata(path).get_all("Requires-Dist") or [])
    detail = (f"METADATA: {', '.join(map(str, got)) or 'no torch requirement'}; build record "
              f"({source}): {want}")
    return Result("pin", len(got) == 1 and got[0].specifier == want.specifier, detail)


def check_name(path: Path) -> Result:
    want = flavour_name(build_info(path))
    got = metadata(path)["Name"]
    return Result("name", normalize(got or "") == want, f"METADATA Name: {got}; flavour: {want}")


def check_platform(path: Path) -> Result:
    plat = WheelName.parse(path).platform
    return Result("platform", plat.startswith("manylinux") or plat == "any",
                  f"{plat}" + ("" if plat.startswith("manylinux") else
                               " (run `repair`: an index refuses plain linux_* wheels)"))


def check_manylinux(path: Path) -> Result:
    from .manylinux import manylinux_problems

    plat = WheelName.parse(path).platform
    if not plat.startswith(("manylinux", "linux")):
        return Result("manylinux", True, f"{plat}: not a Linux wheel")
    if not plat.startswith("manylinux"):
        return Result("manylinux", False, f"{plat}: not a manylinux wheel (run `repair`)")
    problems, sym_tag = manylinux_problems(path)
    if problems:
        return Result("manylinux", False, "above manylinux_2_28:\n" + "\n".join(problems))
    return Result("manylinux", True, f"auditwheel: symbol versions allow {sym_tag}; "
                                     "no grafted OpenMP runtime")


def check_abi(path: Path, torches: list[str]) -> Result:
    from ..abi.report import verdict

    ok, text = verdict(path, torches)
    return Result("abi", ok, f"against {', '.join(torches)}" if ok else text)


def check_wheel(path: Path, torches: list[str]) -> list[Result]:
    """Every check of ``path``; the ABI check runs against ``torches`` (environments/versions)."""
    if not torches:
        raise WheelError("check needs at least one torch for the ABI check (--torch: an "
                         "environment with the torch the wheel was built for)", 2)
    ok, text = _run("twine", "--no-color", "check", "--strict", str(path))
    results = [Result("twine", ok, text), check_name(path), check_pin(path),
               check_platform(path), check_manylinux(path), check_abi(path, torches)]
    if "abi3" in WheelName.parse(path).abi.split("."):
        ok, text = _run("abi3audit", "--strict", "--report", str(path))
        results.append(Result("abi3audit", ok, text))
    return results


def refuse_failed(checked: dict[Path, list[Result]]) -> None:
    """WheelError naming every wheel and check that failed (nothing may be published)."""
    failed = [f"{p.name}: {r.check}" for p, rs in checked.items() for r in rs if not r.ok]
    if failed:
        raise WheelError("refused: checks failed (" + "; ".join(failed) + "); nothing published")


def results_text(wheel: Path, results: list[Result]) -> str:
    """The wheel's name, then one line per check (a failed check's detail, and twine's, in full)."""
    lines = [wheel.name]
    for r in results:
        first, *rest = r.detail.splitlines() or [""]
        lines.append(f"  {'ok    ' if r.ok else 'FAILED'} {r.check:9} {first}")
        lines += [f"         {line}" for line in (rest if not r.ok or r.check == "twine" else [])]
    return "\n".join(lines)


def check_wheels(wheels: list[Path], torches: list[str], show: Callable[[str], object]) -> None:
    """Check every wheel (the ABI check against ``torches``, default this environment), handing
    each one's :func:`results_text` to ``show`` as it is done; WheelError (nothing may be
    published) if any check failed. The `check` and `publish` verbs share it."""
    checked = {}
    for wheel in wheels:
        checked[wheel] = results = check_wheel(wheel, torches or [sys.prefix])
        show(results_text(wheel, results))
    refuse_failed(checked)
