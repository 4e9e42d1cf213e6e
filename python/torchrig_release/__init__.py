"""torchrig_release: the release tooling of torchrig (render, build, check, upload, generate).

Not part of the torchrig wheel or conda package: a distribution of its own,
torchrig-release (python/pyproject.toml), with one command line, ``torchrig-release <verb>``
or ``python -m torchrig_release <verb>`` (see :mod:`.main`); each verb is a module
``main_<verb>.py`` with ``configure_parser(sub)`` and ``run(args)``. Helpers return data
and raise :class:`ReleaseError` or a subclass (errors.py; it carries the exit status); only the
verbs print, and only :func:`.main.main` exits.
"""
from __future__ import annotations

from .errors import ReleaseError

__all__ = ["ReleaseError"]
