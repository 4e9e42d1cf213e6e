"""`abi-check`: will this torchrig build load in these torch installations,
and does the torch range it declares promise only what is true?

Run before any upload (the pixi task `abi-check`; `upload` runs it in-process). For each torch given:
  * symbols: the extension's undefined dynamic symbols that belong to torch
    (c10::, at::, torch::, caffe2::, the aoti_torch_* C shim; read with
    pyelftools, demangled with cxxfilt) must each be defined by the torch
    libraries it loads (its DT_NEEDED libtorch*/libc10*, followed through the
    directory that torch loads libc10.so from), and those libraries must exist;
  * build info: the artifact's own import guard (torchrig/_guard.py) must accept
    that torch given the recorded _build_info.json (torch minor, CUDA, cxx11 ABI).
Then the declared range (wheel: METADATA Requires-Dist torch; .conda: pytorch
in info/index.json depends; installed: conda-meta or dist-info) is checked: it
must admit the torch the build was made with and have an upper bound; every
torch given that it admits must load, and every torch minor it admits must be
represented by such a torch. So `torch>=2.8,<2.10` fails unless a 2.8 and a 2.9
torch were both given and both load.

A stable-ABI build (its _build_info.json says "abi": "stable") is checked by the
stable rules instead: its undefined torch symbols must be torch's C shim only
(aoti_torch_*, torch_*; a mangled c10::/at::/torch:: symbol fails, as it ties the
binary to one minor), each defined by every torch given; the declared range must
be exactly torch>=<stable_target> (pip) / pytorch >=<stable_target> (conda), and
at least one torch it admits must be given. A note says when the target minor
itself was not among them.

ARTIFACT is a wheel (*.whl), a conda package (*.conda, *.tar.bz2), or an
installed torchrig: its package directory, site-packages, environment (venv or
conda prefix) or that environment's python.

TORCH (repeatable) is a torch installation: a .../site-packages/torch directory,
a site-packages directory, an environment (venv/conda prefix) or its python, or
a version like 2.14.1 meaning the venv VENV_ROOT/venv-py3.11-torch2.14.1 (this
Python) created by `torchrig-release venv --torch 2.14.1`. Its facts
come from importing it in its own interpreter (nothing is installed).

Exit status: 0 when the build loads in every torch given and the declared range
holds; 1 on any problem (each is listed under RESULT); 2 on bad arguments.

Examples (build-wheel writes to dist/<pixi environment>/raw, outside pixi dist/local/raw):
  # the one wheel (build-wheel's default, stable ABI) against this venv's torch and a later one: exits 0
  torchrig-release abi-check dist/local/raw/torchrig-0.1.0-py3-none-linux_x86_64.whl --torch .venv --torch 2.15.0
  # a classic wheel (build-wheel --abi classic, here with torch 2.13) against torch 2.14.1
  # (the cached venv-py3.11-torch2.14.1): why it is refused, exit 1
  torchrig-release abi-check dist/local/raw/torchrig-0.1.0-cp311-cp311-linux_x86_64.whl --torch 2.14.1
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .abi.check import check_artifact
from .abi.report import to_json, to_text

__all__ = ["configure_parser", "run"]


def configure_parser(sub) -> None:
    p = sub.add_parser("abi-check", help="will this build load in these torches; is its declared range true",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("artifact", help="wheel, .conda/.tar.bz2, or installed torchrig (see above)")
    p.add_argument("--torch", dest="torches", action="append", required=True, metavar="TORCH",
                   help="torch installation to check against (repeatable; see above)")
    p.add_argument("--venv-root", type=Path, default=None,
                   help="where version arguments find venv-pyX.Y-torch<version> "
                        "(default: the machine-wide cache, $TORCHRIG_CACHE)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = check_artifact(args.artifact, args.torches, args.venv_root)
    print(json.dumps(to_json(report), indent=2) if args.json else to_text(report))
    return 0 if report.ok else 1
