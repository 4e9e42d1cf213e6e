"""Make ``import torchrig_release`` work in this interpreter, like an editable install of it alone.

Run by path (``python python/torchrig_release/_link.py``): by tools/dev-setup for .venv
and by the pixi task `link-release` before the release verbs. It writes two files into
site-packages: ``_torchrig_release_finder.py``, an import finder that maps the one name
``torchrig_release`` to this folder, and ``torchrig_release.pth``, which imports it at
start-up (what setuptools' editable installs do). python/ as a whole is never put on
sys.path: it would shadow the installed torchrig (python/torchrig has no compiled _C).
Edits to the tooling take effect at once; no symlink, so it works on Windows too.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import sysconfig

HERE = pathlib.Path(__file__).resolve().parent
FINDER = '''"""Import finder for torchrig_release (written by {here}/_link.py)."""
import importlib.abc
import importlib.util
import sys

PATH = {path!r}


class Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "torchrig_release":
            return None
        return importlib.util.spec_from_file_location(
            name, PATH + "/__init__.py", submodule_search_locations=[PATH])


sys.meta_path.append(Finder())  # once: this module is imported once per interpreter
'''


def link(site: pathlib.Path) -> list[pathlib.Path]:
    """Write the finder and its .pth into ``site``; returns the files written."""
    site.mkdir(parents=True, exist_ok=True)
    finder = site / "_torchrig_release_finder.py"
    finder.write_text(FINDER.format(here=HERE, path=HERE.as_posix()))
    pth = site / "torchrig_release.pth"
    pth.write_text("import _torchrig_release_finder\n")
    return [finder, pth]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--site", type=pathlib.Path, default=pathlib.Path(sysconfig.get_paths()["purelib"]),
                   help="site-packages to write into (default: this interpreter's, %(default)s)")
    for path in link(p.parse_args().site):
        print(f"wrote {path} (torchrig_release -> {HERE})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
