"""`upload` with a stand-in ABI check: ``python -m support.upload_standin CHECKER [upload args]``.

The upload tests' replacement for the real (in-process) ABI check: CHECKER is a
script called as ``python CHECKER PACKAGE --torch T ...``; exit 0 passes. Product
code reads no override: this launcher hands the stand-in to the gate before running
the verb. A missing CHECKER reads as an unavailable check.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from torchrig_release import main as cli
from torchrig_release.upload import abi
from support.timeouts import COMMAND_S


def script_checker(script: Path) -> abi.Checker:
    def check(package: Path, torches: list[str]) -> tuple[bool, str]:
        if not script.is_file():
            raise FileNotFoundError(f"{script} is missing")
        result = subprocess.run([sys.executable, str(script), str(package),
                                 *(a for t in torches for a in ("--torch", t))],
                                capture_output=True, text=True, check=False, timeout=COMMAND_S)
        return result.returncode == 0, result.stdout + result.stderr
    return check


def main(argv: list[str]) -> int:
    checker = script_checker(Path(argv[0]))
    abi.real_check = lambda venv_root=None: checker  # the gate asks for its checker here
    return cli.main(["upload", *argv[1:]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
