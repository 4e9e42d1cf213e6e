#!/usr/bin/env python3
"""abi-check: will this torchrig build load in these torch installations,
and does the torch range it declares promise only what is true?

Run before any upload (the pixi task `abi-check`). For each torch given:
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

ARTIFACT is a wheel (*.whl), a conda package (*.conda, *.tar.bz2), or an
installed torchrig: its package directory, site-packages, environment (venv or
conda prefix) or that environment's python.

TORCH (repeatable) is a torch installation: a .../site-packages/torch directory,
a site-packages directory, an environment (venv/conda prefix) or its python, or
a version like 2.14.1 meaning the venv VENV_ROOT/venv-torch2.14.1 created by
`tools/torch_venv.py --torch 2.14.1 --dir VENV_ROOT/venv-torch2.14.1`. Its
facts come from importing it in its own interpreter (nothing is installed).

Exit status: 0 when the build loads in every torch given and the declared range
holds; 1 on any problem (each is listed under RESULT); 2 on bad arguments.

Examples:
  # before uploading a wheel built in .venv (torch 2.13): exits 0
  python tools/abi_check.py dist/torchrig-0.1.0-cp311-cp311-linux_x86_64.whl --torch .venv
  # the same wheel against torch 2.14.1 (.cache/venv-torch2.14.1): why it is refused, exit 1
  python tools/abi_check.py dist/torchrig-0.1.0-cp311-cp311-linux_x86_64.whl --torch 2.14.1
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _abi.artifact import ArtifactError, open_artifact  # noqa: E402
from _abi.check import check  # noqa: E402
from _abi.report import to_json, to_text  # noqa: E402
from _abi.torch_install import TorchNotFound, resolve  # noqa: E402

DEFAULT_VENV_ROOT = Path(__file__).resolve().parent.parent / ".cache"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="abi_check.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("artifact", help="wheel, .conda/.tar.bz2, or installed torchrig (see above)")
    p.add_argument("--torch", dest="torches", action="append", required=True, metavar="TORCH",
                   help="torch installation to check against (repeatable; see above)")
    p.add_argument("--venv-root", type=Path, default=DEFAULT_VENV_ROOT,
                   help="where version arguments find venv-torch<version> (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        torches = [resolve(spec, args.venv_root) for spec in args.torches]
        with open_artifact(args.artifact) as artifact:
            report = check(artifact, torches)
            print(json.dumps(to_json(report), indent=2) if args.json else to_text(report))
    except (ArtifactError, TorchNotFound) as exc:
        print(f"abi-check: error: {exc}", file=sys.stderr)
        return 2
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
