"""Sending wheels to an index with twine; credentials from the environment only.

Username/password (for PyPI a token: ``__token__`` / ``pypi-...``) come from
``TORCHRIG_INDEX_USERNAME`` / ``TORCHRIG_INDEX_PASSWORD``, else twine's own
``TWINE_USERNAME`` / ``TWINE_PASSWORD``; the URL from ``--url`` or ``TORCHRIG_INDEX_URL``.
They reach twine through its environment (never argv: visible in ``ps``); its output is
shown only after the password (as is, URL-encoded, JSON-escaped) is cut out as ``***``.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ..upload.targets import redact
from . import WheelError

__all__ = ["Credentials", "credentials", "twine_upload"]

URL_ENV = "TORCHRIG_INDEX_URL"
PAIRS = (("TORCHRIG_INDEX_USERNAME", "TORCHRIG_INDEX_PASSWORD"), ("TWINE_USERNAME", "TWINE_PASSWORD"))


class Credentials:
    """Who uploads; ``describe()`` never shows the password."""

    def __init__(self, username: str | None, password: str | None, source: str):
        self.username, self._password, self.source = username, password, source

    @property
    def password(self) -> str | None:
        return self._password

    def __repr__(self) -> str:
        return f"Credentials({self.username!r}, ***, {self.source!r})"

    def describe(self) -> str:
        if not self._password:
            return "credentials: NOT set (TORCHRIG_INDEX_USERNAME/PASSWORD or TWINE_USERNAME/PASSWORD)"
        return f"credentials: user {self.username or '__token__'} from ${self.source} (password not shown)"


def credentials(environ=os.environ) -> Credentials:
    for user_var, pass_var in PAIRS:
        if environ.get(pass_var):
            password = environ[pass_var]
            if not (password.isascii() and password.isprintable()):
                raise WheelError(f"${pass_var} is set but holds non-printable characters", 2)
            return Credentials(environ.get(user_var) or "__token__", password, pass_var)
    return Credentials(None, None, "")


def twine_upload(files: list[Path], url: str, creds: Credentials, skip_existing: bool) -> str:
    """Upload ``files``; their (redacted) twine output. WheelError (redacted) on failure."""
    env = {k: v for k, v in os.environ.items() if k not in {v for p in PAIRS for v in p}}
    env.update(TWINE_USERNAME=creds.username or "__token__", TWINE_PASSWORD=creds.password or "",
               TWINE_NON_INTERACTIVE="1")
    cmd = [sys.executable, "-m", "twine", "upload", "--non-interactive", "--disable-progress-bar",
           "--repository-url", url, *(["--skip-existing"] if skip_existing else []),
           *map(str, files)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    text = redact((done.stdout + done.stderr).strip(), creds.password)
    if done.returncode != 0:
        hint = ("the index already has this version: a re-run needs --skip-existing (a changed "
                "wheel needs a new version)" if "409" in text or "already exist" in text.lower()
                else "check the URL and that the user may upload to it")
        raise WheelError(f"upload to {url} failed:\n{text}\n{hint}")
    return text
