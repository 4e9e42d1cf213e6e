"""torchrig: forward kinematics and sparse linear-blend skinning for PyTorch.

Ops live under ``torch.ops.torchrig`` (CPU, and CUDA when compiled in); the
Python surface is :mod:`torchrig.ops`, the rotation conversions in
:mod:`torchrig.rotations`, and the user-level :class:`torchrig.Rig`.
"""
import sys as _sys

from . import _guard

# `python -m torchrig info` is the command the guard's refusal tells users to run, so it
# must work when the guard refuses: while `-m` imports this package, sys.argv is
# ['-m', 'info', ...]. Only then is the refusal kept (_GUARD_REFUSAL) instead of raised,
# and neither the library nor the ops are loaded; torchrig/__main__.py reports it, exit 1.
_GUARD_REFUSAL: "_guard.GuardRefusal | _guard.MissingBuildRecord | None" = None
try:
    BUILD_INFO = _guard.ensure_compatible()  # before the library is loaded
except _guard.GuardRefusal as refusal:
    if _sys.argv[:2] != ["-m", "info"]:
        raise ImportError(str(refusal)) from None  # shown as "ImportError: torchrig was built ..."
    _GUARD_REFUSAL, BUILD_INFO = refusal, refusal.info
except _guard.MissingBuildRecord as missing:
    if _sys.argv[:2] != ["-m", "info"]:
        raise
    _GUARD_REFUSAL, BUILD_INFO = missing, {}  # info says so, without a traceback

if _GUARD_REFUSAL is None:
    try:
        if BUILD_INFO.get("abi") == "stable":  # one library for every torch >= its target
            from . import _stable
            _stable.load(BUILD_INFO)
        else:
            from . import _C  # noqa: F401  (loading it registers the ops)
    except (ImportError, OSError) as exc:  # last line of defence, e.g. a hand-edited build info
        raise ImportError(
            f"torchrig's native library failed to load ({exc}). It was built for torch "
            f"{BUILD_INFO['torch_version']}; check `python -m torchrig info` and install a "
            "torchrig built for the torch in this environment."
        ) from exc

    from . import ops, reference, rotations  # noqa: E402  (registers fake kernels + autograd)
    from .ops import forward_kinematics, skin  # noqa: E402
    from .rig import Rig, compose  # noqa: E402

__version__ = "0.1.0"
__all__ = ["BUILD_INFO", "Rig", "compose", "forward_kinematics", "ops", "reference", "rotations", "skin"]
