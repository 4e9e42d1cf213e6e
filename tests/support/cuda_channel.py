#!/usr/bin/env python3
"""Build (or reuse) the offline CUDA 13 stand-in channel in the machine-wide cache.

What a CUDA build of recipe/recipe.yaml needs beyond the CPU stand-in channel
(tests/support/local_channel.py), as packages shaped like their conda-forge namesakes
(name, version, build string, depends, run_exports):

* ``pytorch`` 2.13.0 ``cuda130_mkl_py311_h…_302``: the newest CUDA 13.0 build conda-forge
  has (recipe/conda-forge-facts.yaml: version, build string, build number), made from PyPI's
  torch 2.13.0 wheel (a CUDA 13.0 build, downloaded once into the cache entry
  ``wheels-torch2.13.0-cp311-manylinux_2_28_x86_64``), depending on ``__cuda``,
  ``cuda-version >=13,<14``, ``libtorch`` of the same build and one package per NVIDIA
  library, exporting ``pytorch`` and ``libtorch >=2.13.0,<2.14.0a0``; its activation sets
  ``CF_TORCH_CUDA_ARCH_LIST`` to the record's list for CUDA 13.0, as conda-forge's does.
  Consumers solve this channel first with strict priority, so it shadows the CPU channel's
  metadata-only CUDA records of the same build. The pip metadata lines naming the NVIDIA wheels, triton
  and cuda-bindings are dropped (conda-forge's pytorch has none; the conda
  depends carry them), so ``pip check`` holds;
* ``libtorch`` 2.13.0 ``cuda130_mkl_h…_302``: metadata only (the C++ libraries are in the
  wheel, hence in ``pytorch``);
* the NVIDIA libraries split the way conda-forge splits them: a runtime package
  (``libcublas``, ``cuda-cudart``, ``cuda-nvrtc``, ``cudnn``, ``nccl``, …: the
  wheel's ``lib/``) and, where torch's CMake config needs headers, a ``-dev``
  package (``libcublas-dev``, …, ``cuda-nvtx-dev``: the wheel's ``include/``)
  that exports its runtime package. Files keep the wheel layout
  (``site-packages/nvidia/cu13/…``) because the wheel's torch finds its
  libraries there through its RPATH; so these stand-ins are per-Python;
* ``cuda-version`` 13.0 and ``cuda-nvcc_linux-64`` 13.0.x, whose activation
  points ``CUDACXX`` at this machine's nvcc (``CUDA_HOME``, default
  /usr/local/cuda) and exports ``cuda-version >=13.0,<14``.

Packages are compressed with zstd level 1 (``conda:1``): 5 GB of libraries.
The channel lives in ``$TORCHRIG_CACHE`` (default ~/.cache/torchrig) as
``conda-channel-cuda13.0-torch2.13.0-py3.11``, shared by every checkout; its
manifest records a key of the inputs (this file, the wheels, nvcc, the Python)
and it is rebuilt only when the key changes (under a file lock). Prints the
channel path (--json: the manifest).
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import pathlib
import re
import shutil
import subprocess
import sys
import zipfile

from torchrig_release import conda_forge
from torchrig_release.conda import build as conda_build
from torchrig_release.conda import channel as conda_channel
from torchrig_release.errors import ReleaseError
from torchrig_release.paths import cache_entry

from support import standins as si
from support.timeouts import COMMAND_S

log = logging.getLogger("cuda_channel")

CUDA = "13.0"
TARGET = "linux-64"
PYTHON = "3.11"  # the wheels are cp311
# The conda-forge build this channel makes real: the one a plain solve picks there (the
# newest version, mkl: the highest build number) for CUDA 13.0 and this Python.
BUILD = max((b for b in conda_forge.pytorch_builds(TARGET, PYTHON) if b.cuda == CUDA),
            key=lambda b: (tuple(map(int, b.version.split("."))), b.number))
TORCH = BUILD.version
MANIFEST = "torchrig-channel.json"
MARKER = ".torchrig-standin-channel"
# What conda-forge's pytorch sets for CUDA 13.0 in its activation script (the record).
CF_TORCH_CUDA_ARCH_LIST = conda_forge.cuda_arch_list(CUDA, TARGET)
# NVIDIA wheels whose exact pin (torch's METADATA) the pip indexes lack: the local wheel of the
# same major stands in (same sonames: libcudnn.so.9, libnccl.so.2). conda-forge's own CUDA
# pytorch takes these from its own cudnn/nccl packages, whose versions are not ours to copy.
SAME_MAJOR = ("nvidia-cudnn-cu13", "nvidia-nccl-cu13")
TORCH_WHEEL = f"torch-{TORCH}-cp311-cp311-manylinux_2_28_x86_64.whl"
# torch's pip requirements that are CUDA runtime pieces (the conda depends carry them).
DROP_REQUIRES = r"^Requires-Dist: (nvidia-|cuda-toolkit|cuda-bindings|triton)"
# PyPI wheel -> (conda-forge runtime package, conda-forge -dev package or None).
# -dev packages only where torch's CMake config or ATen's headers need them.
NVIDIA = {
    "nvidia-cuda-runtime": ("cuda-cudart", "cuda-cudart-dev"),
    "nvidia-cuda-nvrtc": ("cuda-nvrtc", "cuda-nvrtc-dev"),
    "nvidia-cublas": ("libcublas", "libcublas-dev"),
    "nvidia-cufft": ("libcufft", "libcufft-dev"),
    "nvidia-curand": ("libcurand", "libcurand-dev"),
    "nvidia-cusolver": ("libcusolver", "libcusolver-dev"),
    "nvidia-cusparse": ("libcusparse", "libcusparse-dev"),
    "nvidia-nvtx": ("cuda-nvtx", "cuda-nvtx-dev"),
    "nvidia-cuda-cupti": ("cuda-cupti", None),
    "nvidia-cufile": ("libcufile", None),
    "nvidia-nvjitlink": ("libnvjitlink", None),
    "nvidia-cudnn-cu13": ("cudnn", None),
    "nvidia-cusparselt-cu13": ("cusparselt", None),
    "nvidia-nccl-cu13": ("nccl", None),
    "nvidia-nvshmem-cu13": ("libnvshmem3", None),
}
# The extras of torch's `cuda-toolkit[...]` requirement are the cu13 wheels above.
TOOLKIT_EXTRA = {"cublas": "nvidia-cublas", "cudart": "nvidia-cuda-runtime",
                 "cufft": "nvidia-cufft", "cufile": "nvidia-cufile",
                 "cupti": "nvidia-cuda-cupti", "curand": "nvidia-curand",
                 "cusolver": "nvidia-cusolver", "cusparse": "nvidia-cusparse",
                 "nvjitlink": "nvidia-nvjitlink", "nvrtc": "nvidia-cuda-nvrtc",
                 "nvtx": "nvidia-nvtx"}




def default_channel_dir() -> pathlib.Path:
    xy = f"{sys.version_info.major}.{sys.version_info.minor}"
    return cache_entry(f"conda-channel-cuda{CUDA}-torch{TORCH}-py{xy}")


# --- the wheels -------------------------------------------------------------

def local_indexes() -> list[str]:
    """pip's configured index URLs that are local folders (file://), as pip options:
    ranges such as nvjitlink's ``>=13.0.88,<14`` must resolve to the wheel on disk."""
    proc = subprocess.run([sys.executable, "-m", "pip", "config", "list"], check=True,
                          capture_output=True, text=True, timeout=COMMAND_S)
    urls = []
    for line in proc.stdout.splitlines():
        key, _, value = line.partition("=")
        if key.endswith("index-url"):
            urls += [u for u in value.strip("'\"").split() if u.startswith("file://")]
    if not urls:
        return []
    return ["--index-url", urls[0], *[a for u in urls[1:] for a in ("--extra-index-url", u)]]


def torch_wheel() -> pathlib.Path:
    """PyPI's torch TORCH cp311 wheel (its Linux wheels are CUDA 13.0 builds), downloaded once
    into the cache entry ``wheels-torch<TORCH>-cp311-manylinux_2_28_x86_64``."""
    folder = cache_entry(f"wheels-torch{TORCH}-cp311-manylinux_2_28_x86_64")
    wheel = folder / TORCH_WHEEL
    if not wheel.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        log.info("downloading %s from PyPI into %s", TORCH_WHEEL, folder)
        subprocess.run([sys.executable, "-m", "pip", "download", "--isolated", "--no-deps",
                        "--only-binary=:all:", "--python-version", PYTHON, "--platform",
                        "manylinux_2_28_x86_64", "--index-url", "https://pypi.org/simple",
                        "--quiet", "-d", str(folder), f"torch=={TORCH}"], check=True, timeout=COMMAND_S)
    if not wheel.is_file():
        raise ReleaseError(f"pip download torch=={TORCH} left no {wheel}")
    return wheel


def locate_wheels(requirements: list[str]) -> dict[str, pathlib.Path]:
    """canonical name -> wheel file, resolved by pip (--no-deps, dry run) from the
    local indexes; only local (file://) wheels are accepted, nothing is copied."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-deps",
         "--only-binary=:all:", "--quiet", "--disable-pip-version-check", "--report", "-",
         *local_indexes(), *requirements], check=True, capture_output=True, text=True, timeout=COMMAND_S)
    out = {}
    for item in json.loads(proc.stdout)["install"]:
        url = item["download_info"]["url"]
        name = si.canonicalize_name(item["metadata"]["name"])
        if not url.startswith("file://"):
            raise ReleaseError(f"{name}: pip would download {url}; the CUDA stand-ins are built "
                             "from wheels already on this machine (the local pip index)")
        out[name] = pathlib.Path(url.removeprefix("file://"))
    return out


def nvidia_requirements(torch_wheel: pathlib.Path) -> list[str]:
    """The exact NVIDIA wheels torch's METADATA asks for (cuda-toolkit extras resolved)."""
    from packaging.requirements import Requirement

    with zipfile.ZipFile(torch_wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        lines = zf.read(meta).decode().splitlines()
    reqs = [Requirement(line.split(":", 1)[1]) for line in lines if line.startswith("Requires-Dist:")]
    out = []
    for req in reqs:
        if req.name == "cuda-toolkit":
            toolkit = locate_wheels([f"cuda-toolkit{req.specifier}"])["cuda-toolkit"]
            with zipfile.ZipFile(toolkit) as zf:
                meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
                tk = [Requirement(line.split(":", 1)[1]) for line in zf.read(meta).decode().splitlines()
                      if line.startswith("Requires-Dist:")]
            for extra in sorted(req.extras):
                dist = TOOLKIT_EXTRA[extra]
                (spec,) = {str(r.specifier) for r in tk if si.canonicalize_name(r.name) == dist
                           and r.marker is not None and r.marker.evaluate({"extra": extra})}
                out.append(f"{dist}{spec}")
        elif si.canonicalize_name(req.name) in SAME_MAJOR:
            major = int(next(iter(req.specifier)).version.split(".")[0])
            out.append(f"{req.name}>={major},<{major + 1}")
        elif si.canonicalize_name(req.name) in NVIDIA:
            out.append(str(req).split(";")[0])
    missing = set(NVIDIA) - {si.canonicalize_name(Requirement(r).name) for r in out}
    if missing:
        raise ReleaseError(f"torch {TORCH} no longer asks for {sorted(missing)}: update NVIDIA in {__file__}")
    return out


def extract(wheel: pathlib.Path, part: str, dest: pathlib.Path) -> None:
    """Unzip the ``part`` ("lib" or "include") files of an nvidia wheel into ``dest``
    (a site-packages); "lib" also takes everything that is neither include/ nor dist-info."""
    with zipfile.ZipFile(wheel) as zf:
        for member in zf.infolist():
            name = member.filename
            if member.is_dir() or ".dist-info/" in name:
                continue
            if ("/include/" in name) != (part == "include"):
                continue
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
            target.chmod((member.external_attr >> 16) & 0o777 or 0o644)


# --- recipes ----------------------------------------------------------------

def _big_build(build: dict) -> dict:
    """Prebuilt libraries: nothing to relocate or detect (and 5 GB to skip)."""
    return {**build, "dynamic_linking": {"binary_relocation": False},
            "prefix_detection": {"ignore": True}}


def _major_pin(name: str, version: str) -> str:
    return f"{name} >={version},<{int(version.split('.')[0]) + 1}"


def nvidia_standins(wheels: dict[str, pathlib.Path], site: str) -> list[si.StandIn]:
    """One runtime package (+ one -dev package) per NVIDIA wheel."""
    out = []
    cuda_pin = f"cuda-version >={CUDA},<{int(CUDA.split('.')[0]) + 1}"
    for dist, (runtime, dev) in NVIDIA.items():
        wheel = wheels[dist]
        version = str(si.parse_wheel_filename(wheel.name)[1])
        run = si._recipe(runtime, version, "repacked", build=_big_build({
            "string": "h${{ hash }}_0", "script": [_extract_cmd(wheel, "lib", site)]}),
            requirements={"host": ["python"], "run": [cuda_pin]})
        out.append(run)
        if dev:
            out.append(si._recipe(dev, version, "repacked", build=_big_build({
                "string": "h${{ hash }}_0", "script": [_extract_cmd(wheel, "include", site)]}),
                requirements={"host": ["python"], "run": [cuda_pin, f"{runtime} =={version}"],
                              "run_exports": {"weak": [_major_pin(runtime, version)]}}))
    return out


def _extract_cmd(wheel: pathlib.Path, part: str, site: str) -> str:
    tests_dir = pathlib.Path(__file__).resolve().parents[1]
    return (f'PYTHONPATH="{tests_dir}" "{sys.executable}" -m support.cuda_channel --extract "{wheel}" '
            f'{part} "$PREFIX/{site}"')


def pytorch_standins(torch_wheel: pathlib.Path, wheels: dict[str, pathlib.Path],
                     site: str, stage: pathlib.Path) -> list[si.StandIn]:
    """pytorch + libtorch of the recorded build BUILD (cuda130_mkl), shaped like conda-forge's."""
    meta = si.wheel_metadata(torch_wheel)
    version = meta["version"].public
    if meta["version"].local not in (None, f"cu{CUDA.replace('.', '')}") or version != BUILD.version:
        raise ReleaseError(f"expected a CUDA {CUDA} torch {BUILD.version} wheel, got {torch_wheel.name}")
    cuda_deps = ["__cuda", f"cuda-version >={CUDA.split('.')[0]},<{int(CUDA.split('.')[0]) + 1}"]
    python_deps = [d for d in meta["depends"]
                   if not re.match(r"(nvidia-|cuda-toolkit|cuda-bindings|triton)", d)]
    libs = [_major_pin(runtime, str(si.parse_wheel_filename(wheels[dist].name)[1]))
            for dist, (runtime, _) in NVIDIA.items()]
    activate = stage / "etc" / "conda" / "activate.d" / "libtorch_activate.sh"
    activate.parent.mkdir(parents=True, exist_ok=True)
    activate.write_text("# torchrig offline stand-in: what conda-forge's libtorch activation sets\n"
                        f'export CF_TORCH_CUDA_ARCH_LIST="{CF_TORCH_CUDA_ARCH_LIST}"\n')
    script = [*si._pip_install(torch_wheel),
              f"sed -i -E '/{DROP_REQUIRES}/d' \"$PREFIX/{site}/torch-{version}.dist-info/METADATA\"",
              f'cp -a "{stage}/." "$PREFIX/"']
    pytorch = si._pytorch(BUILD, [si._libtorch_pin(BUILD), *python_deps, *libs, *cuda_deps],
                          "repacked", script, meta["entry_points"])
    return [si.libtorch_standin(BUILD), pytorch]


def toolchain_standins(nvcc: pathlib.Path) -> list[si.StandIn]:
    """cuda-version 13.0 and cuda-nvcc_linux-64 (activation -> this machine's nvcc)."""
    release = subprocess.run([str(nvcc), "--version"], check=True, capture_output=True,
                             text=True, timeout=COMMAND_S).stdout
    found = re.search(r"release (\d+\.\d+), V(\d+\.\d+\.\d+)", release)
    if not found or found.group(1) != CUDA:
        raise ReleaseError(f"{nvcc} is not nvcc {CUDA} ({release.strip()}); set CUDA_HOME to a "
                         f"CUDA {CUDA} toolkit")
    major = int(CUDA.split(".")[0])
    version = si.metadata_only("cuda-version", CUDA, noarch="generic",
                               constrains=[f"__cuda >={major}"])
    version.recipe["build"]["number"] = 1  # wins over support/local_channel.py's metadata-only one
    home = nvcc.parent.parent
    stage_script = [
        'mkdir -p "$PREFIX/etc/conda/activate.d"',
        "cat > \"$PREFIX/etc/conda/activate.d/~cuda-nvcc_activate.sh\" <<'EOF'\n"
        "# torchrig offline stand-in: this machine's CUDA toolkit as the nvcc compiler package\n"
        f'export CUDA_HOME="{home}"\nexport CUDACXX="{nvcc}"\n'
        'export CUDAHOSTCXX="${CXX:-g++}"\nEOF',
    ]
    compiler = si._recipe(f"cuda-nvcc_{TARGET}", found.group(2), "stand-in",
                          build={"noarch": "generic", "script": stage_script},
                          requirements={"run_exports": {"strong": [f"cuda-version >={CUDA},<{major + 1}"]}})
    return [version, compiler]


def plan(stage: pathlib.Path) -> tuple[list[si.StandIn], dict]:
    """The stand-ins, in build order, and the inputs that key the cache."""
    xy = f"{sys.version_info.major}.{sys.version_info.minor}"
    site = f"lib/python{xy}/site-packages"
    wheel = torch_wheel()
    wheels = locate_wheels(nvidia_requirements(wheel))
    nvcc = pathlib.Path(os.environ.get("CUDA_HOME") or "/usr/local/cuda") / "bin" / "nvcc"
    if not nvcc.is_file():
        raise ReleaseError(f"no {nvcc}: set CUDA_HOME to a CUDA {CUDA} toolkit")
    standins = toolchain_standins(nvcc) + nvidia_standins(wheels, site)
    standins += pytorch_standins(wheel, wheels, site, stage / "pytorch")
    # the key covers this file and the _standins helpers used, not unrelated edits there
    import inspect
    code = pathlib.Path(__file__).read_text() + "".join(
        inspect.getsource(f) for f in (si._recipe, si.metadata_only, si._pip_install, si._pytorch,
                                       si._minor_pin, si.libtorch_standin, si._libtorch_pin,
                                       si._cuda_depends, si.wheel_metadata))
    inputs = {"code": hashlib.sha256(code.encode()).hexdigest(), "python": sys.version,
              "executable": str(pathlib.Path(sys.executable).resolve()), "nvcc": str(nvcc),
              "wheels": sorted(f"{p.name}:{p.stat().st_size}" for p in [wheel, *wheels.values()]),
              "build": dataclasses.asdict(BUILD), "arch_list": CF_TORCH_CUDA_ARCH_LIST}
    return standins, inputs


@contextlib.contextmanager
def _locked(path: pathlib.Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def build_channel(channel: pathlib.Path, force: bool = False) -> dict:
    """Build (or reuse) the CUDA stand-in channel at ``channel``; returns its manifest."""
    from rattler_build import Stage0Recipe, ToolConfiguration, VariantConfig

    with _locked(channel.parent / f".{channel.name}.lock"):
        work = channel.parent / f"{channel.name}.work"
        shutil.rmtree(work, ignore_errors=True)
        standins, inputs = plan(work / "stage")
        key = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
        manifest_path = channel / MANIFEST
        if manifest_path.is_file() and not force:
            manifest = json.loads(manifest_path.read_text())
            if manifest["key"] == key and all(pathlib.Path(p["file"]).is_file()
                                              for p in manifest["packages"]):
                shutil.rmtree(work, ignore_errors=True)
                log.info(f"{channel} is up to date ({len(manifest['packages'])} packages)")
                return manifest
        if channel.exists() and any(channel.iterdir()) and not (channel / MARKER).exists():
            raise ReleaseError(f"{channel} is not empty and not a stand-in channel; not touching it")
        shutil.rmtree(channel, ignore_errors=True)
        channel.mkdir(parents=True)
        (channel / MARKER).touch()
        xy = f"{sys.version_info.major}.{sys.version_info.minor}"
        # python, pip, ... come from the CPU stand-in channel (tests/support/local_channel.py)
        cpu_channel = pathlib.Path(subprocess.run(
            [sys.executable, "-m", "support.local_channel"], check=True, stdout=subprocess.PIPE,
            text=True, cwd=pathlib.Path(__file__).resolve().parents[1], timeout=COMMAND_S).stdout.strip())
        packages = []
        with conda_build.Timer() as total:
            for i, standin in enumerate(standins):
                recipe = Stage0Recipe.from_dict(standin.recipe,
                                                recipe_dir=work / "recipes" / f"{i:02d}-{standin.name}")
                with conda_build.Timer() as t:
                    conda_build.ensure_patchelf()
                    (result,) = recipe.run_build(
                        variant_config=VariantConfig({"python": [xy]}),
                        tool_config=ToolConfiguration(test_strategy="skip", channel_priority="disabled"),
                        output_dir=channel, channels=[channel.as_uri(), cpu_channel.as_uri()],
                        package_format="conda:1")
                packages += [{**conda_channel.package_metadata(pathlib.Path(p)), "kind": standin.kind,
                              "bytes": pathlib.Path(p).stat().st_size} for p in result.packages]
                log.info(f"{standin.kind:>13}  {result.name} {result.version} {result.build_string}"
                             f"  {packages[-1]['bytes'] / 2**20:.0f} MiB ({t.seconds:.1f}s)")
        conda_channel.index_channel(channel)
        for leftover in channel.iterdir():
            if leftover.name not in (TARGET, "noarch", MARKER):
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        shutil.rmtree(work, ignore_errors=True)
        manifest = {"key": key, "inputs": inputs, "cpu_channel": str(cpu_channel), "packages": packages}
        manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
        log.info(f"built {len(packages)} packages into {channel} in {total.seconds:.0f}s")
        return manifest


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m support.cuda_channel", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", type=pathlib.Path, default=default_channel_dir(),
                   help="channel folder (default: %(default)s)")
    p.add_argument("--force", action="store_true", help="rebuild even if the cache is current")
    p.add_argument("--json", action="store_true", help="print the manifest instead of the path")
    p.add_argument("--extract", nargs=3, metavar=("WHEEL", "PART", "DEST"),
                   help=argparse.SUPPRESS)  # used by the stand-in build scripts
    args = p.parse_args()
    if args.extract:
        wheel, part, dest = args.extract
        extract(pathlib.Path(wheel), part, pathlib.Path(dest))
        return 0
    logging.basicConfig(level=logging.INFO, format="[%(name)s] %(message)s", stream=sys.stderr)
    try:
        manifest = build_channel(args.dir.resolve(), force=args.force)
    except ReleaseError as err:
        log.error("error: %s", err)
        return err.status
    print(json.dumps(manifest, indent=1) if args.json else args.dir.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
