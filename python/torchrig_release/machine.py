"""The torches of the machines the tools and tests run on: the one owner of these facts.

Machine facts, not release facts: which torch minors are built and shipped is
recipe/variants.yaml's (read through variants.py); these are the torch *wheels* this kind of
machine can install, which the local environment, the sanitizer venv and the cross-version
tests are made of.

* :data:`BUILD_TORCH`: the CPU wheel on the machine's disk (/opt/wheels, cp311): .venv's
  torch (tools/dev-setup), the sanitizer venv's, the torch the scenario wheels are built for;
* :data:`CUDA_TORCH`: the next minor, a CUDA 13 build (``+cu130``) from PyPI (its cp311 wheel
  is also in this machine's index): the cross-version checks, the CUDA compile, the CUDA
  stand-in channel, Python 3.10 (the newest torch with a cp310 wheel);
* :data:`NEWEST_TORCH`: PyPI's newest (``+cu132``; no cp310 wheel): the newest Pythons.

No imports: tools/dev-setup reads it by path, before anything is installed.
"""
BUILD_TORCH = "2.13.0"
CUDA_TORCH = "2.14.1"
NEWEST_TORCH = "2.15.0"

__all__ = ["BUILD_TORCH", "CUDA_TORCH", "NEWEST_TORCH"]
