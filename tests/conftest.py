"""Shared pytest options: slow packaging suites are opt-in locally, on in CI.

`slow`-marked tests (conda builds, cross-version venvs, the CUDA compile) run
with ``--run-slow`` or ``TORCHRIG_RUN_SLOW=1`` (.ci/run sets it). `gpu` tests
skip cleanly when no CUDA device is present.
"""
from __future__ import annotations

import os

import pytest

try:  # setuptools first: Inductor's C++ builds import it late, and by then a packaging test
    # may have pulled in the standard library's distutils, which setuptools' distutils shim
    # then refuses (AssertionError: .../distutils/core.py in torch.compile tests)
    import setuptools  # noqa: F401
except ImportError:  # a venv without setuptools (the stable-ABI scenarios' copies of the tests)
    pass
import torch


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run the slow packaging suites (conda, scenario, cudabuild)")


def pytest_collection_modifyitems(config, items):
    run_slow = config.getoption("--run-slow") or os.environ.get("TORCHRIG_RUN_SLOW") == "1"
    skip_slow = pytest.mark.skip(reason="slow suite: use --run-slow or TORCHRIG_RUN_SLOW=1")
    skip_gpu = pytest.mark.skip(reason="no CUDA device available")
    has_gpu = torch.cuda.is_available()
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(skip_slow)
        if "gpu" in item.keywords and not has_gpu:
            item.add_marker(skip_gpu)
