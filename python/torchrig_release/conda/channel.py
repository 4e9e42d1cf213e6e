"""Local conda channels with py-rattler: a channel argument as a URL, indexing a channel
folder, and the metadata of one package file."""
from __future__ import annotations

import pathlib
from typing import Any

from .rattler_async import run_async

__all__ = ["channel_url", "index_channel", "package_metadata"]


def channel_url(channel: str) -> str:
    """A local folder becomes a ``file://`` URL; names and URLs pass through."""
    path = pathlib.Path(channel).expanduser()
    if "://" not in channel and (path.is_dir() or channel.startswith((".", "/", "~"))):
        return path.resolve().as_uri()
    return channel


def index_channel(channel_dir: pathlib.Path) -> None:
    """Write repodata.json for every subdir of a local channel (py-rattler's indexer)."""
    from rattler.index import index_fs

    (channel_dir / "noarch").mkdir(parents=True, exist_ok=True)
    run_async(index_fs(channel_dir, write_zst=False, write_shards=False, force=True))


def package_metadata(package: pathlib.Path) -> dict[str, Any]:
    """name, version, build, subdir, depends, constrains and run_exports of a .conda file."""
    from rattler.package import IndexJson, RunExportsJson

    index_json = IndexJson.from_package_archive(package)
    try:
        exports = RunExportsJson.from_package_archive(package)
        run_exports = {"weak": list(exports.weak), "strong": list(exports.strong)}
    except Exception:  # no info/run_exports.json in the archive
        run_exports = {"weak": [], "strong": []}
    return {
        "name": index_json.name.normalized,
        "version": str(index_json.version),
        "build": str(index_json.build),
        "subdir": index_json.subdir,
        "depends": list(index_json.depends),
        "constrains": list(index_json.constrains),
        "run_exports": run_exports,
        "file": str(package),
    }
