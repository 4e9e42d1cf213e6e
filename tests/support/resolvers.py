"""Real resolvers (pip and uv from PyPI) and a resolution-only index of the cached torches.

* :func:`tools_python`: a venv in the machine-wide cache, ``<cache>/venv-resolvers-<pins>``,
  holding :data:`TOOLS` (pip and uv at fixed versions, from PyPI), created on first use.
* :func:`metadata_wheels`: the distributions installed in the cached torch venvs
  (``torchrig_release.venv.ensure_venv``: torch and everything it pulled in, the nvidia-*
  packages of a CUDA torch included) repacked as wheels that hold only their installed
  ``.dist-info`` (METADATA, WHEEL with its tags, a fresh RECORD) and no payload. What a
  resolver reads -- name, version, tags, Requires-Dist, Requires-Python -- is the installed
  distribution's own, so ``uv pip compile`` and ``pip install --dry-run --report`` resolve
  exactly as against the real files; nothing is ever installed from them (a GB of torch
  stays out of the index). The name says so: every file goes into an index folder of the test.
"""
from __future__ import annotations

import base64
import email.parser
import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from torchrig_release.paths import cache_entry, torch_venv_dir
from torchrig_release.venv import ensure_venv
from support.timeouts import COMMAND_S

TOOLS = ["pip==26.3", "uv==0.13.9"]
# distributions of a venv that are its installer or an earlier torchrig, not what torch brings
SKIP = {"pip", "torchrig"}


def tools_python() -> Path:
    """The Python of the cached venv holding pip and uv at :data:`TOOLS` (created on first use)."""
    venv = cache_entry("venv-resolvers-" + "-".join(t.replace("==", "") for t in TOOLS))
    py, stamp = venv / "bin" / "python", venv / "torchrig-venv.json"
    if py.exists() and stamp.is_file() and json.loads(stamp.read_text()) == TOOLS:
        return py
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=COMMAND_S)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *TOOLS],
                   check=True, timeout=COMMAND_S, env={**os.environ, "PIP_CONSTRAINT": os.devnull})
    stamp.write_text(json.dumps(TOOLS))
    return py


def uv(tools: Path) -> Path:
    return tools.parent / "uv"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _repack(dist_info: Path, out_dir: Path) -> Path | None:
    meta_text = (dist_info / "METADATA").read_text(encoding="utf-8")
    meta = email.parser.Parser().parsestr(meta_text, headersonly=True)
    name, version = meta["Name"], meta["Version"]
    if re.sub(r"[-_.]+", "-", name).lower() in SKIP:
        return None
    wheel_text = (dist_info / "WHEEL").read_text(encoding="utf-8")
    tags = [line.split(":", 1)[1].strip() for line in wheel_text.splitlines() if line.startswith("Tag:")]
    if not tags:
        return None
    pys, abis, plats = (".".join(sorted({t.split("-")[i] for t in tags})) for i in range(3))
    stem = re.sub(r"[-_.]+", "_", name)
    out = out_dir / f"{stem}-{version}-{pys}-{abis}-{plats}.whl"
    if out.exists():
        return out
    info = f"{stem}-{version}.dist-info"
    files = {f"{info}/METADATA": meta_text.encode(), f"{info}/WHEEL": wheel_text.encode()}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for fname, data in files.items():
            zf.writestr(fname, data)
        record = [_record_line(f, d) for f, d in files.items()] + [f"{info}/RECORD,,"]
        zf.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return out


def metadata_wheels(torches: list[tuple[str, str]], out_dir: Path, extras: list[str]) -> list[Path]:
    """Metadata-only wheels of every distribution in the cached venvs of ``torches``
    ((torch version, Python minor) pairs; each venv made first where absent, with ``extras``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    for torch_version, python in torches:
        py = ensure_venv(torch_venv_dir(torch_version, python), torch_version, extras,
                         python=_interpreter(python))
        site = next(py.parents[1].glob("lib/python*/site-packages"))
        for dist_info in sorted(site.glob("*.dist-info")):
            wheel = _repack(dist_info, out_dir)
            if wheel is not None and wheel not in made:
                made.append(wheel)
    return made


def _interpreter(minor: str) -> str:
    if minor == "{}.{}".format(*sys.version_info[:2]):
        return sys.executable
    import shutil

    pyenv = shutil.which("pyenv")
    root = Path(subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=COMMAND_S)
                .stdout.strip()) if pyenv else Path.home() / ".pyenv"
    found = sorted((root / "versions").glob(f"{minor}.*/bin/python{minor}"))
    if not found:
        raise FileNotFoundError(f"no Python {minor} (pyenv) for its cached torch venv")
    return str(found[-1])


def pypi_metadata_wheels(tools: Path, requirement: str, python: str, out_dir: Path) -> list[Path]:
    """Metadata-only wheels of ``requirement`` (e.g. ``torch==2.9.1``) and everything it pulls in,
    for Python ``python``, as PyPI lists them: pip (:data:`TOOLS`) resolves them with
    ``--dry-run --report``, reading only each file's core metadata (PEP 658, a few KB, never a
    wheel), and each report entry's metadata and file name are written back as a wheel. For a
    torch that no cached venv holds (one older than 2.10, which torchrig's pin must refuse)."""
    report = out_dir / f".report-{re.sub(r'[^A-Za-z0-9.]+', '_', requirement)}.json"
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(tools), "-m", "pip", "install", "--dry-run", "--ignore-installed",
                    "--quiet", "--disable-pip-version-check", "--report", str(report),
                    "--python-version", python, "--only-binary=:all:", "--no-cache-dir",
                    "--index-url", "https://pypi.org/simple", requirement],
                   check=True, timeout=COMMAND_S, env={**os.environ, "PIP_CONFIG_FILE": os.devnull})
    items = json.loads(report.read_text())["install"]
    report.unlink()
    return [_from_report(item, out_dir) for item in items]


def _from_report(item: dict, out_dir: Path) -> Path:
    meta = item["metadata"]
    lines = [f"Metadata-Version: {meta['metadata_version']}", f"Name: {meta['name']}",
             f"Version: {meta['version']}"]
    if meta.get("requires_python"):
        lines.append(f"Requires-Python: {meta['requires_python']}")
    lines += [f"Requires-Dist: {r}" for r in meta.get("requires_dist", [])]
    lines += [f"Provides-Extra: {e}" for e in meta.get("provides_extra", [])]
    filename = item["download_info"]["url"].rsplit("/", 1)[1]
    out = out_dir / filename
    if out.exists():
        return out
    stem, version, pys, abis, plats = filename.removesuffix(".whl").split("-")
    info = f"{stem}-{version}.dist-info"
    files = {f"{info}/METADATA": ("\n".join(lines) + "\n").encode(),
             f"{info}/WHEEL": (f"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: {pys}-{abis}-{plats}\n").encode()}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for fname, data in files.items():
            zf.writestr(fname, data)
        zf.writestr(f"{info}/RECORD", "\n".join([_record_line(f, d) for f, d in files.items()]
                                                 + [f"{info}/RECORD,,"]) + "\n")
    return out
