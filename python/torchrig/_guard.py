"""Import-time ABI guard: refuse a torch the library was not built for.

A torchrig binary calls torch's C++ API, which has no stable ABI across torch
minor versions. Loading it beside another torch ends in ``undefined symbol:
_ZNK3c106SymInt6sym_neERKS0_`` (or worse). The build records what it compiled
against in ``_build_info.json``; :func:`problems` compares that with a torch
(:class:`TorchEnv`) and returns what is wrong as data, :func:`format_problems`
words it for people, and :func:`ensure_compatible` raises :class:`GuardRefusal`
(an ImportError) *before* the library is loaded. The release tooling's abi-check
reads the same list from an artifact's own copy of this file.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
from typing import Any

from ._torch_version import DISTRIBUTION, flavour, minor_of, minor_text, requirement

__all__ = ["BUILD_INFO_PATH", "GuardRefusal", "Problem", "TorchEnv", "ensure_compatible",
           "format_problems", "load_build_info", "mismatch", "minor_of", "problems",
           "stable_problems"]

BUILD_INFO_PATH = pathlib.Path(__file__).with_name("_build_info.json")
SKIP_ENV = "TORCHRIG_SKIP_ABI_CHECK"


@dataclasses.dataclass(frozen=True)
class TorchEnv:
    """The facts of a torch the guard compares a build with."""

    version: str           # torch.__version__, e.g. '2.14.1+cu130'
    cuda: str | None       # torch.version.cuda; None for a CPU build
    cxx11_abi: bool        # torch._C._GLIBCXX_USE_CXX11_ABI

    @classmethod
    def running(cls) -> TorchEnv:
        """The torch imported in this process."""
        import torch

        return cls(torch.__version__, torch.version.cuda, bool(torch._C._GLIBCXX_USE_CXX11_ABI))


@dataclasses.dataclass(frozen=True)
class Problem:
    """One reason a build cannot load in a torch: ``kind`` for programs, ``message`` for people."""

    kind: str      # "torch-minor" | "cuda-torch" | "cuda-major" | "cxx11-abi"; stable builds:
                   # "stable-record" | "torch-too-old"; stable records from before the one wheel
                   # (no "cuda_libraries"): "cuda-kernels-cpu-torch" | "cuda-major"
    message: str


class GuardRefusal(ImportError):
    """``import torchrig`` refused: the build record, the torch, and the problems found."""

    def __init__(self, info: dict[str, Any], torch_env: TorchEnv, found: list[Problem]):
        super().__init__(format_problems(info, torch_env, found))
        self.info, self.torch_env, self.problems = info, torch_env, found


class MissingBuildRecord(ImportError):
    """No ``_build_info.json`` beside the package: a source tree, or an incomplete install."""


def load_build_info(path: pathlib.Path = BUILD_INFO_PATH) -> dict[str, Any]:
    if not path.is_file():
        raise MissingBuildRecord(
            f"torchrig is missing {path.name} next to its library ({path.parent}): the "
            "installation is incomplete, or this is torchrig's source tree, which the build "
            "writes it into the installed copy of. Reinstall torchrig (pip install torchrig), or "
            "build it into this environment: pip install --no-build-isolation ."
        )
    return json.loads(path.read_text())


def stable_problems(info: dict[str, Any], torch_env: TorchEnv) -> list[Problem]:
    """Why a stable-ABI build (``info["abi"] == "stable"``) cannot load in ``torch_env``.

    Such a build loads in every torch from its target on (any minor, CPU or any CUDA major):
    its CPU library links no CUDA library, and of its CUDA kernel libraries (``cuda_libraries``,
    one per CUDA major) only the one of the running torch's major is loaded (torchrig._stable).
    So only torch >= the target matters. A stable record without ``cuda_libraries`` (built
    before the one wheel: CUDA kernels inside the one library) also needs the flavour to match.
    """
    # The target comes from the build record (its writer read _stable_target.py): this
    # module must stay loadable on its own (abi-check loads an artifact's copy by path).
    if not info.get("stable_target"):
        return [Problem("stable-record", "its build record has no stable_target; reinstall torchrig")]
    target = minor_of(str(info["stable_target"]))
    found = []
    if minor_of(torch_env.version) < target:
        found.append(Problem("torch-too-old",
                             f"torch {minor_text(torch_env.version)} is older than "
                             f"{minor_text(str(info['stable_target']))}, the oldest torch this "
                             "build loads in"))
    if info.get("with_cuda") and "cuda_libraries" not in info:
        built_major = str(info.get("torch_cuda") or "").split(".")[0]
        if not torch_env.cuda:
            found.append(Problem("cuda-kernels-cpu-torch",
                                 f"it holds CUDA {info.get('torch_cuda')} kernels but this torch "
                                 "is a CPU build"))
        elif torch_env.cuda.split(".")[0] != built_major:
            found.append(Problem("cuda-major",
                                 f"its CUDA kernels were built for CUDA {built_major}.x but this "
                                 f"torch uses CUDA {torch_env.cuda}"))
    return found


def problems(info: dict[str, Any], torch_env: TorchEnv) -> list[Problem]:
    """Why a build described by ``info`` cannot load in ``torch_env`` (empty: it can)."""
    if info.get("abi") == "stable":
        return stable_problems(info, torch_env)
    found = []
    built = info["torch_version"]
    if minor_of(built) != minor_of(torch_env.version):
        found.append(Problem("torch-minor", f"torch minor {minor_text(built)} != "
                                            f"{minor_text(torch_env.version)}"))
    if info.get("torch_cuda") and info.get("links_torch_cuda", True) and not torch_env.cuda:
        # Built against a CUDA torch, a library linking libtorch_cuda / libc10_cuda (CUDA
        # builds; CPU builds recorded before links_torch_cuda) cannot load in a CPU torch.
        found.append(Problem("cuda-torch", f"it was built against a CUDA {info['torch_cuda']} torch "
                                           "(links torch's CUDA libraries) but this torch is a CPU build"))
    elif (info.get("torch_cuda") and info.get("links_torch_cuda", True) and torch_env.cuda
          and str(info["torch_cuda"]).split(".")[0] != str(torch_env.cuda).split(".")[0]):
        # Same minor, other CUDA major (2.14.1+cu126 beside a build of 2.14.1+cu130): the library
        # needs libcudart.so.<its major>, which this torch does not bring.
        found.append(Problem("cuda-major", f"it was built against a CUDA {info['torch_cuda']} torch "
                                           f"(needs the CUDA {str(info['torch_cuda']).split('.')[0]} "
                                           f"runtime) but this torch uses CUDA {torch_env.cuda}"))
    if bool(info.get("cxx11_abi", torch_env.cxx11_abi)) != bool(torch_env.cxx11_abi):
        found.append(Problem("cxx11-abi", f"_GLIBCXX_USE_CXX11_ABI {int(info['cxx11_abi'])} != "
                                          f"{int(torch_env.cxx11_abi)}"))
    return found


def _stable_target() -> tuple[int, int] | None:
    """The stable build's target (_stable_target.py) for the classic refusal's advice; None
    where this module was loaded with _torch_version.py only (as abi-check may load an
    artifact's copy): the advice then names no version, nothing else depends on it."""
    try:
        from ._stable_target import STABLE_TORCH_TARGET
    except ImportError:
        return None
    return STABLE_TORCH_TARGET


def format_problems(info: dict[str, Any], torch_env: TorchEnv, found: list[Problem]) -> str:
    """The refusal as people read it: what was built, what is here, the problems, how to fix.

    The one distribution on a package index is ``torchrig`` (one py3-none wheel per platform:
    the stable ABI, CPU kernels and a CUDA kernel library per CUDA major, every torch >= 2.10):
    the advice names only it, never a name nobody publishes."""
    if info.get("abi") == "stable":
        target = info.get("stable_target")
        return (
            f"torchrig (stable ABI) loads in torch >= {target}; this environment has torch "
            f"{torch_env.version} ({flavour(torch_env.cuda)}): "
            + "; ".join(p.message for p in found) + ".\n"
            f"Fix one of:\n  - pip install 'torch>={target}'\n"
            f"  - reinstall torchrig's one wheel, which holds CPU kernels and a CUDA kernel library "
            f"per CUDA major:  pip install --force-reinstall --no-deps {DISTRIBUTION}\n"
            f"The full build record is {BUILD_INFO_PATH}."
        )
    built = info["torch_version"]
    target = _stable_target()
    if target and minor_of(torch_env.version) >= target:
        wheel = (f"  - install torchrig's wheel from the package index, one wheel for every torch >= "
                 f"{target[0]}.{target[1]} (CPU or CUDA):  pip install --force-reinstall --no-deps "
                 f"{DISTRIBUTION}\n")
    else:
        wheel = (f"  - or upgrade torch and install torchrig's wheel from the package index:  "
                 f"pip install {DISTRIBUTION} 'torch>={target[0]}.{target[1]}'\n" if target else "")
    return (
        f"torchrig was built for torch {built} ({flavour(info.get('torch_cuda'))}); "
        f"this environment has torch {torch_env.version} ({flavour(torch_env.cuda)}): "
        + "; ".join(p.message for p in found) + ".\n"
        "This torchrig is a classic build (conda package or source build), which only loads in "
        "the torch minor version and CUDA major it was compiled with. Fix one of:\n"
        f"  - install the torch it was built for:  pip install '{requirement(built)}'\n"
        + wheel +
        f"  - conda install -c <channel> torchrig (one build per pytorch minor), or rebuild from "
        "source in this environment:  pip install --no-build-isolation .\n"
        f"The full build record is {BUILD_INFO_PATH}."
    )


def mismatch(info: dict[str, Any], torch_version: str, torch_cuda: str | None,
             cxx11_abi: bool) -> str | None:
    """:func:`format_problems` of :func:`problems`, or None when the build loads."""
    torch_env = TorchEnv(torch_version, torch_cuda, cxx11_abi)
    found = problems(info, torch_env)
    return format_problems(info, torch_env, found) if found else None


def ensure_compatible() -> dict[str, Any]:
    """Raise GuardRefusal unless the running torch can load this build."""
    import torch  # noqa: F401  (loaded first in any case: the library links against it)

    info = load_build_info()
    torch_env = TorchEnv.running()
    found = problems(info, torch_env)
    if found and os.environ.get(SKIP_ENV) == "1":  # loading anyway: said, never silent
        import warnings

        warnings.warn(f"{SKIP_ENV}=1: loading torchrig although the import guard refuses this "
                      f"torch ({'; '.join(p.message for p in found)}); expect undefined symbols "
                      f"or wrong results. Unset {SKIP_ENV} to restore the check.",
                      RuntimeWarning, stacklevel=3)
        return info
    if found:
        raise GuardRefusal(info, torch_env, found)
    return info
