"""The GPU test run (``pytest -m gpu``) that fails when it cannot run (the `test-gpu` verb).

``pixi run test-gpu`` calls it. Without a CUDA device the `gpu` tests skip,
which would let a GPU job pass having tested nothing: here that is an error
(exit 2), and so is a torchrig built without its CUDA kernels. Extra
arguments go to pytest, e.g. ``torchrig-release test-gpu -x -k skin``.

``--memcheck`` runs the op, bad-input and fuzz tests on the GPU under
``compute-sanitizer --tool memcheck`` instead (CUDA's caching allocator off,
so an out-of-bounds access inside a cached block is seen; fewer fuzz
examples, torch.compile tests left out for time); any report fails the run.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys

from .errors import ReleaseError
from .paths import REPO as ROOT
from .sanitize import SANITIZER_TESTS

log = logging.getLogger(__name__)
# The test files that hold `gpu`-marked tests (tests/packaging/test_gpu_check.py checks the list
# against pytest's own selection): naming them keeps the run from collecting the packaging
# tests, whose imports (pyelftools, yaml, the conda tooling) a GPU machine need not have.
GPU_TESTS = ("tests/unit/test_gpu.py", "tests/unit/test_ops.py", "tests/unit/test_fuzz.py",
             "tests/unit/test_joint_transforms.py")


def preflight() -> str | None:
    """Why the GPU tests cannot run here, or None."""
    import torch

    if not torch.cuda.is_available():
        return (f"no CUDA device is visible to torch {torch.__version__} "
                f"(torch.version.cuda={torch.version.cuda}); the GPU tests need one. "
                "Run this on a GPU machine with a CUDA build of torch.")
    import torchrig
    from torchrig import _stable

    if _stable.loaded():  # the one wheel: the CUDA library of this torch's CUDA major, if it holds one
        if not _stable.compiled_with_cuda():
            return (f"torchrig has no CUDA kernel library for this torch's CUDA {torch.version.cuda} "
                    f"(it holds: {', '.join(sorted(torchrig.BUILD_INFO.get('cuda_libraries') or {})) or 'none'}); "
                    "rebuild with TORCHRIG_ABI=stable TORCHRIG_CUDA=ON and nvcc of that major")
    elif not torchrig._C.compiled_with_cuda():
        return ("torchrig was built without its CUDA kernels; rebuild with "
                "TORCHRIG_CUDA=ON (e.g. TORCHRIG_CUDA=ON pip install --no-build-isolation .)")
    return None


def gpu_tests_command(pytest_args: list[str], python: str = sys.executable) -> list[str]:
    """``pytest -m gpu`` over :data:`GPU_TESTS` (run it in the repository root)."""
    return [python, "-m", "pytest", "-m", "gpu", *(str(ROOT / t) for t in GPU_TESTS), *pytest_args]


def memcheck_command(sanitizer: str, pytest_args: list[str],
                     python: str = sys.executable) -> tuple[list[str], dict[str, str]]:
    """The compute-sanitizer memcheck run of the GPU op tests: (argv, extra environment)."""
    argv = [sanitizer, "--tool", "memcheck", "--error-exitcode", "1", "--target-processes", "all",
            python, "-m", "pytest", "-m", "gpu", "-k", "not compile",
            *(str(ROOT / t) for t in SANITIZER_TESTS), *pytest_args]
    return argv, {"PYTORCH_NO_CUDA_MEMORY_CACHING": "1", "TORCHRIG_FUZZ_EXAMPLES": "200"}


def device_line() -> str:
    """``test-gpu: <device> (capability X.Y), torch <version>``; ReleaseError (status 2) when
    the GPU tests cannot run here (:func:`preflight`)."""
    why = preflight()
    if why is not None:
        raise ReleaseError(f"test-gpu: {why}", 2)
    import torch

    return (f"test-gpu: {torch.cuda.get_device_name()} (capability "
            f"{'.'.join(map(str, torch.cuda.get_device_capability()))}), torch {torch.__version__}")


def run_gpu_tests(memcheck: bool, pytest_args: list[str]) -> int:
    """pytest's exit status (call :func:`device_line` first: it refuses a machine without a GPU)."""
    command = gpu_tests_command(pytest_args)
    env = dict(os.environ)
    if memcheck:
        sanitizer = shutil.which("compute-sanitizer")
        if sanitizer is None:
            raise ReleaseError("test-gpu: --memcheck needs compute-sanitizer (CUDA toolkit) on PATH", 2)
        command, extra = memcheck_command(sanitizer, pytest_args)
        env.update(extra)
    rc = subprocess.call(command, cwd=ROOT, env=env)
    if rc == 5:  # pytest: no tests collected
        raise ReleaseError("test-gpu: no GPU tests were collected")
    return rc
