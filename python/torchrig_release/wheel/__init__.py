"""wheel internals: archive (read/rename a wheel), build, repair (auditwheel), check (twine, pin,
ABI, abi3audit), publish (twine, credentials, redaction). The verbs: main_build_wheel.py,
main_repair.py, main_check.py, main_publish.py; the layout they share: dist/<env>/{raw,repaired}."""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import WheelError
from ..paths import REPO

__all__ = ["dist_dir", "wheels_in"]


def dist_dir(env_name: str | None = None) -> Path:
    """``dist/<environment>``: ``$PIXI_ENVIRONMENT_NAME`` under pixi, else ``dist/local``.
    Raw wheels go to ``raw/``, auditwheel's to ``repaired/``."""
    name = env_name or os.environ.get("PIXI_ENVIRONMENT_NAME") or "local"
    return REPO / "dist" / name


def wheels_in(paths: list[Path], default: Path) -> list[Path]:
    """The wheels named (files or folders), else those in ``default``; WheelError (2) if none."""
    found: list[Path] = []
    for p in paths or [default]:
        if p.is_dir():
            found += sorted(p.glob("*.whl"))
        elif p.is_file() and p.suffix == ".whl":
            found.append(p)
        else:
            raise WheelError(f"{p}: not a wheel nor a folder of wheels", 2)
    if not found:
        raise WheelError(f"no wheels in {', '.join(str(p) for p in paths or [default])}: "
                         "run the step before this one (build-wheel -> repair -> check -> publish)", 2)
    return found
