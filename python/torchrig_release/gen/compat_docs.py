#!/usr/bin/env python3
"""Regenerate the generated blocks of docs/compatibility.md.

Blocks: the build matrix (from recipe/variants.yaml), the pixi environments (from
pixi.toml) and an example of the import guard's error (from python/torchrig/_guard.py).
Only the text between `<!-- generated:NAME:begin -->` and `<!-- generated:NAME:end -->`
is rewritten: the prose and the `<!-- measured:begin -->` ... `<!-- measured:end -->`
section, which the ABI check fills, stay as they are. With --check nothing is written
and the command exits 1 when the file is out of date.
"""
from __future__ import annotations

import argparse
import importlib.util
import pathlib
import re
import sys
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import gen_environments
import pixi_manifest as pm

DOC = pm.ROOT / "docs" / "compatibility.md"
BLOCK = re.compile(r"(<!-- generated:([\w-]+):begin -->\n).*?(<!-- generated:\2:end -->)", re.S)

__all__ = ["BLOCKS", "update"]


def _load(relative: str) -> ModuleType:
    """Import one project file by path (without importing the package around it)."""
    path = pm.ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _flavour(cuda: str | None) -> str:
    return f"CUDA {cuda}" if cuda not in (None, "None") else "CPU"


def matrix(variants: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    """Python x PyTorch rows, one column per flavour, and the requirement each build carries."""
    requirement = _load("build_tools/torch_pin.py").torch_requirement
    flavours = [_flavour(c) for c in variants["cuda_compiler_version"]]
    rows = ["| Python | PyTorch | " + " | ".join(flavours) + " | requires (conda / pip) |",
            "|---" * (len(flavours) + 3) + "|"]
    for python in sorted(variants["python"], key=pm.version_key):
        for torch in sorted(variants["pytorch"], key=pm.version_key):
            pip = requirement(torch)
            rows.append(f"| {python} | {torch} | " + " | ".join("yes" for _ in flavours)
                        + f" | `pytorch {pip.removeprefix('torch')}` / `{pip}` |")
    n_python, n_torch = len(variants["python"]), len(variants["pytorch"])
    return "\n".join(rows) + (f"\n\n{n_python * n_torch * len(flavours)} builds per release: "
                              f"{n_python} Python x {n_torch} PyTorch x {len(flavours)} flavours.\n")


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
                    f"{_flavour(pins['cuda'])} | {', '.join(pm.platforms(manifest, env))} | {shown} |")
    return "\n".join(rows) + "\n"


def guard(variants: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    """What the import guard says for a build of the newest torch run under the oldest."""
    guard_module = _load("python/torchrig/_guard.py")
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--doc", type=pathlib.Path, default=DOC, help="the markdown file to update")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if out of date")
    args = parser.parse_args()
    text = update(args.doc.read_text(), pm.load_variants(), pm.load_manifest())
    change = pm.sync_file(args.doc, text, args.check)
    print(change or f"in sync: {args.doc}")
    if args.check and change:
        print("run `python tools/gen_compat_docs.py` to regenerate it", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
