"""Local conda channels with py-rattler: a channel argument as a URL, indexing a channel
folder, and the metadata of one package file."""
from __future__ import annotations

import pathlib
from typing import Any

from .rattler_async import run_async

__all__ = ["channel_url", "index_channel", "package_metadata", "unreachable"]


def channel_url(channel: str) -> str:
    """A local folder becomes a ``file://`` URL; names and URLs pass through."""
    path = pathlib.Path(channel).expanduser()
    if "://" not in channel and (path.is_dir() or channel.startswith((".", "/", "~"))):
        return path.resolve().as_uri()
    return channel


def unreachable(channel: str, timeout: float = 15.0) -> str | None:
    """Why ``channel`` cannot be read, or None: a name (conda-forge) or http(s) URL must
    answer for its noarch/repodata.json, a file:// channel must have one. Asked before a
    build so that an offline machine hears which channel, not "Failed to resolve dependencies"."""
    import urllib.error
    import urllib.request

    url = channel_url(channel)
    if "://" not in url:
        url = f"https://conda.anaconda.org/{url}"
    if url.startswith("file://"):
        folder = pathlib.Path(urllib.request.url2pathname(url[len("file://"):]))
        return None if (folder / "noarch" / "repodata.json").is_file() else \
            f"{folder} is not a conda channel (no noarch/repodata.json)"
    probe = url.rstrip("/") + "/noarch/repodata.json"
    try:
        with urllib.request.urlopen(urllib.request.Request(probe, method="HEAD"), timeout=timeout):
            return None
    except urllib.error.HTTPError as err:
        return None if err.code == 405 else f"{probe} answered HTTP {err.code}"
    except (urllib.error.URLError, OSError) as err:
        return f"{probe} cannot be reached ({getattr(err, 'reason', err)})"


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
