"""The record of what conda-forge really builds (recipe/conda-forge-facts.yaml): its one reader,
and the comparison of this project's files with it.

The record holds facts read from conda-forge's feedstocks, each with its source: the pytorch
releases per platform, Python and flavour (cpu / CUDA, mkl / generic BLAS), their build strings
and build numbers, run_exports, the CUDA arch lists pytorch exports as CF_TORCH_CUDA_ARCH_LIST,
the toolchain zipped with each CUDA, and conda-forge-pinning's pytorch pin. Users:
``torchrig-release conda-forge`` (the disagreements), the stand-in channels of the tests (they
offer only what the record has) and tests/packaging/test_conda_forge_facts.py.
"""
from __future__ import annotations

import dataclasses
import pathlib
from functools import cache

from . import variants
from .errors import ReleaseError
from .library import torch_version
from .paths import REPO, VARIANTS

__all__ = ["ARCH_TABLE", "FACTS", "PytorchBuild", "arch_table", "cuda_arch_list", "disagreements",
           "load", "minors", "newest_minor", "pytorch_builds"]

FACTS = REPO / "recipe" / "conda-forge-facts.yaml"
ARCH_TABLE = REPO / "cmake" / "cuda-arch-lists.txt"
# The platforms torchrig's conda packages are built for, and the flavours each builds.
BUILT_FLAVOURS = {"linux-64": "all", "osx-arm64": "cpu", "win-64": "cpu"}


@cache
def _load(path: pathlib.Path) -> dict:
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ReleaseError(f"cannot read the conda-forge record {path}: {err}", 2) from err
    if not isinstance(data, dict) or data.get("schema") != 1:
        raise ReleaseError(f"{path}: not a conda-forge record of schema 1", 2)
    for key in ("sources", "pytorch", "build_string", "build_number_offset", "run_exports",
                "cuda_arch_list", "toolchain", "pinning"):
        if key not in data:
            raise ReleaseError(f"{path}: the record lacks `{key}`", 2)
    sources = data["sources"]
    for fact in [*data["pytorch"], data["build_string"], data["run_exports"], data["cuda_arch_list"],
                 *(v for v in data["toolchain"].values()), data["pinning"]]:
        if fact.get("source") not in sources:
            raise ReleaseError(f"{path}: a fact names the source {fact.get('source')!r}, which "
                               f"`sources` lacks ({', '.join(sources)})", 2)
    return data


def load(path: pathlib.Path = FACTS) -> dict:
    """The record as a dict (validated: every fact names a known source)."""
    return _load(path.resolve())


@dataclasses.dataclass(frozen=True)
class PytorchBuild:
    """One pytorch package conda-forge has: ``pytorch 2.13.0 cpu_mkl_py311_h…_102``."""

    version: str            # "2.13.0"
    cuda: str               # "None" or "13.0"
    blas: str               # "mkl" | "generic"
    python: str             # "3.11"
    number: int             # the build number with conda-forge's offsets

    @property
    def flavour_tag(self) -> str:  # "cpu" / "cuda130"
        return torch_version.flavour_tag(self.cuda)

    def build_string(self, hash_: str, record: dict | None = None) -> str:
        form = (record or load())["build_string"]["pytorch"]
        return form.format(flavour=self.flavour_tag, blas=self.blas, py=self.python.replace(".", ""),
                           hash=hash_, number=self.number)

    def libtorch_build_string(self, hash_: str, record: dict | None = None) -> str:
        form = (record or load())["build_string"]["libtorch"]
        return form.format(flavour=self.flavour_tag, blas=self.blas, hash=hash_, number=self.number)


def pytorch_builds(platform: str = "linux-64", python: str | None = None,
                   record: dict | None = None) -> list[PytorchBuild]:
    """Every pytorch package the record lists for ``platform`` (and ``python``), newest first."""
    record = record or load()
    offsets = record["build_number_offset"]
    out = []
    for release in record["pytorch"]:
        for flavour, blases in release["flavours"].get(platform, {}).items():
            cuda = "None" if flavour == "cpu" else str(flavour)
            for blas in blases:
                number = release["build"] + (offsets["cuda"] if cuda != "None" else 0) + \
                    (offsets["mkl"] if blas == "mkl" else 0)
                for py in release["python"]:
                    if python is None or py == python:
                        out.append(PytorchBuild(release["version"], cuda, blas, py, number))
    return out


def minors(platform: str = "linux-64", cuda: str = "None", python: str | None = None,
           record: dict | None = None) -> list[str]:
    """The pytorch minors conda-forge builds for one platform x flavour (x python), oldest first."""
    found = {torch_version.minor_text(b.version) for b in pytorch_builds(platform, python, record)
             if b.cuda == cuda}
    return sorted(found, key=variants.version_key)


def newest_minor(record: dict | None = None) -> str:
    """The newest pytorch minor of the record (on linux-64 CPU)."""
    have = minors(record=record)
    if not have:
        raise ReleaseError(f"{FACTS}: no pytorch for linux-64 cpu", 2)
    return have[-1]


def cuda_arch_list(cuda: str, platform: str = "linux-64", record: dict | None = None) -> str:
    """CF_TORCH_CUDA_ARCH_LIST of conda-forge's pytorch for one CUDA version."""
    lists = (record or load())["cuda_arch_list"].get(platform, {})
    if cuda not in lists:
        raise ReleaseError(f"{FACTS}: no CUDA {cuda} arch list for {platform} ({', '.join(lists)})", 2)
    return lists[cuda]


def arch_table(path: pathlib.Path = ARCH_TABLE) -> dict[str, str]:
    """cmake/cuda-arch-lists.txt as {key: list} (the one arch table)."""
    rows = [line.split() for line in path.read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    bad = [" ".join(r) for r in rows if len(r) != 2]
    if bad:
        raise ReleaseError(f"{path}: lines that are not `<key> <list>`: {bad}", 2)
    return dict(rows)


def disagreements(variants_file: pathlib.Path = VARIANTS, table: pathlib.Path = ARCH_TABLE,
                  record: dict | None = None) -> list[str]:
    """Where variants.yaml and the arch table disagree with the record; [] when they agree."""
    record = record or load()
    out = []
    newest = newest_minor(record)
    for platform, built in BUILT_FLAVOURS.items():
        values = variants.load(variants_file, platform=platform)
        cudas = [c for c in values["cuda_compiler_version"] if built == "all" or c == "None"]
        wanted = set(values["pytorch"]) | set(values.get(variants.STABLE_BUILD_KEY, []))
        for cuda in cudas:
            for python in values["python"]:
                have = minors(platform, cuda, python, record)
                lacking = sorted(wanted - set(have), key=variants.version_key)
                if lacking:
                    flavour = "cpu" if cuda == "None" else f"CUDA {cuda}"
                    out.append(f"{variants_file.name}: pytorch {', '.join(lacking)} for python {python} "
                               f"{flavour} on {platform}: conda-forge builds only "
                               f"{', '.join(have) or 'nothing'} there")
        stable = values.get(variants.STABLE_BUILD_KEY, [])
        if platform == "linux-64" and stable and stable != [newest]:
            out.append(f"{variants_file.name}: the stable build compiles against pytorch "
                       f"{stable[0]}; the newest minor conda-forge builds is {newest}")
    linux = variants.load(variants_file, platform="linux-64")
    downstream = record["toolchain"]["downstream"]["linux-64"]
    zipped = dict(zip(linux["cuda_compiler_version"], zip(linux["cxx_compiler_version"],
                                                          linux["c_stdlib_version"], strict=True),
                      strict=True))
    theirs = dict(zip(map(str, downstream["cuda_compiler_version"]),
                      zip(downstream["cxx_compiler_version"], downstream["c_stdlib_version"], strict=True),
                      strict=True))
    for cuda, (gcc, glibc) in zipped.items():
        if cuda not in theirs:
            out.append(f"{variants_file.name}: cuda_compiler_version {cuda}: conda-forge's pytorch "
                       f"dependents build {', '.join(theirs)} only")
        elif theirs[cuda] != (gcc, glibc):
            out.append(f"{variants_file.name}: CUDA {cuda} zipped with gcc {gcc} / glibc {glibc}; "
                       f"conda-forge's pytorch dependents use gcc {theirs[cuda][0]} / glibc {theirs[cuda][1]}")
    win = variants.load(variants_file, platform="win-64")
    want_vs = record["toolchain"]["downstream"]["win-64"]["cxx_compiler"]
    if win.get("cxx_compiler") != [want_vs]:
        out.append(f"{variants_file.name}: cxx_compiler on win-64 is {win.get('cxx_compiler')}; "
                   f"conda-forge builds with {want_vs} (rattler-build's default is vs2017)")
    arch = arch_table(table)
    for cuda in [c for c in linux["cuda_compiler_version"] if c != "None"]:
        theirs_list = record["cuda_arch_list"]["linux-64"].get(cuda)
        if arch.get(cuda) != theirs_list:
            out.append(f"{table.relative_to(REPO) if table.is_relative_to(REPO) else table}: CUDA {cuda} "
                       f"is {arch.get(cuda)}; conda-forge's pytorch exports CF_TORCH_CUDA_ARCH_LIST="
                       f"{theirs_list}")
    return out
