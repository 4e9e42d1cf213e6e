"""The release tooling's exceptions: one base (a message for the user and an exit status),
one subclass per area. Every exception class of the package is defined here."""
from __future__ import annotations

__all__ = ["ArtifactError", "PixiRunError", "ReleaseError", "TorchNotFound", "UploadError", "UsageError", "WheelError"]


class ReleaseError(Exception):
    """A refusal or failure, already worded for the user (and free of secrets).

    ``status``: the exit status ``torchrig-release`` ends with
    (1: refused / failed, 2: usage or setup error).
    """

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


class UsageError(ReleaseError):
    """An unusable argument (exit status 2)."""

    def __init__(self, message: str):
        super().__init__(message, 2)


class ArtifactError(UsageError):
    """The argument is not a usable torchrig artifact (exit status 2)."""


class TorchNotFound(UsageError):
    """A ``--torch`` argument names no usable torch installation (exit status 2)."""


class UploadError(ReleaseError):
    """A refusal or failure of the conda upload, already worded for the user and free of secrets."""


class WheelError(ReleaseError):
    """A refusal or failure of the wheel pipeline, worded for the user and free of secrets."""


class PixiRunError(ReleaseError):
    """`pixi run` would stop before running anything (pixi_run.py); ``kind``: missing,
    ambiguous, prompt or arguments."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
