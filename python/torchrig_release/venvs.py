#!/usr/bin/env python3
"""Create (or reuse) a virtual environment holding one torch version.

Used by the cross-version scenario tests and the CUDA compile check, e.g.
``tools/torch_venv.py --torch 2.14.1 --dir .cache/venv-torch2.14.1``. The venv
is reused when its stamp file records the same request; prints its path.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import time


def ensure_venv(directory: pathlib.Path, torch_version: str, extra: list[str],
                python: str = sys.executable) -> pathlib.Path:
    """Return ``directory/bin/python`` of a venv with ``torch==torch_version`` + ``extra``."""
    stamp = directory / "torchrig-venv.json"
    want = {"torch": torch_version, "extra": sorted(extra)}
    py = directory / "bin" / "python"
    if stamp.is_file() and json.loads(stamp.read_text()) == want and py.exists():
        return py
    start = time.monotonic()
    print(f"[torch_venv] creating {directory} with torch=={torch_version} {' '.join(extra)}",
          file=sys.stderr, flush=True)
    subprocess.run([python, "-m", "venv", "--clear", str(directory)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    f"torch=={torch_version}", *extra], check=True)
    stamp.write_text(json.dumps(want))
    print(f"[torch_venv] ready in {time.monotonic() - start:.0f}s", file=sys.stderr, flush=True)
    return py


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--torch", required=True, help="torch version to install, e.g. 2.14.1")
    p.add_argument("--dir", required=True, type=pathlib.Path, help="venv directory")
    p.add_argument("extra", nargs="*", help="further requirements (e.g. numpy pytest)")
    args = p.parse_args()
    print(ensure_venv(args.dir.resolve(), args.torch, args.extra))


if __name__ == "__main__":
    main()
