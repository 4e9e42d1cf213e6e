"""The one parser of torch versions: minor and flavour (pure standard library).

# Why here, and loaded by path elsewhere: the import guard needs it at run time, so it lives
# in the library; build_tools/torch_pin.py needs it at build time (torchrig is not installed
# yet) and the release tooling and tests read it from a source tree or an unpacked artifact.
# Those load this file without importing torchrig/__init__ (which loads the compiled _C):
# torchrig_release.paths.library_module("_torch_version"), or importlib by path in
# build_tools/. Keep it free of imports beyond the standard library.
"""
from __future__ import annotations

__all__ = ["DISTRIBUTION", "flavour", "flavour_tag", "minor_of", "minor_text", "requirement"]

# A CUDA wheel must not be paired with a CPU torch: CPU torches carry the local label
# +cpu (download.pytorch.org/whl/cpu), so its requirement excludes X.Y.P+cpu for these P.
CPU_PATCHES_EXCLUDED = range(10)
# The two builds (the build record's "abi", CMake's TORCHRIG_ABI).
ABIS = ("classic", "stable")
# The one distribution name on a package index (docs/publishing.md): one py3-none wheel per
# platform, the stable ABI, CPU kernels and a CUDA kernel library per CUDA major. The four
# flavour names of earlier releases (torchrig-cpu, -cu13, -stable-cpu, -stable-cu13) are retired.
DISTRIBUTION = "torchrig"


def minor_of(version: str) -> tuple[int, int]:
    """'2.13.0+cpu' -> (2, 13); '2.14' -> (2, 14)."""
    parts = str(version).split("+")[0].split(".")
    if len(parts) < 2 or not parts[0].isdigit() or not parts[1].isdigit():
        raise ValueError(f"{version!r} is not a torch version like 2.13.0")
    return int(parts[0]), int(parts[1])


def minor_text(version: str) -> str:
    """'2.13.0+cpu' -> '2.13'."""
    return "{}.{}".format(*minor_of(version))


def requirement(version: str, name: str = "torch", cuda: bool = False) -> str:
    """'2.13.0+cpu' -> 'torch>=2.13,<2.14': the minor a binary built against it loads in.

    ``cuda=True`` (a wheel with CUDA kernels, linking torch's CUDA libraries): CPU torches
    are excluded too, 'torch>=2.14,<2.15,!=2.14.0+cpu,...,!=2.14.9+cpu', so pip refuses to
    pair it with one at resolve time.
    """
    major, minor = minor_of(version)
    text = f"{name}>={major}.{minor},<{major}.{minor + 1}"
    if cuda:
        text += "".join(f",!={major}.{minor}.{p}+cpu" for p in CPU_PATCHES_EXCLUDED)
    return text


def flavour(cuda: str | None) -> str:
    """torch.version.cuda (or a cuda_compiler_version) -> 'CPU' | 'CUDA 13.0'."""
    return "CPU" if cuda in (None, "", "None") else f"CUDA {cuda}"


def flavour_tag(cuda: str | None) -> str:
    """'None' -> 'cpu', '12.9' -> 'cuda129' (the start of a conda build string)."""
    return "cpu" if cuda in (None, "", "None") else "cuda" + str(cuda).replace(".", "")
