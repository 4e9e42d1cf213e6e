"""Recipes (rattler-build v1, as dicts) for the offline stand-in channel (support/local_channel.py).

Each function returns :class:`StandIn` objects: a recipe that rattler-build
builds into a conda package shaped like its conda-forge namesake (name,
version, build string, depends, run_exports), plus the files staged for it.
Three kinds, recorded in the channel manifest and in docs/conda.md:

* ``repacked``: a PyPI wheel installed into the package (pytorch from the
  local torch wheel, its Python dependencies, pip, scikit-build-core, pybind11,
  cmake and ninja) -- real, working contents;
* ``stand-in``: working but not conda-forge's build (python: a venv-style
  prefix over this machine's interpreter; gxx_linux-64: activation that points
  CXX at the system g++);
* ``metadata-only``: no files, only metadata (python_abi, as on conda-forge;
  the sysroot; pytorch of the older recorded releases and of CUDA; the CUDA toolchain and
  libraries) -- enough for solves and for rendering CUDA variants, not to run.

The pytorch packages are conda-forge's as recorded in recipe/conda-forge-facts.yaml (versions,
build strings, build numbers): no test can pass on a pytorch conda-forge lacks.
"""
from __future__ import annotations

import configparser
import dataclasses
import email.parser
import os
import pathlib
import re
import shutil
import subprocess
import sys
import zipfile
from typing import Any

from packaging.requirements import Requirement
from torchrig_release.conda_forge import PytorchBuild
from torchrig_release.errors import ReleaseError
from packaging.utils import canonicalize_name, parse_wheel_filename
from support.timeouts import COMMAND_S

# PyPI distribution -> conda-forge package, where the names differ.
CONDA_NAMES = {"torch": "pytorch", "typing-extensions": "typing_extensions"}
# Wheels that carry a program rather than a Python package:
# regex on the wheel member -> folder in the conda prefix.
TOOL_WHEELS = {
    "cmake": [(r"cmake/data/(bin|share)/", r"\1/")],
    "ninja": [(r"[^/]+\.data/scripts/", "bin/")],
}
SUMMARY = "torchrig offline stand-in ({kind}) for conda-forge's {name}"


@dataclasses.dataclass
class StandIn:
    """One package of the stand-in channel: its recipe and how real it is."""

    name: str
    version: str
    kind: str  # "repacked" | "stand-in" | "metadata-only"
    recipe: dict[str, Any]


def _recipe(name: str, version: str, kind: str, *, build: dict | None = None,
            requirements: dict | None = None) -> StandIn:
    recipe = {
        "schema_version": 1,
        "package": {"name": name, "version": version},
        "build": {"number": 0, **(build or {})},
        "requirements": requirements or {},
        "about": {"summary": SUMMARY.format(kind=kind, name=name)},
    }
    return StandIn(name, version, kind, recipe)


def metadata_only(name: str, version: str, *, string: str | None = None, depends=(),
                  constrains=(), run_exports: dict | None = None, noarch: str | None = None,
                  host=()) -> StandIn:
    """An empty package with the given metadata (what the solver and run_exports see)."""
    build = {"string": string} if string else {}
    if noarch:
        build["noarch"] = noarch
    requirements = {"host": list(host), "run": list(depends),
                    "run_constraints": list(constrains)}
    if run_exports:
        requirements["run_exports"] = run_exports
    return _recipe(name, version, "metadata-only", build=build, requirements=requirements)


def _copy_stage(stage: pathlib.Path) -> list[str]:
    return [f'cp -a "{stage}/." "$PREFIX/"']


# --- python -----------------------------------------------------------------

def python_standins(stage: pathlib.Path) -> list[StandIn]:
    """python (a venv-like prefix over this interpreter) and python_abi.

    The prefix holds ``bin/pythonX.Y`` -> the machine's interpreter and a
    ``pyvenv.cfg``, so ``<prefix>/bin/python`` uses ``<prefix>/lib/pythonX.Y/
    site-packages``. run_exports and python_abi are conda-forge's.
    """
    base = pathlib.Path(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))
    xy = f"{sys.version_info.major}.{sys.version_info.minor}"
    cp = f"cp{sys.version_info.major}{sys.version_info.minor}"
    version = ".".join(map(str, sys.version_info[:3]))
    (stage / "bin").mkdir(parents=True)
    os.symlink(base, stage / "bin" / f"python{xy}")
    for alias in ("python3", "python"):
        os.symlink(f"python{xy}", stage / "bin" / alias)
    (stage / "pyvenv.cfg").write_text(
        f"home = {base.parent}\ninclude-system-site-packages = false\nversion = {version}\n")
    python = _recipe("python", version, "stand-in", build={
        "string": "h${{ hash }}_0_cpython", "script": _copy_stage(stage)},
        requirements={"run_exports": {"weak": [f"python_abi {xy}.* *_{cp}"]}})
    abi = metadata_only("python_abi", xy, string=f"8_{cp}", constrains=[f"python {xy}.* *_cpython"])
    return [python, abi]


# --- wheels -----------------------------------------------------------------

def conda_name(dist: str) -> str:
    dist = canonicalize_name(dist)
    return CONDA_NAMES.get(dist, dist)


def wheel_metadata(wheel: pathlib.Path) -> dict[str, Any]:
    """Name, version, purity, run requirements and console scripts of a wheel."""
    dist, version, _, tags = parse_wheel_filename(wheel.name)
    with zipfile.ZipFile(wheel) as zf:
        info = next(n.split("/")[0] for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = email.parser.Parser().parsestr(zf.read(f"{info}/METADATA").decode())
        entry_points = configparser.ConfigParser(delimiters=("=",))
        if f"{info}/entry_points.txt" in zf.namelist():
            entry_points.read_string(zf.read(f"{info}/entry_points.txt").decode())
    depends = []
    for line in meta.get_all("Requires-Dist") or []:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            depends.append(f"{conda_name(req.name)} {req.specifier}".strip())
    scripts = (entry_points["console_scripts"] if entry_points.has_section("console_scripts")
               else {})
    return {
        "dist": str(dist), "version": version, "wheel": wheel,
        "pure": all(t.abi == "none" and t.platform == "any" for t in tags),
        "requires_python": meta.get("Requires-Python"),
        "depends": depends,
        "entry_points": [f"{k} = {v}" for k, v in scripts.items()],
    }


def _pip_install(wheel: pathlib.Path) -> list[str]:
    # This machine's pip installs the wheel into the (same-version) prefix;
    # console scripts come back through build.python.entry_points.
    return [f'"{sys.executable}" -m pip install --no-deps --no-index --no-compile '
            f'--disable-pip-version-check --prefix "$PREFIX" "{wheel}"',
            'rm -rf "$PREFIX/bin"']


def python_wheel_standin(meta: dict[str, Any]) -> StandIn:
    """A PyPI wheel as a conda package: noarch: python if pure, else per-platform."""
    name = conda_name(meta["dist"])
    python = f"python {meta['requires_python']}" if meta["requires_python"] else "python"
    build = {"script": _pip_install(meta["wheel"]),
             "python": {"entry_points": meta["entry_points"]}}
    if meta["pure"]:
        build["noarch"] = "python"
    return _recipe(name, meta["version"].public, "repacked", build=build,
                   requirements={"host": ["python"], "run": [python, *meta["depends"]]})


def tool_wheel_standin(meta: dict[str, Any], stage: pathlib.Path) -> StandIn:
    """cmake / ninja: the program and its data files from the wheel, no Python."""
    rules = [(re.compile(pattern), target) for pattern, target in TOOL_WHEELS[meta["dist"]]]
    with zipfile.ZipFile(meta["wheel"]) as zf:
        for member in zf.infolist():
            for pattern, target in rules:
                if member.is_dir() or not pattern.match(member.filename):
                    continue
                dest = stage / pattern.sub(target, member.filename, count=1)
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
                dest.chmod((member.external_attr >> 16) & 0o777 or 0o644)
    return _recipe(meta["dist"], meta["version"].public, "repacked",
                   build={"script": _copy_stage(stage)})


# --- pytorch ----------------------------------------------------------------
# Only the pytorch packages conda-forge has (recipe/conda-forge-facts.yaml, read through
# torchrig_release.conda_forge): its versions, its cpu_/cudaXYZ_ x mkl/generic build strings
# and build numbers. The newest CPU release is real, in both BLAS builds (the machine's one CPU
# wheel, repacked), so whatever a plain solve picks on a GPU-less machine imports; every other
# record is metadata-only and either older (never what a plain solve picks) or a CUDA build
# (requires __cuda, which only the CUDA solve tests set).

def _pytorch(build: "PytorchBuild", depends: list[str], kind: str,
             script: list[str] | None = None, entry_points=()) -> StandIn:
    """pytorch shaped like conda-forge's: build string and number, run_exports pin to x.x."""
    string = build.build_string("${{ hash }}").replace(
        f"_py{build.python.replace('.', '')}_", "_py${{ python | version_to_buildstring }}_")
    build_section: dict[str, Any] = {
        "number": build.number,
        "string": string,
        # 750 MB of prebuilt libraries: nothing to relocate, no prefix to find
        "dynamic_linking": {"binary_relocation": False},
        "prefix_detection": {"ignore": True},
        "python": {"skip_pyc_compilation": ["**/*.py"], "entry_points": list(entry_points)},
    }
    if script:
        build_section["script"] = script
    requirements = {
        "host": ["python"], "run": ["python", *depends],
        # conda-forge's pytorch exports both pins (libtorch is its C++ half)
        "run_exports": {"weak": ["${{ pin_subpackage('pytorch', upper_bound='x.x') }}",
                                 _minor_pin("libtorch", build.version)]},
    }
    return _recipe("pytorch", build.version, kind, build=build_section, requirements=requirements)


def _minor_pin(name: str, version: str) -> str:
    """'libtorch', '2.13.0' -> 'libtorch >=2.13.0,<2.14.0a0' (pin_subpackage x.x)."""
    major, minor = version.split(".")[:2]
    return f"{name} >={version},<{major}.{int(minor) + 1}.0a0"


def _cuda_depends(build: "PytorchBuild") -> list[str]:
    if build.cuda == "None":
        return []
    major = int(build.cuda.split(".")[0])
    return ["__cuda", f"cuda-version >={build.cuda},<{major + 1}"]


def libtorch_standin(build: "PytorchBuild") -> StandIn:
    """libtorch, metadata only: its libraries ship inside the pytorch stand-in (the
    wheel's torch/lib), but the name, build string, number and run_exports are conda-forge's."""
    standin = metadata_only("libtorch", build.version, string=build.libtorch_build_string("${{ hash }}"),
                            depends=_cuda_depends(build),
                            run_exports={"weak": [_minor_pin("libtorch", build.version)]})
    standin.recipe["build"]["number"] = build.number
    return standin


def metapackage_standin(build: "PytorchBuild") -> StandIn:
    """pytorch-cpu / pytorch-gpu: conda-forge's metapackages (empty there too), pinning the
    pytorch build of the same flavour and BLAS."""
    name = "pytorch-cpu" if build.cuda == "None" else "pytorch-gpu"
    string = build.libtorch_build_string("${{ hash }}")  # {flavour}_{blas}_h{hash}_{number}
    standin = metadata_only(name, build.version, string=string, depends=[
        f"pytorch =={build.version} {build.flavour_tag}_{build.blas}_*_{build.number}"])
    standin.recipe["build"]["number"] = build.number
    return standin


def _libtorch_pin(build: "PytorchBuild") -> str:
    return f"libtorch =={build.version} {build.flavour_tag}_{build.blas}_*_{build.number}"


def record_pytorch_standins(builds: list["PytorchBuild"], wheel: dict[str, Any] | None = None,
                            depends=()) -> list[StandIn]:
    """pytorch, libtorch and pytorch-cpu/-gpu for each recorded conda-forge build in ``builds``.

    ``wheel`` (a CPU torch wheel's metadata): CPU builds of its version get its files (real);
    every other build is metadata-only. ``depends``: torch's Python dependencies, as conda
    names (from the wheel, else none).
    """
    if wheel is not None:
        local = wheel["version"].local or "cpu"
        if local != "cpu":
            raise ReleaseError(f"expected a CPU torch wheel (+cpu), got {wheel['wheel'].name}")
    depends = list(wheel["depends"] if wheel is not None else depends)
    out = []
    for build in builds:
        real = wheel is not None and build.cuda == "None" and build.version == wheel["version"].public
        run = [_libtorch_pin(build), *depends, *_cuda_depends(build)]
        out.append(libtorch_standin(build))
        if real:
            out.append(_pytorch(build, run, "repacked", _pip_install(wheel["wheel"]), wheel["entry_points"]))
        else:
            out.append(_pytorch(build, run, "metadata-only"))
        out.append(metapackage_standin(build))
    return out


# --- toolchain --------------------------------------------------------------

def gxx_standins(stage: pathlib.Path, target: str, versions=()) -> list[StandIn]:
    """gxx_<target> whose activation sets CXX/CC to the system compilers, and the
    cxx-compiler metapackage (what ``${{ compiler('cxx') }}`` / pixi ask for).

    One gxx per ``versions`` (variants.yaml's cxx_compiler_version, e.g. "14"), so
    ``gxx_linux-64 14.*`` resolves; each wraps the SYSTEM compiler, whose real
    version is in the build string (``system_gcc12.2.0``). None given: the system's.
    """
    cxx, cc = shutil.which("g++"), shutil.which("gcc")
    if not cxx or not cc:
        raise ReleaseError("no g++/gcc on PATH: the compiler stand-in wraps the system compiler")
    system = subprocess.run([cxx, "-dumpfullversion"], check=True, capture_output=True,
                            text=True, timeout=COMMAND_S).stdout.strip()
    activate = stage / "etc" / "conda" / "activate.d" / f"~gxx_{target}-standin.sh"
    activate.parent.mkdir(parents=True)
    activate.write_text(f'# torchrig offline stand-in: the system compiler (gcc {system})\n'
                        f'export CXX="{cxx}"\nexport CC="{cc}"\n')
    out = [_recipe(f"gxx_{target}", version, "stand-in",
                   build={"string": f"system_gcc{system}_0", "script": _copy_stage(stage)})
           for version in (versions or [system])]
    return [*out, metadata_only("cxx-compiler", "1.0.0", depends=[f"gxx_{target}"])]


def toolchain_standins(target: str, glibcs: list[str], cuda_versions: list[str],
                       cuda_only: list[str], cuda_compiler: str) -> list[StandIn]:
    """Metadata-only toolchain: the sysroots (each exports ``__glibc``), and per CUDA
    version: cuda-version (constrains ``__cuda``), the nvcc compiler package
    (exports cuda-version) and the CUDA libraries the recipe's host lists."""
    out = [metadata_only(f"sysroot_{target}", glibc, noarch="generic",
                         run_exports={"strong": [f"__glibc >={glibc},<3.0.a0"]})
           for glibc in glibcs]
    for cuda in cuda_versions:
        major = int(cuda.split(".")[0])
        pin = f"cuda-version >={cuda},<{major + 1}"
        out.append(metadata_only("cuda-version", cuda, noarch="generic",
                                 constrains=[f"__cuda >={major}"]))
        out.append(metadata_only(f"{cuda_compiler}_{target}", cuda, noarch="generic",
                                 run_exports={"strong": [pin]}))
        out += [metadata_only(name, cuda, depends=[pin]) for name in cuda_only]
    return out
