"""torchrig_release: the release tooling of torchrig (render, build, check, upload, generate).

Not part of the torchrig wheel or conda package. One command line,
``python -m torchrig_release <verb>`` (see :mod:`.main`); each verb is a module
``main_<verb>.py`` with ``configure_parser(sub)`` and ``run(args)``. Helpers raise
:class:`ReleaseError` (which carries the exit status); only :func:`.main.main` exits.
"""
from __future__ import annotations

from .errors import ReleaseError

__all__ = ["ReleaseError"]
