"""A real package index on 127.0.0.1 for the wheel tests: pypiserver with upload authentication.

pypiserver (from PyPI) lives in its own venv in the machine-wide cache,
``<cache>/venv-pypiserver-<version>``, created on first use and reused afterwards.
``running_index()`` writes an htpasswd file with one user (passlib, apr_md5_crypt), serves an
empty packages folder on a free loopback port (uploads need that user's password, downloads
do not; no fallback redirect to pypi.org; re-uploads of a file are refused), waits until it
answers and always stops it on exit. Its lifetime is bounded (``timeout``), so a killed test
run leaves no server behind for long.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from torchrig_release.paths import cache_entry
from support.timeouts import COMMAND_S

PYPISERVER = "pypiserver==2.3.2"
REQUIREMENTS = [PYPISERVER, "passlib==1.7.4"]
MAX_LIFETIME_S = 1800
_HTPASSWD = ("import os, sys; from passlib.apache import HtpasswdFile; "
             "h = HtpasswdFile(sys.argv[1], new=True, default_scheme='apr_md5_crypt'); "
             "h.set_password(sys.argv[2], os.environ['PYPI_SERVER_PASSWORD']); h.save()")


@dataclasses.dataclass(frozen=True)
class Index:
    """A running index: upload URL, simple-index URL, its user, and where its files lie."""

    url: str            # upload (twine --repository-url)
    simple: str         # pip --index-url
    user: str
    password: str = dataclasses.field(repr=False)
    packages: Path = Path()

    def files(self) -> list[str]:
        """The file names the index holds (read from its folder)."""
        return sorted(p.name for p in self.packages.iterdir() if p.is_file())


def server_python() -> Path:
    """The Python of the cached pypiserver venv (created on first use)."""
    venv = cache_entry(f"venv-{PYPISERVER.replace('==', '-')}")
    py, stamp = venv / "bin" / "python", venv / "torchrig-venv.json"
    if py.exists() and stamp.is_file() and json.loads(stamp.read_text()) == REQUIREMENTS:
        return py
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=COMMAND_S)
    subprocess.run([str(py), "-m", "pip", "install", "-q", *REQUIREMENTS], check=True, timeout=COMMAND_S)
    stamp.write_text(json.dumps(REQUIREMENTS))
    return py


# pypiserver's bottle keeps at most MEMFILE_MAX (100 KiB) of a multipart upload in memory,
# the wheel's part while it is still buffered included: an upload whose metadata fields (the
# README as description, ~23 KB) plus a small wheel (~128 KB, the stable one) cross it is
# refused with "400 Bad Request: MultipartError: Memory limit reached." -- PyPI takes it.
_SERVE = ("import sys\nimport pypiserver.bottle as bottle\n"
          "bottle.BaseRequest.MEMFILE_MAX = 64 * 2**20\n"
          "from pypiserver.__main__ import main\nmain(sys.argv[1:])\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_index(workdir: Path, user: str = "publisher") -> Iterator[Index]:
    """Serve a fresh index from ``workdir`` for the duration of the ``with``."""
    py = server_python()
    packages, htpasswd = workdir / "packages", workdir / "htpasswd"
    packages.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(16)
    subprocess.run([str(py), "-c", _HTPASSWD, str(htpasswd), user], check=True,
                   env={**os.environ, "PYPI_SERVER_PASSWORD": password}, timeout=COMMAND_S)
    port = _free_port()
    log = (workdir / "server.log").open("w")
    proc = subprocess.Popen(
        ["timeout", str(MAX_LIFETIME_S), str(py), "-c", _SERVE, "run", "-i", "127.0.0.1",
         "-p", str(port), "-P", str(htpasswd), "-a", "update", "--disable-fallback", str(packages)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/simple/", timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("pypiserver did not start:\n"
                                       + (workdir / "server.log").read_text()) from None
                time.sleep(0.3)
        yield Index(base + "/", base + "/simple/", user, password, packages)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
