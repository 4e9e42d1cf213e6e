"""Is a wheel manylinux_2_28, as auditwheel judges it, like torch's own Linux wheels?

* auditwheel's verdict on the symbol versions (its ``analyze_wheel_abi`` with `repair`'s
  exclusions, as `auditwheel repair` judges; ``auditwheel show`` has no ``--exclude``) must be
  manylinux_2_28 or older, and so must every platform tag of the wheel's name;
* no OpenMP runtime may be grafted (``<name>.libs/libgomp*``, ``libomp*``, ``libiomp*``): torch's
  wheels bring their own (torch/lib/libgomp.so.1), and a second one in the process fights it
  for the threads.

The limits are auditwheel's own (its ``manylinux-policy.json``, e.g. GLIBC 2.28, GLIBCXX
3.4.24, CXXABI 1.3.11 for manylinux_2_28); a failure names each too-new symbol version, the
symbols that ask for it and the library of the wheel they are in, read from the ELF files.
"""
from __future__ import annotations

import functools
import json
import logging
import re
import tempfile
import zipfile
from importlib import resources
from pathlib import Path, PurePosixPath

from elftools.elf.elffile import ELFFile

from ..errors import WheelError
from .archive import WheelName

__all__ = ["MAX_GLIBC", "OPENMP_RUNTIMES", "grafted_openmp", "manylinux_problems", "symbol_tag",
           "too_new_symbols"]

MAX_GLIBC = (2, 28)          # the tag of torch >= 2.9's Linux wheels
OPENMP_RUNTIMES = re.compile(r"^lib(gomp|omp|iomp5)([-.]|$)")
_TAG = re.compile(r"^manylinux_(\d+)_(\d+)_(\w+)$")
_FIX = ("build with cmake/manylinux.cmake's compat on (TORCHRIG_MANYLINUX_COMPAT=ON, the default) "
        "or in the quay.io/pypa/manylinux_2_28 image, then `repair --plat manylinux_2_28_<arch>`; "
        "a symbol the compat source does not cover yet gets a line in csrc/compat/glibc_2_28.cpp "
        "(docs/publishing.md, \"manylinux_2_28 from a newer builder\")")


@functools.cache
def _policy(arch: str) -> dict[str, list[str]]:
    """auditwheel's allowed symbol versions of manylinux_2_28 for ``arch`` (prefix -> versions)."""
    try:
        text = (resources.files("auditwheel") / "policy" / "manylinux-policy.json").read_text()
    except ModuleNotFoundError:
        raise WheelError("auditwheel is not installed for this Python: pip install auditwheel "
                         "(requirements/dev.txt)", 2) from None
    name = "manylinux_{}_{}".format(*MAX_GLIBC)
    (policy,) = [p for p in json.loads(text) if p["name"] == name]
    return policy["symbol_versions"][arch]


def _elf_files(wheel: Path, into: Path) -> list[tuple[str, Path]]:
    """The ELF members of ``wheel`` (name in the archive, extracted path)."""
    out = []
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if not re.search(r"\.so(\.\d+)*$", name):
                continue
            data = zf.read(name)
            if data[:4] == b"\x7fELF":
                target = into / str(len(out))
                target.write_bytes(data)
                out.append((name, target))
    return out


def too_new_symbols(path: Path, arch: str) -> dict[str, list[str]]:
    """``{"libc.so.6 GLIBC_2.32": ["__libc_single_threaded"], ...}``: the undefined dynamic
    symbols of the ELF file ``path`` whose version manylinux_2_28 does not allow."""
    allowed = _policy(arch)
    with open(path, "rb") as f:
        elf = ELFFile(f)
        verneed, versym, dynsym = (elf.get_section_by_name(n) for n in
                                   (".gnu.version_r", ".gnu.version", ".dynsym"))
        if verneed is None or versym is None or dynsym is None:
            return {}
        too_new: dict[int, str] = {}
        for need, auxes in verneed.iter_versions():
            for aux in auxes:
                prefix, _, number = aux.name.partition("_")
                if prefix in allowed and number not in allowed[prefix]:   # auditwheel's rule
                    too_new[aux["vna_other"]] = f"{need.name} {aux.name}"
        found: dict[str, list[str]] = {}
        for i, sym in enumerate(dynsym.iter_symbols()):
            ndx = versym.get_symbol(i)["ndx"]
            if isinstance(ndx, int) and (ndx & 0x7FFF) in too_new and sym["st_shndx"] == "SHN_UNDEF":
                found.setdefault(too_new[ndx & 0x7FFF], []).append(sym.name)
    return found


def grafted_openmp(wheel: Path) -> list[str]:
    """The OpenMP runtimes auditwheel grafted into ``wheel`` (``<name>.libs/...``)."""
    with zipfile.ZipFile(wheel) as zf:
        return [n for n in zf.namelist() if PurePosixPath(n).parent.name.endswith(".libs")
                and OPENMP_RUNTIMES.match(PurePosixPath(n).name)]


def _from_name(read, wheel: Path):
    """auditwheel's reading of the wheel's name (libc, architecture), None where the name has
    none (a raw ``linux_x86_64`` wheel), as ``auditwheel show`` does."""
    from auditwheel.error import AuditwheelError

    try:
        return read(wheel.name)
    except AuditwheelError:
        return None


def symbol_tag(wheel: Path) -> str:
    """auditwheel's verdict on the symbol versions of ``wheel`` with `repair`'s exclusions (what
    `auditwheel repair` judges; `auditwheel show` has no --exclude and would judge the builder's
    own libgomp.so.1, which the wheel never carries)."""
    from .repair import EXCLUDE

    try:
        from auditwheel.wheel_abi import analyze_wheel_abi
        from auditwheel.wheeltools import get_wheel_architecture, get_wheel_libc
    except ImportError:
        raise WheelError("auditwheel is not installed for this Python: pip install auditwheel "
                         "(requirements/dev.txt)", 2) from None
    quiet = logging.getLogger("auditwheel")
    level, quiet.level = quiet.level, logging.WARNING
    try:
        info = analyze_wheel_abi(_from_name(get_wheel_libc, wheel),
                                 _from_name(get_wheel_architecture, wheel),
                                 wheel, frozenset(EXCLUDE), disable_isa_ext_check=False,
                                 allow_graft=False)
        return info.sym_policy.name
    except (TypeError, AttributeError) as err:    # its Python API moved (written for 6.8)
        raise WheelError(f"auditwheel's analyze_wheel_abi is not the one of auditwheel 6.8 "
                         f"({err}): pin auditwheel 6.8 or update wheel/manylinux.py", 2) from None
    finally:
        quiet.level = level


def _above(tag: str) -> bool:
    m = _TAG.match(tag)
    return m is None or (int(m.group(1)), int(m.group(2))) > MAX_GLIBC


def manylinux_problems(wheel: Path) -> tuple[list[str], str]:
    """(problems, auditwheel's symbol-version tag) of a Linux wheel: empty when it is
    manylinux_2_28 or older as auditwheel judges it and grafts no OpenMP runtime."""
    problems = []
    tags = WheelName.parse(wheel).platform.split(".")
    arch = next((m.group(3) for m in map(_TAG.match, tags) if m), None)
    if arch is None:
        return [f"platform {'.'.join(tags)} is no manylinux tag (run `repair`)"], ""
    named = [t for t in tags if _above(t)]
    if named:
        problems.append(f"the name's tag {', '.join(named)} is above manylinux_2_28 (repair with "
                        f"--plat manylinux_2_28_{arch})")
    sym_tag = symbol_tag(wheel)
    if _above(sym_tag):
        problems.append(f"auditwheel: its symbol versions need {sym_tag}; {_FIX}")
        with tempfile.TemporaryDirectory(prefix="torchrig-manylinux-") as tmp:
            for member, path in _elf_files(wheel, Path(tmp)):
                for version, symbols in sorted(too_new_symbols(path, arch).items()):
                    problems.append(f"{member} needs {version} ({', '.join(sorted(symbols))})")
    for member in grafted_openmp(wheel):
        problems.append(f"{member}: a grafted OpenMP runtime (torch's own must be used; "
                        f"`repair` excludes libgomp.so*: repair the raw wheel again)")
    return problems, sym_tag
