"""The generated blocks of docs/compatibility.md (`gen docs`).

Blocks: the build matrix (from recipe/variants.yaml), the pixi environments (from
pixi.toml) and an example of the import guard's error (from python/torchrig/_guard.py).
Only the text between `<!-- generated:NAME:begin -->` and `<!-- generated:NAME:end -->`
is rewritten: the prose and the `<!-- measured:begin -->` ... `<!-- measured:end -->`
section, which the ABI check fills, stay as they are.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .. import pixi as pm
from ..library import library_module, torch_version
from ..paths import REPO
from . import environments as gen_environments

DOC = REPO / "docs" / "compatibility.md"
BLOCK = re.compile(r"(<!-- generated:([\w-]+):begin -->\n).*?(<!-- generated:\2:end -->)", re.S)

__all__ = ["BLOCKS", "update"]


def matrix(variants: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    """Python x PyTorch rows, one column per flavour, and the requirement each build carries."""
    requirement = torch_version.requirement
    flavours = [torch_version.flavour(c) for c in variants["cuda_compiler_version"]]
    rows = ["| Python | PyTorch | " + " | ".join(flavours) + " | requires (conda / pip) |",
            "|---" * (len(flavours) + 3) + "|"]
    for python in sorted(variants["python"], key=pm.version_key):
        for torch in sorted(variants["pytorch"], key=pm.version_key):
            pip = requirement(torch)
            rows.append(f"| {python} | {torch} | " + " | ".join("yes" for _ in flavours)
                        + f" | `pytorch {pip.removeprefix('torch')}` / `{pip}` |")
    stable = "stable" in variants.get("torchrig_abi", [])
    if stable:  # one build per Python x flavour for every pytorch from the target on
        target = variants["stable_torch_target"][0]
        for python in sorted(variants["python"], key=pm.version_key):
            rows.append(f"| {python} | >={target} (stable ABI) | " + " | ".join("yes" for _ in flavours)
                        + f" | `pytorch >={target}` / `torch>={target}` (one py3-none wheel) |")
    n_python, n_torch = len(variants["python"]), len(variants["pytorch"])
    classic = n_python * n_torch * len(flavours)
    text = (f"\n\n{classic} classic builds per release: {n_python} Python x {n_torch} PyTorch x "
            f"{len(flavours)} flavours")
    if stable:
        text += (f"; plus {n_python * len(flavours)} stable-ABI conda builds ({n_python} Python x "
                 f"{len(flavours)} flavours; the default, build number +100; the classic one: "
                 "`torchrig=*=*_pt<XY>_*`)")
    return "\n".join(rows) + text + ".\n"


def environments(variants: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    """One row per pixi environment that holds Python and PyTorch."""
    rows = ["| pixi environment | Python | PyTorch | flavour | platforms | conda/mamba file |",
            "|---|---|---|---|---|---|"]
    for env in pm.environments(manifest).values():
        pins = pm.stack(manifest, env)
        if pins["python"] is None or pins["pytorch"] is None:
            continue
        shown = f"`environments/{env.name}.yml`" if gen_environments.ENV_NAME.match(env.name) else "-"
        rows.append(f"| `{env.name}` | {pins['python']} | {pins['pytorch']} | "
                    f"{torch_version.flavour(pins['cuda'])} | {', '.join(pm.platforms(manifest, env))} | {shown} |")
    return "\n".join(rows) + "\n"


def guard(variants: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    """What the import guard says for a build of the newest torch run under the oldest."""
    guard_module = library_module("_guard")
    mismatch = guard_module.mismatch
    built = pm.newest(variants["pytorch"]) + ".0"
    running = min(variants["pytorch"], key=pm.version_key) + ".0"
    message = mismatch({"torch_version": built, "torch_cuda": None}, running, None, True)
    # the record's path depends on the checkout; show where an installed one lives
    message = message.replace(str(guard_module.BUILD_INFO_PATH), "<site-packages>/torchrig/_build_info.json")
    return f"```text\nImportError: {message}\n```\n"


BLOCKS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], str]] = {
    "matrix": matrix, "environments": environments, "guard": guard}


def update(text: str, variants: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    """``text`` with every generated block refilled; every block must be there exactly once."""
    seen: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in BLOCKS:
            raise ValueError(f"unknown generated block {name!r} (known: {sorted(BLOCKS)})")
        seen.append(name)
        return match.group(1) + BLOCKS[name](variants, manifest) + match.group(3)

    result = BLOCK.sub(fill, text)
    if sorted(seen) != sorted(BLOCKS):
        raise ValueError(f"expected each generated block once: {sorted(BLOCKS)}, found {sorted(seen)}")
    return result
