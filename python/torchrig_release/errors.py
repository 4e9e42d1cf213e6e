"""The one exception type of the release tooling: a message for the user and an exit status."""
from __future__ import annotations

__all__ = ["ReleaseError"]


class ReleaseError(Exception):
    """A refusal or failure, already worded for the user (and free of secrets).

    ``status``: the exit status ``python -m torchrig_release`` ends with
    (1: refused / failed, 2: usage or setup error).
    """

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status
