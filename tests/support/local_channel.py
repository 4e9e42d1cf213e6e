"""Create the offline stand-in conda channel: ``python -m support.local_channel`` (from tests/).

Test infrastructure (pixi task `local-channel`). Default folder: the machine-wide cache,
``<cache>/conda-channel-py3.11-torch2.13.0-<key>`` (key: a hash of every input below).

No conda channel is reachable on the CI machines, so the conda tests build
recipe/recipe.yaml against a local channel whose packages are shaped like
conda-forge's (names, versions, build strings, depends, run_exports):

* python X.Y (this interpreter, as a venv-style prefix) + python_abi;
* pytorch exactly as conda-forge has it (recipe/conda-forge-facts.yaml): every recorded
  release for this Python on linux-64, each as ``cpu_{mkl,generic}_pyXY_h…_N`` and
  ``cudaXYZ_{mkl,generic}_pyXY_h…_N`` with conda-forge's build numbers (mkl +100, CUDA +200),
  ``run_exports: pytorch >=X.Y.Z,<X.(Y+1).0a0`` and the same for ``libtorch`` (a
  metadata-only record), plus the pytorch-cpu/pytorch-gpu metapackages. The release of this
  environment's torch wheel (CPU) is real in both CPU builds (the wheel repacked), so a plain
  solve on a GPU-less machine installs a torch that imports; the others are metadata-only
  (older, or needing ``__cuda``). The wheel's version must be a recorded one. Its Python
  dependencies, pip, scikit-build-core, pybind11, cmake and ninja, repacked from their wheels
  (the versions installed here);
* gxx_linux-64 (one per cxx_compiler_version of variants.yaml) / cxx-compiler
  whose activation sets CXX to the system g++, and metadata-only
  sysroot_linux-64 (one per c_stdlib_version): what ``compiler()``/``stdlib()`` need;
* metadata-only records for the rest of the matrix: cuda-version, the nvcc compiler
  package and the CUDA libraries the recipe's host lists.

Beside the packages: ``variants.yaml``, recipe/variants.yaml with ``pytorch`` narrowed to
the stand-in's minor (``build-conda --variants <channel>/variants.yaml``): the release matrix
may not list the minor of the one CPU torch wheel this machine has.

Every package is built by rattler-build from a generated recipe (support/standins.py),
then the channel is indexed with py-rattler. The result is cached: a second
call with the same inputs (this file, the Python, the installed versions, the
matrix) returns at once. Prints the channel path (or the manifest with --json).
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib.metadata
import json
import logging
import pathlib
import shutil
import subprocess
import sys
import tempfile

from torchrig_release import build_requirements, conda_forge, variants
from torchrig_release.conda import build as conda_build
from torchrig_release.conda import channel as conda_channel
from torchrig_release.errors import ReleaseError
from torchrig_release.library import torch_version
from torchrig_release.paths import RECIPE, cache_entry, python_tag

from support import standins as si
from support.timeouts import COMMAND_S

log = logging.getLogger("local_channel")
MANIFEST = "torchrig-channel.json"
VARIANTS_FILE = "variants.yaml"  # this channel's variant config (local_variants)
MARKER = ".torchrig-standin-channel"  # only folders carrying it are ever deleted
TARGET = "linux-64"
# What the recipe's host/build/test environments need besides torch's closure: pip and
# pyproject.toml's build tools (cmake and ninja among them, repacked per si.TOOL_WHEELS).
ROOTS = ("torch", "pip", *build_requirements.names())


def installed_versions() -> dict[str, str]:
    """canonical name -> version of every distribution in this environment."""
    return {si.canonicalize_name(d.metadata["Name"]): d.version
            for d in importlib.metadata.distributions() if d.metadata["Name"]}


def download_wheels(dest: pathlib.Path, versions: dict[str, str]) -> list[pathlib.Path]:
    """ROOTS and their dependencies as wheels, at the versions installed here."""
    missing = [r for r in ROOTS if r not in versions]
    if missing:
        raise ReleaseError(f"install {', '.join(missing)} first (requirements/dev.txt + torch)", 2)
    dest.mkdir(parents=True)
    constraints = dest / "constraints.txt"
    constraints.write_text("".join(f"{n}=={v}\n" for n, v in sorted(versions.items())
                                   if n != "torchrig"))
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                    "--only-binary=:all:", "--dest", str(dest), "-c", str(constraints),
                    *(f"{r}=={versions[r]}" for r in ROOTS)], check=True, timeout=COMMAND_S)
    return sorted(dest.glob("*.whl"))


def local_variants(dest: pathlib.Path, torch_minor: str) -> pathlib.Path:
    """recipe/variants.yaml with `pytorch` (and the stable build's pytorch) narrowed to the
    stand-in's minor: the variant config of builds against this channel (`build-conda
    --variants`), whether or not that minor is in the release matrix."""
    return variants.derive(dest, {"pytorch": [torch_minor], variants.STABLE_BUILD_KEY: [torch_minor]})


def recipe_requirements(overrides: dict[str, str], variants_file: pathlib.Path) -> set[str]:
    """Names in build + host of recipe.yaml rendered for one variant."""
    from rattler_build import Stage0Recipe

    (rendered,) = Stage0Recipe.from_file(RECIPE).render(variants.variant_config(overrides, variants_file))
    reqs = rendered.recipe.requirements
    return {spec.split()[0] for spec in [*reqs.build, *reqs.host]}


def channel_inputs(versions: dict[str, str]) -> dict:
    """Everything the channel's contents depend on (the cache key is its hash)."""
    values = variants.load()
    matrix = variants.matrix()
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    torch_minor = torch_version.minor_text(versions.get("torch", "0.0"))
    cpu = {"python": python, "pytorch": torch_minor, "cuda_compiler_version": "None",
           variants.ABI_KEY: "classic"}  # the stable variant needs nothing else
    cuda_versions = [c for c in matrix["cuda_compiler_version"] if c != "None"]
    cuda_only: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        local = local_variants(pathlib.Path(tmp) / "variants.yaml", torch_minor)
        for cuda in cuda_versions:
            cuda_only |= recipe_requirements({**cpu, "cuda_compiler_version": cuda}, local)
        cuda_compiler = values["cuda_compiler"][0]
        cuda_only -= recipe_requirements(cpu, local) | {"cuda-version", f"{cuda_compiler}_{TARGET}"}
    code = "".join(pathlib.Path(m.__file__).read_text() for m in (conda_build, conda_channel, conda_forge, si, variants)) + \
        pathlib.Path(__file__).read_text()
    return {
        "code": hashlib.sha256(code.encode()).hexdigest(),
        "python": sys.version, "executable": str(pathlib.Path(sys.executable).resolve()),
        "versions": {n: v for n, v in sorted(versions.items()) if n != "torchrig"},
        "python_minor": python, "torch_minor": torch_minor,
        # conda-forge's pytorch builds for this Python (the record), and the record itself
        "pytorch_builds": [dataclasses.asdict(b) for b in conda_forge.pytorch_builds(TARGET, python)],
        "facts": hashlib.sha256(conda_forge.FACTS.read_bytes()).hexdigest(),
        "cuda_versions": cuda_versions, "cuda_only": sorted(cuda_only),
        "cuda_compiler": cuda_compiler,
        "c_stdlib": values["c_stdlib"][0],
        # zipped with cuda_compiler_version: one sysroot / gxx per distinct value
        "c_stdlib_versions": sorted(set(map(str, values["c_stdlib_version"]))),
        "cxx_compiler_versions": sorted(set(map(str, values.get("cxx_compiler_version", [])))),
    }


def plan(inputs: dict, work: pathlib.Path) -> list[si.StandIn]:
    """The stand-ins to build, in order (python first: the others need it in host)."""
    if inputs["c_stdlib"] != "sysroot":
        raise ReleaseError(f"c_stdlib={inputs['c_stdlib']}: only the linux sysroot has a stand-in", 2)
    stage = work / "stage"
    standins = si.python_standins(stage / "python")
    standins += si.gxx_standins(stage / "gxx", TARGET, inputs["cxx_compiler_versions"])
    standins += si.toolchain_standins(TARGET, inputs["c_stdlib_versions"], inputs["cuda_versions"],
                                      inputs["cuda_only"], inputs["cuda_compiler"])
    builds = [conda_forge.PytorchBuild(**b) for b in inputs["pytorch_builds"]]
    for wheel in download_wheels(work / "wheels", inputs["versions"]):
        meta = si.wheel_metadata(wheel)
        if meta["dist"] == "torch":
            version = meta["version"].public
            if not any(b.version == version and b.cuda == "None" for b in builds):
                raise ReleaseError(
                    f"torch {version} (this environment's) is not a CPU pytorch conda-forge has for "
                    f"python {inputs['python_minor']} ({conda_forge.FACTS}): the stand-in channel "
                    "offers only recorded builds; install a recorded version", 2)
            standins += si.record_pytorch_standins(builds, meta)
        elif meta["dist"] in si.TOOL_WHEELS:
            standins.append(si.tool_wheel_standin(meta, stage / meta["dist"]))
        else:
            standins.append(si.python_wheel_standin(meta))
    return standins


def channel_key(inputs: dict) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def default_channel_dir(inputs: dict) -> pathlib.Path:
    """``<cache>/conda-channel-py3.11-torch2.13.0-<key[:12]>``: one per set of inputs, so
    checkouts sharing the cache never rebuild each other's channel."""
    torch = inputs["versions"].get("torch", "none")
    return cache_entry(f"conda-channel-{python_tag()}-torch{torch}-{channel_key(inputs)[:12]}")


def build_channel(channel: pathlib.Path | None = None, force: bool = False) -> tuple[pathlib.Path, dict]:
    """Build (or reuse) the channel (default: :func:`default_channel_dir`); (folder, manifest)."""
    from rattler_build import Stage0Recipe, VariantConfig

    versions = installed_versions()
    inputs = channel_inputs(versions)
    key = channel_key(inputs)
    channel = (channel or default_channel_dir(inputs)).resolve()
    manifest_path = channel / MANIFEST
    if manifest_path.is_file() and not force:
        manifest = json.loads(manifest_path.read_text())
        if manifest["key"] == key and all(pathlib.Path(p["file"]).is_file()
                                          for p in manifest["packages"]):
            log.info("%s is up to date (%d packages)", channel, len(manifest["packages"]))
            local_variants(channel / VARIANTS_FILE, inputs["torch_minor"])
            return channel, manifest
    if channel.exists() and any(channel.iterdir()) and not (channel / MARKER).exists():
        raise ReleaseError(f"{channel} is not empty and not a stand-in channel; not touching it", 2)
    shutil.rmtree(channel, ignore_errors=True)
    channel.mkdir(parents=True)
    (channel / MARKER).touch()
    work = channel.with_name(channel.name + ".work")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    variants = VariantConfig({"python": [inputs["python_minor"]]})
    packages = []
    with conda_build.Timer() as total:
        for i, standin in enumerate(plan(inputs, work)):
            recipe = Stage0Recipe.from_dict(standin.recipe, recipe_dir=work / "recipes" / f"{i:02d}-{standin.name}")
            with conda_build.Timer() as t:
                (result,) = conda_build.build_recipe(recipe, channel, [str(channel)], variants=variants,
                                            package_format="conda:1")
            log.info("%13s  %s %s %s  (%.1fs)", standin.kind, result.name, result.version,
                     result.build_string, t.seconds)
            packages += [{**conda_channel.package_metadata(pathlib.Path(p)), "kind": standin.kind}
                         for p in result.packages]
    conda_channel.index_channel(channel)
    for leftover in channel.iterdir():  # rattler-build's work folders and log
        if leftover.name not in (TARGET, "noarch", MARKER):
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    local_variants(channel / VARIANTS_FILE, inputs["torch_minor"])
    manifest = {"key": key, "inputs": inputs, "packages": packages}
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    log.info("built %d packages into %s in %.0fs", len(packages), channel, total.seconds)
    return channel, manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m support.local_channel", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", type=pathlib.Path, default=None,
                   help="channel folder (default: in the machine-wide cache, see above)")
    p.add_argument("--force", action="store_true", help="rebuild even if the cache is current")
    p.add_argument("--json", action="store_true", help="print the manifest instead of the path")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(name)s] %(message)s", stream=sys.stderr)
    try:
        channel, manifest = build_channel(args.dir, force=args.force)
    except ReleaseError as err:
        log.error("error: %s", err)
        return err.status
    print(json.dumps(manifest, indent=1) if args.json else channel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
