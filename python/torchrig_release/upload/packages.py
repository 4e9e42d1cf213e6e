"""The packages to upload: found in rattler-build's output folder, read from their
info/index.json with py-rattler (errors: errors.UploadError)."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from ..errors import UploadError

SUBDIR = re.compile(r"noarch|[a-z0-9]+-[a-z0-9_]+")


@dataclasses.dataclass(frozen=True)
class Package:
    """One artifact and the identity read from its info/index.json."""

    path: Path
    name: str
    version: str
    build: str
    subdir: str
    depends: tuple[str, ...]


def find_artifacts(output_dir: Path) -> list[Path]:
    """rattler-build's packages under ``output_dir``: ``<subdir>/*.conda``, not its work dirs."""
    return sorted(p for p in output_dir.rglob("*.conda") if SUBDIR.fullmatch(p.parent.name)
                  and "bld" not in p.relative_to(output_dir).parts)


def read_package(path: Path) -> Package:
    """The Package at ``path``; UploadError (status 2) when it is not a conda package."""
    from rattler.package import IndexJson

    try:
        index = IndexJson.from_package_archive(path)
    except Exception as err:
        raise UploadError(f"{path}: not a readable conda package ({err})", 2) from None
    return Package(path, index.name.normalized, str(index.version), index.build, index.subdir,
                   tuple(index.depends))
