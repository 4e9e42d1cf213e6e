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
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from ..credentials import from_environment, redact
from ..errors import WheelError
from .archive import WheelName, normalize

__all__ = ["Credentials", "credentials", "display_url", "existing", "failure_hint", "simple_url", "twine_upload"]

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
    """The first pair of PAIRS whose password is set (user default ``__token__``), else none."""
    secret = from_environment([p for _, p in PAIRS], WheelError,
                              "${name} is set but holds non-printable characters", spaces=True,
                              environ=environ)
    if secret is None:
        return Credentials(None, None, "")
    user_var = dict((p, u) for u, p in PAIRS)[secret.variable]
    return Credentials(environ.get(user_var) or "__token__", secret.value, secret.variable)


def display_url(url: str, password: str | None = None) -> str:
    """``url`` as it may be shown: user info (``user:secret@``) and the password cut out."""
    parts = urllib.parse.urlsplit(url)
    if parts.password or parts.username:
        parts = parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1])
    return redact(urllib.parse.urlunsplit(parts), password)


def simple_url(upload_url: str) -> str:
    """The simple index (PEP 503) that serves what ``upload_url`` receives."""
    known = {"https://upload.pypi.org/legacy/": "https://pypi.org/simple/",
             "https://test.pypi.org/legacy/": "https://test.pypi.org/simple/"}
    return known.get(upload_url, upload_url.rstrip("/").removesuffix("/legacy") + "/simple/")


def existing(files: list[Path], index: str) -> set[str]:
    """The names of ``files`` that the simple index ``index`` already lists (an index without
    the project: none). twine's own --skip-existing works for PyPI only; this, for any index."""
    found: set[str] = set()
    for project in {normalize(WheelName.parse(f).name) for f in files}:
        try:
            with urllib.request.urlopen(f"{index.rstrip('/')}/{project}/", timeout=30) as page:
                text = page.read().decode(errors="replace")
        except urllib.error.HTTPError as err:
            if err.code == 404:
                continue
            raise WheelError(f"cannot read {index}{project}/ (HTTP {err.code}) to skip existing files")
        except OSError as err:
            raise WheelError(f"cannot read {index}{project}/ ({err}) to skip existing files")
        found |= {f.name for f in files if f.name in text}
    return found


def failure_hint(text: str) -> str:
    """What to do about a failed twine upload, from its output."""
    if "409" in text or "already exist" in text.lower():  # pypiserver 409; PyPI "400 File already exists"
        return ("the index already has this version: a re-run needs --skip-existing (a changed "
                "wheel needs a new version)")
    if "400" in text:
        return ("the index refused the upload as malformed (HTTP 400); `twine upload --verbose` "
                "shows the server's reason")
    return "check the URL and that the user may upload to it"


def twine_upload(files: list[Path], url: str, creds: Credentials,
                 skip_existing: bool) -> tuple[int, str]:
    """Upload ``files``: (how many were sent, the redacted twine output). WheelError
    (redacted) on failure.
    ``skip_existing``: files the index lists already are left out (:func:`existing`)."""
    if skip_existing:
        present = existing(files, simple_url(url))
        files = [f for f in files if f.name not in present]
        skipped = "".join(f"Skipping {name}: already on the index\n" for name in sorted(present))
        if not files:
            return 0, skipped.rstrip()
    else:
        skipped = ""
    env = {k: v for k, v in os.environ.items() if k not in {v for p in PAIRS for v in p}}
    env.update(TWINE_USERNAME=creds.username or "__token__", TWINE_PASSWORD=creds.password or "",
               TWINE_NON_INTERACTIVE="1")
    cmd = [sys.executable, "-m", "twine", "--no-color", "upload", "--non-interactive",
           "--disable-progress-bar", "--repository-url", url, *map(str, files)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    text = redact((done.stdout + done.stderr).strip(), creds.password)
    secret_in_url = urllib.parse.urlsplit(url).password
    text = redact(text, secret_in_url)
    if done.returncode != 0:
        hint = failure_hint(text)
        raise WheelError(f"upload to {display_url(url, creds.password)} failed:\n{text}\n{hint}")
    return len(files), skipped + text
