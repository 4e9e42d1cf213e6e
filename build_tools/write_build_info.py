"""Write torchrig/_build_info.json at CMake configure time.

Records the torch the extension is compiled against (the one importable by
the Python running CMake) and the toolchain, so that ``import torchrig`` can
refuse a mismatched torch before loading the library (python/torchrig/_guard.py).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib

import torch


def collect(args: argparse.Namespace) -> dict:
    cuda = args.cuda == "1"
    return {
        "torch_version": torch.__version__,
        "torch_git_version": torch.version.git_version,
        "torch_cuda": torch.version.cuda,
        "cxx11_abi": bool(torch._C._GLIBCXX_USE_CXX11_ABI),
        "with_cuda": cuda,
        # cmake/torch.cmake: only a CUDA build links torch's CUDA libraries (libtorch_cuda,
        # libc10_cuda); a CPU build loads in a CPU torch even when compiled against a CUDA one.
        # stable builds: the CPU library links none (the CUDA kernel libraries do, cuda_libraries)
        "links_torch_cuda": cuda and args.abi == "classic",
        "cuda_compiler_version": args.nvcc or None if cuda else None,
        "cuda_arch_list": args.arch_list or None if cuda else None,
        "compiler": args.compiler,
        "sanitize": args.sanitize or None,
        "build_date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        # Set by conda-build/rattler-build; None for a pip build.
        "conda_build": os.environ.get("PKG_BUILD_STRING"),
        # classic: loads in torch_version's minor only; stable: in every torch
        # >= stable_target (python/torchrig/_stable_target.py).
        "abi": args.abi,
        "stable_target": args.stable_target or None if args.abi == "stable" else None,
        # stable builds: the CUDA kernel library of each CUDA major, by major (cmake/stable_cuda.cmake;
        # torchrig-release merge-wheels joins those of several wheels); python/torchrig/_stable.py
        # loads the one of the running torch's CUDA major, none for a CPU torch.
        "cuda_libraries": cuda_libraries(args.cuda_library) if args.abi == "stable" else None,
    }


def cuda_libraries(record: str) -> dict:
    """'13|libtorchrig_stable_cuda13.so|13.0.88|7.5,8.0' -> {'13': {library, nvcc, arch_list}}."""
    if not record:
        return {}
    major, library, nvcc, arch_list = record.split("|")
    return {major: {"library": library, "nvcc": nvcc, "arch_list": arch_list.replace(",", ";")}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", required=True, type=pathlib.Path)
    p.add_argument("--compiler", default="")
    p.add_argument("--cuda", default="0")
    p.add_argument("--nvcc", default="")
    p.add_argument("--arch-list", default="")
    p.add_argument("--sanitize", default="")
    p.add_argument("--abi", choices=["classic", "stable"], default="classic")
    p.add_argument("--stable-target", default="", help="e.g. 2.10 (stable builds)")
    p.add_argument("--cuda-library", default="",
                   help="stable builds: MAJOR|FILE|NVCC|ARCHS of the CUDA kernel library, if any")
    args = p.parse_args()
    args.out.write_text(json.dumps(collect(args), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
