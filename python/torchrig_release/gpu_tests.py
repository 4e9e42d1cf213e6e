#!/usr/bin/env python3
"""Run the GPU tests (``pytest -m gpu``) and fail when they cannot run.

``pixi run test-gpu`` calls this. Without a CUDA device the `gpu` tests skip,
which would let a GPU job pass having tested nothing: here that is an error
(exit 2), and so is a torchrig built without its CUDA kernels. Extra
arguments go to pytest, e.g. ``tools/test_gpu.py -x -k skin``.

``--memcheck`` runs the op, bad-input and fuzz tests on the GPU under
``compute-sanitizer --tool memcheck`` instead (CUDA's caching allocator off,
so an out-of-bounds access inside a cached block is seen; fewer fuzz
examples, torch.compile tests left out for time); any report fails the run.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def preflight() -> str | None:
    """Why the GPU tests cannot run here, or None."""
    import torch

    if not torch.cuda.is_available():
        return (f"no CUDA device is visible to torch {torch.__version__} "
                f"(torch.version.cuda={torch.version.cuda}); the GPU tests need one. "
                "Run this on a GPU machine with a CUDA build of torch.")
    import torchrig

    if not torchrig._C.compiled_with_cuda():
        return ("torchrig was built without its CUDA kernels; rebuild with "
                "TORCHRIG_CUDA=ON (e.g. TORCHRIG_CUDA=ON pip install --no-build-isolation .)")
    return None


MEMCHECK_TESTS = ("tests/test_ops.py", "tests/test_bad_inputs.py", "tests/test_fuzz.py")


def memcheck_command(sanitizer: str, pytest_args: list[str]) -> tuple[list[str], dict[str, str]]:
    """The compute-sanitizer memcheck run of the GPU op tests: (argv, extra environment)."""
    argv = [sanitizer, "--tool", "memcheck", "--error-exitcode", "1", "--target-processes", "all",
            sys.executable, "-m", "pytest", "-m", "gpu", "-k", "not compile",
            *(str(ROOT / t) for t in MEMCHECK_TESTS), *pytest_args]
    return argv, {"PYTORCH_NO_CUDA_MEMORY_CACHING": "1", "TORCHRIG_FUZZ_EXAMPLES": "200"}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="tools/test_gpu.py", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="%(prog)s [-h] [pytest arguments ...]")
    parser.add_argument("--memcheck", action="store_true",
                        help="run the op tests under compute-sanitizer --tool memcheck")
    args, pytest_args = parser.parse_known_args(argv)
    why = preflight()
    if why is not None:
        print(f"test-gpu: {why}", file=sys.stderr)
        return 2
    import torch

    print(f"test-gpu: {torch.cuda.get_device_name()} (capability "
          f"{'.'.join(map(str, torch.cuda.get_device_capability()))}), torch {torch.__version__}")
    command = [sys.executable, "-m", "pytest", "-m", "gpu", str(ROOT / "tests"), *pytest_args]
    env = dict(os.environ)
    if args.memcheck:
        sanitizer = shutil.which("compute-sanitizer")
        if sanitizer is None:
            print("test-gpu: --memcheck needs compute-sanitizer (CUDA toolkit) on PATH", file=sys.stderr)
            return 2
        command, extra = memcheck_command(sanitizer, pytest_args)
        env.update(extra)
    rc = subprocess.call(command, cwd=ROOT, env=env)
    if rc == 5:  # pytest: no tests collected
        print("test-gpu: no GPU tests were collected", file=sys.stderr)
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
