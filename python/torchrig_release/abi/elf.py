"""Dynamic symbols of ELF shared objects, read with pyelftools.

Only the dynamic symbol table matters: it is what the loader uses when
``import torchrig`` dlopen()s the extension (CPython loads with RTLD_NOW, so an
undefined symbol that no loaded library defines fails the import at once).
Names are demangled with cxxfilt (libstdc++'s ``__cxa_demangle``), falling back
to the ``c++filt`` program.
"""
from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile

__all__ = ["Symbol", "SymbolTable", "demangle", "is_torch_symbol", "needed_libraries",
           "torch_dependency_closure", "undefined_symbols"]

# A demangled name that mentions one of torch's C++ namespaces, e.g.
# "c10::SymInt::sym_ne(c10::SymInt const&) const", "typeinfo for c10::Error",
# "std::vector<at::Tensor, ...>::~vector()": all must come from torch's libraries.
_TORCH_NAMESPACE = re.compile(r"(?<![\w:])(c10|at|torch|caffe2)::")
# torch's C shim, the only torch symbols of a stable-ABI (STABLE_TORCH_LIBRARY) build.
_TORCH_C_SHIM = re.compile(r"^(aoti_torch_|torch_)\w+$")
# The libraries a torch installation ships in torch/lib.
_TORCH_LIBRARY = re.compile(r"^lib(torch|c10)\w*\.so(\.\d+)*$")


@dataclass(frozen=True)
class Symbol:
    """A dynamic symbol: its mangled name, demangled name and binding."""

    name: str
    demangled: str
    weak: bool = False


def optional_at_load(symbol: Symbol) -> bool:
    """A weak reference to a TLS init function (``_ZTH…``) that may stay undefined.

    The compiler emits one for every ``thread_local`` of another library it touches
    (e.g. c10's dispatch key set, through ``at::AutoDispatchBelowAutograd``) and calls
    it only when the dynamic linker resolved it: a torch whose variable needs no dynamic
    initialisation defines no such function, and the library still loads and runs.
    """
    return symbol.weak and symbol.name.startswith("_ZTH")


@functools.cache
def demangle(name: str) -> str:
    """Itanium C++ demangling; non-C++ names come back unchanged."""
    try:
        import cxxfilt
    except ImportError:
        return _demangle_with_program(name)
    try:
        return cxxfilt.demangle(name)
    except cxxfilt.InvalidName:
        return name


def _demangle_with_program(name: str) -> str:
    program = shutil.which("c++filt")
    if program is None:
        raise RuntimeError("demangling needs the cxxfilt package (pip install cxxfilt) or c++filt")
    return subprocess.run([program, name], capture_output=True, text=True, check=True).stdout.strip()


def is_torch_symbol(symbol: Symbol) -> bool:
    """Whether a symbol belongs to torch's libraries (c10, at, torch, caffe2, C shim)."""
    return bool(_TORCH_NAMESPACE.search(symbol.demangled) or _TORCH_C_SHIM.match(symbol.name))


def _is_undefined(sym) -> bool:
    return sym["st_shndx"] == "SHN_UNDEF"


def undefined_symbols(path: Path) -> list[Symbol]:
    """The named symbols ``path`` needs from other libraries, in table order."""
    with open(path, "rb") as f:
        dynsym = ELFFile(f).get_section_by_name(".dynsym")
        if dynsym is None:
            return []
        return [Symbol(s.name, demangle(s.name), s["st_info"]["bind"] == "STB_WEAK")
                for s in dynsym.iter_symbols() if s.name and _is_undefined(s)]


def needed_libraries(path: Path) -> list[str]:
    """DT_NEEDED entries (sonames) of a shared object."""
    with open(path, "rb") as f:
        dynamic = ELFFile(f).get_section_by_name(".dynamic")
        return [] if dynamic is None else [t.needed for t in dynamic.iter_tags("DT_NEEDED")]


def torch_dependency_closure(needed: Iterable[str], lib_dir: Path) -> tuple[list[Path], list[str]]:
    """The torch libraries the loader searches for an object needing ``needed``.

    Follows DT_NEEDED breadth-first (the loader's search order) through
    ``lib_dir``, staying within torch's own libraries (libtorch*, libc10*).
    Returns (libraries found, torch sonames that ``lib_dir`` lacks).
    """
    found: list[Path] = []
    missing: list[str] = []
    queue = deque(n for n in needed if _TORCH_LIBRARY.match(n))
    seen: set[str] = set()
    while queue:
        name = queue.popleft()
        if name in seen:
            continue
        seen.add(name)
        path = lib_dir / name
        if not path.is_file():
            missing.append(name)
            continue
        found.append(path)
        queue.extend(n for n in needed_libraries(path) if _TORCH_LIBRARY.match(n))
    return found, missing


class SymbolTable:
    """The symbols one shared library defines, looked up by name.

    Uses the library's GNU hash table (what the dynamic loader itself uses):
    a lookup costs microseconds even in libtorch_cpu's ~75,000 symbols. A
    library without one is read in full once.
    """

    def __init__(self, path: Path):
        self.path = path
        self._file = open(path, "rb")
        elf = ELFFile(self._file)
        self._hash = elf.get_section_by_name(".gnu.hash") or elf.get_section_by_name(".hash")
        self._names: set[str] | None = None
        if self._hash is None:
            dynsym = elf.get_section_by_name(".dynsym")
            self._names = {s.name for s in dynsym.iter_symbols() if s.name and not _is_undefined(s)}

    def defines(self, name: str) -> bool:
        if self._names is not None:
            return name in self._names
        sym = self._hash.get_symbol(name)
        return sym is not None and not _is_undefined(sym)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> SymbolTable:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
