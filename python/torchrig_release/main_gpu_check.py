"""`gpu-check`: the whole GPU check in one command on a lent GPU machine; --dry-run prepares it.

On the GPU machine (no release tooling installed, no network), from the repository root:

  PYTHONPATH=python python3 -m torchrig_release.main_gpu_check OUT

(that module runs this verb alone; its imports are the standard library only). It needs
dist/gpu-kit beside the checkout: the stable-ABI CUDA wheel and its record, made by the dry
run. Parts: 1 the classic CUDA build for the device's capability + `info`; 2 the kit's stable
wheel installed unchanged + `info`; 3 with each build the GPU tests, memcheck, racecheck, and
the classic build's GPU bench; 4 one log per part and summary.txt in OUT. A failed step does
not stop the others; steps stop at 8.5 minutes in all. Exit status 0 when every step passed.

On a development machine without a GPU:

  torchrig-release gpu-check --dry-run OUT

builds the kit (the stable CUDA wheel for --arch against the cached torch 2.14.1+cu130 venv)
into dist/gpu-kit, checks that the checkout and the kit fit what may be sent (64 MiB, 16 MiB
to spare), builds the classic CUDA extension for the same arch, installs both, runs `info`, and
runs each GPU step up to the device (those are reported as skipped). Exit status 0 when all of
that passed. See gpu_check.py for the details and the files written.
"""
from __future__ import annotations

import argparse
import logging
import pathlib
import sys

from . import gpu_check, helptext
from .errors import ReleaseError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", type=pathlib.Path, metavar="OUT",
                   help="output folder: summary.txt, one log per part, bench.json")
    p.add_argument("--dry-run", action="store_true",
                   help="no GPU: build the kit and both builds, run every step up to the device")
    p.add_argument("--python", default=None,
                   help="the interpreter whose torch is built against and tested (default: this "
                        "one; with --dry-run the cached torch 2.14.1+cu130 venv)")
    p.add_argument("--arch", default=None,
                   help="TORCH_CUDA_ARCH_LIST, e.g. 9.0 (default: the device's capability; "
                        f"with --dry-run {gpu_check.DRY_ARCH}, also the kit's)")
    p.add_argument("--reuse-kit", action="store_true",
                   help="with --dry-run: keep dist/gpu-kit as it is (its sha256 is checked) instead "
                        "of rebuilding it, e.g. to rehearse with another --python")
    p.add_argument("--jobs", type=int, default=None,
                   help="parallel compile jobs (default: CPU cores less 2)")


def configure_parser(sub) -> None:
    p = sub.add_parser("gpu-check", help="the GPU check in one command (--dry-run: prepare it)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = args.out.resolve()
    if args.reuse_kit and not args.dry_run:
        raise ReleaseError("--reuse-kit goes with --dry-run (the GPU run always uses the kit as sent)", 2)
    if out.exists() and not out.is_dir():
        raise ReleaseError(f"{args.out} is a file; name a folder for the logs", 2)
    if args.dry_run:
        ctx, header = dry_context(args, out)
        kit = (gpu_check.reuse_kit(ctx) if args.reuse_kit else
               gpu_check.build_kit(ctx, ctx.python, ctx.arch))
        if kit.status == "passed":
            try:
                line, status = gpu_check.check_send_size(gpu_check.send_size(ctx.kit)), "passed"
            except ReleaseError as err:
                line, status = str(err), "failed"
            ctx.add(gpu_check.Step(0, "kit: send size", status, figure=line))
    else:
        python = args.python or sys.executable
        found = gpu_check.device(python)
        if found is None:
            raise ReleaseError(f"gpu-check: the torch of {python} sees no CUDA device; on a machine "
                               "without a GPU run `torchrig-release gpu-check --dry-run OUT`", 2)
        ctx = gpu_check.Context(out=out, python=python, dry_run=False, arch=args.arch or found[0])
        header = [f"device: {found[1]} (capability {found[0]})"]
    if args.jobs:
        ctx.jobs = args.jobs
    gpu_check.run_check(ctx)
    print(gpu_check.summary(ctx, gpu_check.header_lines(ctx, header)), end="")
    return gpu_check.verdict(ctx)


def dry_context(args: argparse.Namespace, out: pathlib.Path):
    """The dry run's context: the cached CUDA torch venv (made when absent), generous timeouts."""
    python = args.python
    if python is None:
        from . import build_requirements, machine
        from .paths import torch_venv_dir
        from .venv import ensure_venv

        extras = ["numpy", "pytest", "hypothesis", *build_requirements.names()]
        python = str(ensure_venv(torch_venv_dir(machine.CUDA_TORCH), machine.CUDA_TORCH, extras))
    ctx = gpu_check.Context(out=out, python=python, dry_run=True, arch=args.arch or gpu_check.DRY_ARCH,
                            total_s=gpu_check.DRY_TOTAL_S)
    ctx.timeouts["classic build"] = gpu_check.DRY_BUILD_S
    return ctx, ["device: none (dry run)"]


def standalone(argv: list[str] | None = None) -> int:
    """This verb alone: the GPU machine's entry point, which imports no other verb (their
    imports, e.g. pyelftools, need not be installed there)."""
    p = argparse.ArgumentParser(prog="python -m torchrig_release.main_gpu_check", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    helptext.apply(p)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(name)s] %(message)s", stream=sys.stderr)
    try:
        return run(args)
    except ReleaseError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.status


if __name__ == "__main__":
    sys.exit(standalone())
