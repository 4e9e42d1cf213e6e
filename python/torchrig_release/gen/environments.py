"""environments/<env>.yml: a conda environment file per pyXY-cpu / pyXY-cuda pixi environment.

For people who use conda or mamba without pixi: each file holds the channels, packages
and activation variables of the pixi environment of the same name (`gen environments`;
with --check nothing is written and the verb exits 1 when a file differs).
"""
from __future__ import annotations

import pathlib
import re
from collections.abc import Mapping
from typing import Any

from .. import pixi as pm
from ..paths import REPO

OUT_DIR = REPO / "environments"
ENV_NAME = re.compile(r"^py3\d+-(cpu|cuda)\d*$")  # the per-Python x flavour environments
HEADER = "# Generated from pixi.toml by `torchrig-release gen environments`; do not edit."
FUZZY = re.compile(r"^(\d+(?:\.\d+)*)\.\*$")  # "3.12.*" -> conda's "=3.12"

__all__ = ["conda_spec", "generate", "render", "sync"]


def conda_spec(name: str, spec: Any) -> str:
    """A pixi conda spec as a conda match spec: "*" -> name, "3.12.*" -> name=3.12,
    ">=3.26" -> name>=3.26, {version, build} -> name=version=build."""
    if isinstance(spec, Mapping):
        if set(spec) - {"version", "build"}:
            raise ValueError(f"{name}: only version and build can be written to a conda file, "
                             f"not {sorted(set(spec) - {'version', 'build'})}")
        version = spec.get("version", "*")
        return f"{name}={version}={spec['build']}" if "build" in spec else conda_spec(name, version)
    if spec == "*":
        return name
    fuzzy = FUZZY.match(spec)
    if fuzzy:
        return f"{name}={fuzzy.group(1)}"
    if spec[0] in "<>=!~":
        return f"{name}{spec}"
    raise ValueError(f"{name}: version {spec!r} has no unambiguous conda spelling; "
                     "write it as 'X.Y.*' or with an operator")


def _pip_spec(name: str, spec: Any) -> str:
    """A pixi pypi spec as a pip requirement line: "*" -> name, ">=1" -> name>=1, a path of
    this repository {path, editable} -> ``-e ../<path>`` (conda runs pip beside the file, in
    environments/)."""
    if isinstance(spec, Mapping) and set(spec) <= {"path", "editable"} and "path" in spec:
        return f"{'-e ' if spec.get('editable') else ''}../{spec['path']}"
    if not isinstance(spec, str):
        raise ValueError(f"{name}: only plain version specs and repository paths can go to a "
                         "conda file's pip list")
    return name if spec == "*" else f"{name}{spec}"


def render(manifest: Mapping[str, Any], env: pm.Environment) -> str:
    """The environment file of ``env``: header comments, then YAML."""
    import yaml

    for name in env.features:
        targets = pm.feature(manifest, name).get("target", {}).values()
        if any("dependencies" in t or "pypi-dependencies" in t for t in targets):
            raise ValueError(f"{env.name}: feature {name!r} has per-platform dependencies, "
                             "which a conda environment file cannot express")
    channels = list(manifest["workspace"]["channels"])
    for name in env.features:
        for channel in pm.feature(manifest, name).get("channels", []):
            if not isinstance(channel, str):  # {channel = ..., priority = ...}
                channel = channel["channel"]
            channels += [channel] if channel not in channels else []
    deps: list[Any] = [conda_spec(n, s) for n, s in pm.merged(manifest, env, "dependencies").items()]
    pypi = pm.merged(manifest, env, "pypi-dependencies")
    if pypi:
        deps += [*(["pip"] if "pip" not in deps else []),
                 {"pip": [_pip_spec(n, s) for n, s in pypi.items()]}]
    body: dict[str, Any] = {"name": f"torchrig-{env.name}", "channels": channels,
                            "dependencies": deps}
    variables = {k: v for name in env.features
                 for k, v in pm.feature(manifest, name).get("activation", {}).get("env", {}).items()}
    if variables:
        body["variables"] = variables

    notes = [HEADER,
             f"# conda/mamba counterpart of the pixi environment `{env.name}`:",
             f"#   mamba env create -f environments/{env.name}.yml",
             f"#   conda activate torchrig-{env.name}",
             "#   pip install --no-build-isolation --no-deps -v .",
             f"# Platforms: {', '.join(pm.platforms(manifest, env))}."]
    driver = pm.virtual_packages(manifest, env).get("cuda")
    if driver is not None:
        notes.append(f"# Needs an NVIDIA driver for CUDA >= {driver}; to solve on a machine without "
                     f"one, set CONDA_OVERRIDE_CUDA={pm.stack(manifest, env)['cuda'] or driver}.")
    return "\n".join(notes) + "\n" + yaml.safe_dump(body, sort_keys=False, default_flow_style=False)


def generate(manifest: Mapping[str, Any]) -> dict[str, str]:
    """{file name: text} for every environment whose name matches pyXY-cpu / pyXY-cuda."""
    return {f"{env.name}.yml": render(manifest, env)
            for env in pm.environments(manifest).values() if ENV_NAME.match(env.name)}


def sync(manifest: Mapping[str, Any], out_dir: pathlib.Path, check: bool) -> list[str]:
    """Bring ``out_dir`` in line with the manifest (or, with ``check``, only compare).

    Returns what differs: files to write, and stale generated files to delete (a .yml
    without the generated header is never touched)."""
    wanted = generate(manifest)
    changes = [change for name, text in wanted.items()
               if (change := pm.sync_file(out_dir / name, text, check))]
    for path in sorted(out_dir.glob("*.yml")):
        if path.name not in wanted and path.read_text().startswith(HEADER):
            changes.append(f"stale: {path}")
            if not check:
                path.unlink()
    return changes
