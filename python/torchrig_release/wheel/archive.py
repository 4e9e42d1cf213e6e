"""A wheel as a zip: its name parts, METADATA, build record, and a renamed copy with a fresh RECORD.

``rename`` gives a wheel another distribution name (``torchrig`` -> ``torchrig-cpu``): the
``.dist-info`` folder, ``Name:`` in METADATA, the file name, and RECORD (hashes recomputed)
change; every other byte is kept.
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

__all__ = ["WheelName", "build_info", "metadata", "normalize", "rename"]

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


def rename(path: Path, new_name: str, out_dir: Path) -> Path:
    """A copy of the wheel at ``path`` in ``out_dir`` whose distribution name is ``new_name``."""
    parts = WheelName.parse(path)
    stem = new_name.replace("-", "_")
    out = out_dir / WheelName(stem, *list(vars(parts).values())[1:]).filename()
    with zipfile.ZipFile(path) as src:
        old_info = _dist_info(src)
        new_info = f"{stem}-{parts.version}.dist-info"
        entries = []
        for item in src.infolist():
            if item.filename == f"{old_info}/RECORD":
                continue
            data = src.read(item)
            name = item.filename.replace(old_info + "/", new_info + "/", 1) \
                if item.filename.startswith(old_info + "/") else item.filename
            if name == f"{new_info}/METADATA":
                data = re.sub(rb"(?m)^Name: .*$", f"Name: {new_name}".encode(), data, count=1)
            entries.append((item, name, data))
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as dst:
        record = []
        for item, name, data in entries:
            info = zipfile.ZipInfo(name, item.date_time)
            info.external_attr, info.compress_type = item.external_attr, zipfile.ZIP_DEFLATED
            dst.writestr(info, data)
            record.append(_record_line(name, data))
        record.append(f"{new_info}/RECORD,,")
        dst.writestr(f"{new_info}/RECORD", "\n".join(record) + "\n")
    partial.replace(out)
    return out
