"""``python -m torchrig_release``: the release tooling's command line (see main.py)."""
from __future__ import annotations

import sys

from .main import main

if __name__ == "__main__":
    sys.exit(main())
