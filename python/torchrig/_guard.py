"""Import-time ABI guard: refuse a torch the library was not built for.

A torchrig binary calls torch's C++ API, which has no stable ABI across torch
minor versions. Loading it beside another torch ends in ``undefined symbol:
_ZNK3c106SymInt6sym_neERKS0_`` (or worse). The build records what it compiled
against in ``_build_info.json``; :func:`ensure_compatible` compares that with
the running torch *before* the library is loaded and raises an ImportError
that says what was built, what is installed and how to fix it.
"""
from __future__ import annotations

import json
import os
import pathlib
from typing import Any

__all__ = ["BUILD_INFO_PATH", "ensure_compatible", "load_build_info", "mismatch", "minor_of",
           "stable_problems"]

BUILD_INFO_PATH = pathlib.Path(__file__).with_name("_build_info.json")
SKIP_ENV = "TORCHRIG_SKIP_ABI_CHECK"


def minor_of(version: str) -> tuple[int, int]:
    """'2.13.0+cpu' -> (2, 13)."""
    major, minor = version.split("+")[0].split(".")[:2]
    return int(major), int(minor)


def load_build_info(path: pathlib.Path = BUILD_INFO_PATH) -> dict[str, Any]:
    if not path.is_file():
        raise ImportError(
            f"torchrig is missing {path.name} next to its library ({path.parent}); "
            "the installation is incomplete. Reinstall torchrig."
        )
    return json.loads(path.read_text())


def _flavour(cuda: str | None) -> str:
    return f"CUDA {cuda}" if cuda else "CPU"


def stable_problems(info: dict[str, Any], torch_version: str,
                    torch_cuda: str | None) -> list[str]:
    """Why a stable-ABI build (``info["abi"] == "stable"``) cannot load here.

    Such a build loads in every torch from its target on (any minor), so only
    two things matter: torch >= the target, and the flavour: CUDA kernels link
    torch's CUDA library, which a CPU torch lacks, and a CUDA major other than
    the one compiled for has other runtime libraries.
    """
    # From the build record (its writer read _stable_target.py): this module
    # must stay loadable on its own (tools/_abi loads it by path).
    if not info.get("stable_target"):
        return ["its build record has no stable_target; reinstall torchrig"]
    target = minor_of(str(info["stable_target"]))
    problems = []
    if minor_of(torch_version) < target:
        problems.append(f"torch {'.'.join(map(str, minor_of(torch_version)))} is older than "
                        f"{'.'.join(map(str, target))}, the oldest torch this build loads in")
    if info.get("with_cuda"):
        built_major = str(info.get("torch_cuda") or "").split(".")[0]
        if not torch_cuda:
            problems.append(f"it holds CUDA {info.get('torch_cuda')} kernels but this torch is "
                            "a CPU build")
        elif torch_cuda.split(".")[0] != built_major:
            problems.append(f"its CUDA kernels were built for CUDA {built_major}.x but this "
                            f"torch uses CUDA {torch_cuda}")
    return problems


def _stable_message(info: dict[str, Any], torch_version: str, torch_cuda: str | None,
                    problems: list[str]) -> str:
    target = info.get("stable_target")
    flavour = f"CUDA {info.get('torch_cuda')}" if info.get("with_cuda") else "CPU"
    return (
        f"torchrig (stable ABI, {flavour}) loads in torch >= {target}; this environment has "
        f"torch {torch_version} ({_flavour(torch_cuda)}): " + "; ".join(problems) + ".\n"
        f"Fix one of:\n  - pip install 'torch>={target}' (of the same flavour)\n"
        "  - install the torchrig build of your torch's flavour (cpu / cudaXY).\n"
        f"The full build record is {BUILD_INFO_PATH}."
    )


def mismatch(info: dict[str, Any], torch_version: str, torch_cuda: str | None,
             cxx11_abi: bool) -> str | None:
    """Why a build described by ``info`` cannot load in this torch, or None."""
    if info.get("abi") == "stable":
        problems = stable_problems(info, torch_version, torch_cuda)
        return _stable_message(info, torch_version, torch_cuda, problems) if problems else None
    built = info["torch_version"]
    problems = []
    if minor_of(built) != minor_of(torch_version):
        problems.append(f"torch minor {'.'.join(map(str, minor_of(built)))} != "
                        f"{'.'.join(map(str, minor_of(torch_version)))}")
    if info.get("torch_cuda") and not torch_cuda:
        # Built against a CUDA torch, the library links libtorch_cuda / libc10_cuda
        # (CUDA kernels or not), which a CPU torch does not ship.
        problems.append(f"it was built against a CUDA {info['torch_cuda']} torch "
                        "(links torch's CUDA libraries) but this torch is a CPU build")
    if bool(info.get("cxx11_abi", cxx11_abi)) != bool(cxx11_abi):
        problems.append(f"_GLIBCXX_USE_CXX11_ABI {int(info['cxx11_abi'])} != {int(cxx11_abi)}")
    if not problems:
        return None
    want = "{}.{}".format(*minor_of(built))
    have = "{}.{}".format(*minor_of(torch_version))
    return (
        f"torchrig was built for torch {built} ({_flavour(info.get('torch_cuda'))}); "
        f"this environment has torch {torch_version} ({_flavour(torch_cuda)}): "
        + "; ".join(problems) + ".\n"
        "A torchrig binary only loads in the torch minor version it was compiled with. Fix one of:\n"
        f"  - install the torch it was built for:  pip install 'torch>={want},<{minor_of(built)[0]}.{minor_of(built)[1] + 1}'\n"
        f"  - install a torchrig built for torch {have}:  conda install -c <channel> torchrig "
        "(the solver picks the build matching your pytorch), or rebuild from source with "
        "`pip install --no-build-isolation .` in this environment.\n"
        f"The full build record is {BUILD_INFO_PATH}."
    )


def ensure_compatible() -> dict[str, Any]:
    """Raise ImportError unless the running torch can load this build."""
    import torch

    info = load_build_info()
    if os.environ.get(SKIP_ENV) == "1":
        return info
    why = mismatch(info, torch.__version__, torch.version.cuda,
                   bool(torch._C._GLIBCXX_USE_CXX11_ABI))
    if why is not None:
        raise ImportError(why)
    return info
