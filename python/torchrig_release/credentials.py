"""Secrets of the release tooling: read from the environment only (never an option: options show
in ``ps`` and shell history), checked, and cut out of any text before it is shown.

The one reader for both uploads: the conda channel tokens (upload/targets.py) and the package
index passwords (wheel/publish.py).
"""
from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import ReleaseError

__all__ = ["Secret", "from_environment", "redact"]


@dataclass(frozen=True)
class Secret:
    """A secret and the variable it came from; its repr never shows it."""

    variable: str
    value: str

    def __repr__(self) -> str:
        return f"Secret({self.variable!r}, ***)"


def from_environment(names: Iterable[str], error: type[ReleaseError], refusal: str, *,
                     spaces: bool = False, environ: Mapping[str, str] = os.environ) -> Secret | None:
    """The first of the variables ``names`` that is set (and not empty) in ``environ``, else None.

    A value that could not be sent as it is, or reliably cut out of error text (not ASCII, not
    printable, or, unless ``spaces``, holding white space) is refused: ``error(refusal, 2)``,
    ``refusal`` naming the variable as ``{name}`` (never the value)."""
    for name in names:
        value = environ.get(name)
        if value:
            if not (value.isascii() and value.isprintable() and (spaces or value.split() == [value])):
                raise error(refusal.format(name=name), 2)
            return Secret(name, value)
    return None


def redact(text: str, secret: str | None) -> str:
    """``text`` with ``secret`` (as is, URL-encoded or JSON-escaped) replaced by ``***``."""
    if not secret:
        return text
    forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret),
             json.dumps(secret)[1:-1]}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "***")
    return text
