#!/usr/bin/env python3
"""Run the GPU tests (``pytest -m gpu``) and fail when they cannot run.

``pixi run test-gpu`` calls this. Without a CUDA device the `gpu` tests skip,
which would let a GPU job pass having tested nothing: here that is an error
(exit 2), and so is a torchrig built without its CUDA kernels. Extra
arguments go to pytest, e.g. ``tools/test_gpu.py -x -k skin``.
"""
from __future__ import annotations

import argparse
import pathlib
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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="tools/test_gpu.py", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="%(prog)s [-h] [pytest arguments ...]")
    _, pytest_args = parser.parse_known_args(argv)
    why = preflight()
    if why is not None:
        print(f"test-gpu: {why}", file=sys.stderr)
        return 2
    import torch

    print(f"test-gpu: {torch.cuda.get_device_name()} (capability "
          f"{'.'.join(map(str, torch.cuda.get_device_capability()))}), torch {torch.__version__}")
    rc = subprocess.call([sys.executable, "-m", "pytest", "-m", "gpu", str(ROOT / "tests"),
                          *pytest_args], cwd=ROOT)
    if rc == 5:  # pytest: no tests collected
        print("test-gpu: no GPU tests were collected", file=sys.stderr)
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
