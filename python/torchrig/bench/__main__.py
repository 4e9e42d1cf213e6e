"""``python -m torchrig.bench [flags]``: the same as ``python -m torchrig bench [flags]``."""
from __future__ import annotations

import sys

from .command import cli

if __name__ == "__main__":
    sys.exit(cli())
