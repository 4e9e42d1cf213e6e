"""A wheel as a zip: its name parts, METADATA, build record, and rewritten copies with a fresh RECORD.

``rewrite`` writes a copy of a wheel with some files replaced or added (RECORD's hashes
recomputed; every other byte kept): ``merge-wheels`` adds the CUDA kernel libraries of other
builds to the one wheel with it.
"""
from __future__ import annotations

import base64
import email.parser
import hashlib
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import WheelError

__all__ = ["WheelName", "build_info", "dist_info", "metadata", "normalize", "rewrite"]

_WHEEL = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(?:-(?P<build>\d[^-]*))?"
                    r"-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$")


def normalize(name: str) -> str:
    """PEP 503 name: 'torchrig_cpu' -> 'torchrig-cpu'."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class WheelName:
    """The parts of a wheel's file name (PEP 427)."""

    name: str
    version: str
    build: str | None
    python: str
    abi: str
    platform: str

    @classmethod
    def parse(cls, path: Path) -> WheelName:
        m = _WHEEL.match(path.name)
        if not m:
            raise WheelError(f"{path.name}: not a wheel file name (name-version-py-abi-plat.whl)", 2)
        return cls(m["name"], m["version"], m["build"], m["py"], m["abi"], m["plat"])

    def filename(self) -> str:
        build = f"-{self.build}" if self.build else ""
        return f"{self.name}-{self.version}{build}-{self.python}-{self.abi}-{self.platform}.whl"


def _dist_info(zf: zipfile.ZipFile) -> str:
    tops = {n.split("/")[0] for n in zf.namelist() if n.split("/")[0].endswith(".dist-info")}
    if len(tops) != 1:
        raise WheelError(f"{zf.filename}: expected one .dist-info folder, found {sorted(tops)}", 2)
    return tops.pop()


def metadata(path: Path) -> email.message.Message:
    """The wheel's METADATA (``msg['Name']``, ``msg.get_all('Requires-Dist')``)."""
    with zipfile.ZipFile(path) as zf:
        text = zf.read(f"{_dist_info(zf)}/METADATA").decode()
    return email.parser.Parser().parsestr(text)


def build_info(path: Path) -> dict:
    """``torchrig/_build_info.json`` of the wheel (the build record)."""
    with zipfile.ZipFile(path) as zf:
        try:
            return json.loads(zf.read("torchrig/_build_info.json"))
        except KeyError:
            raise WheelError(f"{path.name} has no torchrig/_build_info.json: not a torchrig "
                             "wheel built by this project", 2) from None


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def dist_info(path: Path) -> str:
    """The wheel's ``<name>-<version>.dist-info`` folder."""
    with zipfile.ZipFile(path) as zf:
        return _dist_info(zf)


def rewrite(path: Path, out: Path, files: dict[str, bytes]) -> Path:
    """A copy of the wheel at ``path`` written to ``out`` with ``files`` (archive name -> bytes)
    replacing or added to its own, and a fresh RECORD."""
    files = dict(files)
    with zipfile.ZipFile(path) as src:
        info_dir = _dist_info(src)
        entries = []
        for item in src.infolist():
            if item.filename == f"{info_dir}/RECORD":
                continue
            data = files.pop(item.filename) if item.filename in files else src.read(item)
            entries.append((item.filename, item.date_time, item.external_attr, data))
    at = next((i for i, e in enumerate(entries) if e[0].startswith(info_dir + "/")), len(entries))
    for name, data in sorted(files.items(), reverse=True):  # new files, before the .dist-info
        entries.insert(at, (name, (2020, 1, 1, 0, 0, 0), 0o100755 << 16, data))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as dst:
        record = []
        for name, date_time, attr, data in entries:
            zinfo = zipfile.ZipInfo(name, date_time)
            zinfo.external_attr, zinfo.compress_type = attr, zipfile.ZIP_DEFLATED
            dst.writestr(zinfo, data)
            record.append(_record_line(name, data))
        record.append(f"{info_dir}/RECORD,,")
        dst.writestr(f"{info_dir}/RECORD", "\n".join(record) + "\n")
    partial.replace(out)
    return out
