"""Join the CUDA kernel libraries of several stable builds into the one wheel.

CMake compiles one CUDA major per build (one nvcc); the release builds the stable wheel once
per CUDA toolkit (CUDA 12, CUDA 13) on the same platform and joins them here: the first
wheel is the base (its CPU library, Python files and metadata are kept); each other wheel
adds its ``libtorchrig_stable_cuda<major>.so`` and that library's entry of the build
record's ``cuda_libraries``. The wheels must agree on everything else that the record and
METADATA say (version, tags, Requires-Dist, stable target).
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

from ..errors import WheelError
from .archive import WheelName, build_info, dist_info, metadata, rewrite

__all__ = ["merge_wheels"]

RECORD = "torchrig/_build_info.json"
# what all joined builds must share (build-record keys)
SAME = ("abi", "stable_target")


def _describe(path: Path) -> tuple:
    name, meta = WheelName.parse(path), metadata(path)
    return (name.name, name.version, name.python, name.abi, name.platform,
            tuple(sorted(meta.get_all("Requires-Dist") or [])))


def merge_wheels(wheels: list[Path], out_dir: Path) -> Path:
    """The first of ``wheels`` with every other's CUDA kernel library added, in ``out_dir``."""
    if not wheels:
        raise WheelError("merge-wheels needs at least one wheel", 2)
    base, *others = wheels
    info = build_info(base)
    if info.get("abi") != "stable":
        raise WheelError(f"{base.name}: a classic build (abi {info.get('abi')!r}); only stable builds "
                         "hold CUDA kernel libraries to join (build with TORCHRIG_ABI=stable)", 2)
    libraries = dict(info.get("cuda_libraries") or {})
    files: dict[str, bytes] = {}
    for other in others:
        their = build_info(other)
        differ = [k for k in SAME if their.get(k) != info.get(k)]
        if differ or _describe(other) != _describe(base):
            raise WheelError(f"{other.name} and {base.name} are not builds of the same wheel "
                             f"(they differ in {', '.join(differ) or 'name, version, tags or Requires-Dist'})", 2)
        for major, entry in (their.get("cuda_libraries") or {}).items():
            if major in libraries:
                raise WheelError(f"both {base.name} and {other.name} hold a CUDA {major} kernel library "
                                 f"({libraries[major]['library']}); join builds of different CUDA majors", 2)
            with zipfile.ZipFile(other) as zf:
                files[f"torchrig/{entry['library']}"] = zf.read(f"torchrig/{entry['library']}")
            libraries[major] = entry
    merged = {**info, "cuda_libraries": dict(sorted(libraries.items(), key=lambda kv: int(kv[0]))),
              "with_cuda": bool(libraries)}
    files[RECORD] = (json.dumps(merged, indent=2, sort_keys=True) + "\n").encode()
    dist_info(base)  # a wheel with one .dist-info
    return rewrite(base, out_dir / base.name, files)
