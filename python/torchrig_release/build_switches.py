"""The build options that change what is built, as command-line options of the build verbs.

TORCHRIG_ABI (classic | stable) and TORCH_CUDA_ARCH_LIST reach CMake as environment
variables (pyproject.toml). Under pixi a shell variable never reaches the task cache
(pixi_run.py: pixi hashes the task's command, arguments, files and environment, not the
shell), so `build` and `build-wheel` take them as task arguments that pixi.toml passes to
these options; a shell variable that says otherwise is refused, never silently overridden.
TORCHRIG_CUDA is not among them: it belongs to the pixi environment (its activation
variables, which pixi does hash).
"""
from __future__ import annotations

import argparse
import os

from .errors import UsageError

__all__ = ["ABIS", "OPTIONS", "add_arguments", "apply"]

ABIS = ("classic", "stable")
OPTIONS = {"TORCHRIG_ABI": "--abi", "TORCH_CUDA_ARCH_LIST": "--cuda-arch-list"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    """--abi and --cuda-arch-list (both default to the environment variable, if set)."""
    p.add_argument("--abi", choices=ABIS, default=None,
                   help="classic (one torch minor) or stable (torch's stable ABI); "
                        "default: $TORCHRIG_ABI, else classic")
    p.add_argument("--cuda-arch-list", default=None, metavar="LIST",
                   help="TORCH_CUDA_ARCH_LIST of the CUDA kernels, e.g. '9.0;12.0+PTX'; an empty "
                        "value means the default of cmake/cuda-arch-lists.txt; default: "
                        "$TORCH_CUDA_ARCH_LIST")


def apply(args: argparse.Namespace) -> dict[str, str]:
    """Put the options into this process's environment (for pip and CMake) and return the
    switches in force. UsageError when a variable already set says otherwise."""
    for variable, value in (("TORCHRIG_ABI", args.abi), ("TORCH_CUDA_ARCH_LIST", args.cuda_arch_list)):
        if value is None:
            continue
        shell = os.environ.get(variable, "")
        if shell and shell != value:
            raise UsageError(
                f"{variable}={shell} is set in the environment, but {OPTIONS[variable]} asks for "
                f"{value!r}. Under pixi give it as the task's argument (e.g. `pixi run build stable`, "
                f"`pixi run -e wheel-cpu build-wheel stable '9.0;12.0+PTX'`): a shell variable never "
                f"reaches pixi's task cache. Outside pixi use one of the two, or make them agree.")
        os.environ[variable] = value
    return {v: os.environ[v] for v in OPTIONS if os.environ.get(v)}
