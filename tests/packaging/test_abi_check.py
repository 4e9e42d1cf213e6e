"""Fast tests of the abi-check verb on synthetic builds (no real torch needed).

The fixture compiles, with the system g++, a stand-in ``libc10.so`` in two
versions — one defining ``c10::SymInt::sym_ne(c10::SymInt const&) const``
(``_ZNK3c106SymInt6sym_neERKS0_``), one without it — and a stand-in torchrig
extension that calls it: the incident in miniature (built on "torch 2.8",
published as ``torch>=2.8,<2.10``, broken on "torch 2.9"). Fake torch packages
carry the attributes the probe reads; artifacts carry the repository's real
``_guard.py`` (with the ``_torch_version.py`` it imports).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from torchrig_release.abi import elf
from torchrig_release.abi.declared import CondaRange, PipRange, admitted_minors
from torchrig_release.abi.torch_install import TorchInstall
from torchrig_release.main import main as release_main
from torchrig_release.paths import REPO
from support.timeouts import COMMAND_S


def abi_check(argv: list[str]) -> int:
    """``torchrig-release abi-check ARGV`` in-process; its exit status."""
    return release_main(["abi-check", *argv])

SYM_NE = "_ZNK3c106SymInt6sym_neERKS0_"
SYM_NE_DEMANGLED = "c10::SymInt::sym_ne(c10::SymInt const&) const"

C10_SOURCE = """
namespace c10 {
struct SymInt { long v; bool sym_ne(const SymInt& o) const; };
#ifdef WITH_SYM_NE
bool SymInt::sym_ne(const SymInt& o) const { return v != o.v; }
#endif
int version() { return 1; }
}
"""
EXTENSION_SOURCE = """
#include <cstdio>
namespace c10 { struct SymInt { long v; bool sym_ne(const SymInt& o) const; }; int version(); }
extern "C" int torchrig_probe(long a, long b) {
  c10::SymInt x{a}, y{b};
  std::puts("probe");
  return x.sym_ne(y) + c10::version();
}
"""
FAKE_TORCH_INIT = """
__version__ = {version!r}
class version:
    cuda = {cuda!r}
    git_version = "fake"
class _C:
    _GLIBCXX_USE_CXX11_ABI = True
"""


def _gxx(*args: str | Path) -> None:
    subprocess.run(["g++", "-shared", "-fPIC", *map(str, args)], check=True, timeout=COMMAND_S)


@pytest.fixture(scope="module")
def native(tmp_path_factory) -> dict[str, Path]:
    """Compiled stand-ins: libc10.so with and without sym_ne, and the extension."""
    if shutil.which("g++") is None:
        pytest.skip("needs g++ to compile the synthetic libraries")
    d = tmp_path_factory.mktemp("native")
    (d / "c10.cpp").write_text(C10_SOURCE)
    (d / "ext.cpp").write_text(EXTENSION_SOURCE)
    (d / "with").mkdir()
    (d / "without").mkdir()
    _gxx("-DWITH_SYM_NE", "-Wl,-soname,libc10.so", "-o", d / "with/libc10.so", d / "c10.cpp")
    _gxx("-Wl,-soname,libc10.so", "-o", d / "without/libc10.so", d / "c10.cpp")
    _gxx("-o", d / "_C.so", d / "ext.cpp", f"-L{d / 'with'}", "-lc10")
    return {"with": d / "with/libc10.so", "without": d / "without/libc10.so", "ext": d / "_C.so"}


def make_torch(root: Path, version: str, libc10: Path, cuda: str | None = None,
               libs: tuple[Path, ...] = ()) -> Path:
    """A venv-like tree whose site-packages/torch imports as ``version``; returns torch/."""
    torch = root / "lib/python3.11/site-packages/torch"
    (torch / "lib").mkdir(parents=True)
    (torch / "__init__.py").write_text(FAKE_TORCH_INIT.format(version=version, cuda=cuda))
    shutil.copy(libc10, torch / "lib/libc10.so")
    for lib in libs:
        shutil.copy(lib, torch / "lib" / lib.name)
    return torch


@pytest.fixture(scope="module")
def torches(native, tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("torches")
    return {"2.8": make_torch(d / "t28", "2.8.0", native["with"]),
            "2.9": make_torch(d / "t29", "2.9.0", native["without"])}


def make_site(site: Path, extension: Path, requires: list[str], built: str = "2.8.0",
              with_cuda: bool = False, stable_target: str | None = None) -> Path:
    """An installed torchrig: package (real _guard.py, build info, extension) + dist-info."""
    pkg = site / "torchrig"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    for name in ("_guard.py", "_torch_version.py"):
        shutil.copy(REPO / "python/torchrig" / name, pkg / name)
    shutil.copy(extension, pkg / ("libtorchrig_stable.so" if stable_target
                                  else "_C.cpython-311-x86_64-linux-gnu.so"))
    info = {"torch_version": built, "torch_cuda": "12.9" if with_cuda else None,
            "cxx11_abi": True, "with_cuda": with_cuda, "compiler": "GNU test"}
    if stable_target:
        info.update(abi="stable", stable_target=stable_target)
    (pkg / "_build_info.json").write_text(json.dumps(info))
    meta = site / "torchrig-0.1.0.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: torchrig\nVersion: 0.1.0\n"
                                   + "".join(f"Requires-Dist: {r}\n" for r in requires))
    return site


def make_wheel(tmp: Path, extension: Path, requires: list[str], **kw) -> Path:
    site = make_site(tmp / "wheel-tree", extension, requires, **kw)
    wheel = tmp / "torchrig-0.1.0-cp311-cp311-linux_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for f in sorted(site.rglob("*")):
            zf.write(f, f.relative_to(site))
    return wheel


def make_conda(tmp: Path, extension: Path, depends: list[str], **kw) -> Path:
    """A .conda holding the installed tree and info/index.json with ``depends``."""
    api = pytest.importorskip("conda_package_handling.api")
    prefix = tmp / "conda-tree"
    make_site(prefix / "lib/python3.11/site-packages", extension, ["torch"], **kw)
    (prefix / "info").mkdir()
    (prefix / "info/index.json").write_text(json.dumps({"name": "torchrig", "depends": depends}))
    files = [str(f.relative_to(prefix)) for f in prefix.rglob("*") if f.is_file()]
    name = "torchrig-0.1.0-py311_pt28_cpu_0.conda"
    api.create(str(prefix), files, name, out_folder=str(tmp))
    return tmp / name


def run(capsys, *argv: str | Path) -> tuple[int, str]:
    code = abi_check([str(a) for a in argv])
    return code, capsys.readouterr().out


def run_json(capsys, *argv: str | Path) -> tuple[int, dict]:
    code, out = run(capsys, *argv, "--json")
    return code, json.loads(out)


# --- the incident ----------------------------------------------------------------

def test_incident_range_admitting_a_broken_minor_fails(native, torches, tmp_path, capsys):
    wheel = make_wheel(tmp_path, native["ext"], ["torch>=2.8,<2.10"])
    code, out = run(capsys, wheel, "--torch", torches["2.8"], "--torch", torches["2.9"])
    assert code == 1
    assert SYM_NE_DEMANGLED in out and SYM_NE in out
    _, report = run_json(capsys, wheel, "--torch", torches["2.8"], "--torch", torches["2.9"])
    assert report["problems"] == [
        "torch 2.9.0 cannot load this build: 1 missing symbol(s), e.g. " + SYM_NE_DEMANGLED
        + "; build info: torch minor 2.8 != 2.9",
        "declared range torch<2.10,>=2.8 admits torch 2.9.0, which cannot load this build: "
        "pip/conda would install them together",
    ]
    t28, t29 = report["targets"]
    assert t28["loads"] and t28["missing"] == []
    assert [s["demangled"] for s in t29["missing"]] == [SYM_NE_DEMANGLED]
    assert t29["admitted"] and "2.8 != 2.9" in "; ".join(t29["guard_problems"])


def test_range_spanning_minors_fails_when_one_is_not_verified(native, torches, tmp_path, capsys):
    wheel = make_wheel(tmp_path, native["ext"], ["torch>=2.8,<2.10"])
    code, out = run(capsys, wheel, "--torch", torches["2.8"])
    assert code == 1
    assert "admits torch 2.9, not verified" in out


def test_one_minor_pin_verified_passes(native, torches, tmp_path, capsys):
    wheel = make_wheel(tmp_path, native["ext"], ["torch>=2.8,<2.9"])
    code, out = run(capsys, wheel, "--torch", torches["2.8"])
    assert code == 0, out
    assert "RESULT: OK" in out and "all 2 torch symbols defined by libc10.so" in out


def test_excluded_broken_torch_is_reported_but_no_broken_promise(native, torches, tmp_path, capsys):
    wheel = make_wheel(tmp_path, native["ext"], ["torch>=2.8,<2.9"])
    code, report = run_json(capsys, wheel, "--torch", torches["2.8"], "--torch", torches["2.9"])
    assert code == 1
    assert not report["targets"][1]["admitted"]
    assert not any("admits torch 2.9" in p for p in report["problems"])
    assert any(p.startswith("torch 2.9.0 cannot load") for p in report["problems"])


def test_minor_counts_as_checked_only_through_an_admitted_torch(native, tmp_path, capsys):
    """`pytorch * cpu*` admits no CUDA torch: a CUDA 2.8 checks nothing for the CPU 2.8."""
    pytest.importorskip("rattler")
    cuda28 = make_torch(tmp_path / "cuda28", "2.8.0", native["with"], cuda="12.9")
    prefix = make_conda(tmp_path, native["ext"], ["pytorch >=2.8,<2.9", "pytorch * cpu*"])
    code, report = run_json(capsys, prefix, "--torch", cuda28)
    assert code == 1 and report["targets"][0]["loads"] and not report["targets"][0]["admitted"]
    assert report["problems"] == ["declared range pytorch >=2.8,<2.9, pytorch * cpu* admits torch 2.8, "
                                  "not verified to load this build (pass such a torch with --torch)"]


def test_symbols_ok_but_build_info_rejected(native, torches, tmp_path, capsys):
    """A CUDA build beside a CPU torch: symbols resolve, the guard refuses."""
    wheel = make_wheel(tmp_path, native["ext"], ["torch>=2.8,<2.9"], with_cuda=True)
    code, report = run_json(capsys, wheel, "--torch", torches["2.8"])
    assert code == 1
    target = report["targets"][0]
    assert target["missing"] == [] and not target["loads"]
    assert "but this torch is a CPU build" in "; ".join(target["guard_problems"])


def test_cuda_build_against_another_cuda_major_is_rejected(native, tmp_path, capsys):
    cuda13 = make_torch(tmp_path / "cu13", "2.8.0", native["with"], cuda="13.0")
    wheel = make_wheel(tmp_path, native["ext"], ["torch>=2.8,<2.9"], with_cuda=True)  # CUDA 12.9
    code, report = run_json(capsys, wheel, "--torch", cuda13)
    target = report["targets"][0]
    assert code == 1 and target["cuda_mismatch"] == "CUDA 12.9 build, torch has CUDA 13.0 (major differs)"
    # the import guard refuses it too (issue 26: it let a CUDA major mismatch of one minor through)
    assert ["it was built against a CUDA 12.9 torch (needs the CUDA 12 runtime) but this torch uses "
            "CUDA 13.0"] == target["guard_problems"]


@pytest.mark.parametrize("requires, problem", [
    (["torch>=2.8"], "has no upper bound"),
    (["torch>=2.9,<2.10"], "excludes torch 2.8.0, the torch it was built with"),
    (["numpy"], "no torch requirement"),
])
def test_declared_range_problems(native, torches, tmp_path, capsys, requires, problem):
    wheel = make_wheel(tmp_path, native["ext"], requires)
    code, out = run(capsys, wheel, "--torch", torches["2.8"])
    assert code == 1 and problem in out


def test_installed_package_reads_dist_info(native, torches, tmp_path, capsys):
    site = make_site(tmp_path / "env/lib/python3.11/site-packages", native["ext"], ["torch>=2.8,<2.9"])
    for spec in (tmp_path / "env", site, site / "torchrig"):
        code, report = run_json(capsys, spec, "--torch", torches["2.8"])
        assert code == 0 and report["artifact"]["kind"] == "installed", report["problems"]
        assert report["artifact"]["declared"]["entries"] == ["torch<2.9,>=2.8"]


def test_installed_range_is_torchrig_s_not_the_release_tooling_s(native, torches, tmp_path, capsys):
    """`.venv` holds torchrig and torchrig_release (no torch requirement): abi-check of it read
    torchrig_release's dist-info and reported "(no torch requirement)" (found 2026-12-06)."""
    from torchrig_release.abi.artifact import ArtifactError, _pip_range

    site = tmp_path / "env/lib/python3.11/site-packages"
    tooling = site / "torchrig_release-0.1.0.dist-info"
    tooling.mkdir(parents=True)
    (tooling / "METADATA").write_text("Metadata-Version: 2.1\nName: torchrig_release\nVersion: 0.1.0\n")
    with pytest.raises(ArtifactError, match="no torchrig dist-info"):
        _pip_range(site, "dist-info Requires-Dist")
    make_site(site, native["ext"], ["torch>=2.8,<2.9"])
    code, report = run_json(capsys, tmp_path / "env", "--torch", torches["2.8"])
    assert report["artifact"]["declared"]["entries"] == ["torch<2.9,>=2.8"], report


def test_conda_package_reads_index_json(native, torches, tmp_path, capsys):
    pytest.importorskip("rattler")
    depends = ["python >=3.11,<3.12.0a0", "pytorch >=2.8,<2.10", "pytorch * cpu*"]
    package = make_conda(tmp_path, native["ext"], depends)
    code, report = run_json(capsys, package, "--torch", torches["2.8"], "--torch", torches["2.9"])
    assert code == 1
    assert report["artifact"]["declared"]["entries"] == ["pytorch >=2.8,<2.10", "pytorch * cpu*"]
    assert report["admitted_minors"] == ["2.8", "2.9"]
    assert [t["admitted"] for t in report["targets"]] == [True, True]
    assert any("admits torch 2.9.0, which cannot load" in p for p in report["problems"])


def test_bad_arguments_exit_2(native, torches, tmp_path, capsys):
    wheel = make_wheel(tmp_path, native["ext"], ["torch>=2.8,<2.9"])
    assert abi_check([str(tmp_path / "nope.whl"), "--torch", str(torches["2.8"])]) == 2
    code = abi_check([str(wheel), "--torch", "9.9.9", "--venv-root", str(tmp_path)])
    assert code == 2
    assert "torchrig_release venv --torch 9.9.9" in capsys.readouterr().err
    (tmp_path / "wheel-tree/torchrig/_C.cpython-311-x86_64-linux-gnu.so").unlink()
    assert abi_check([str(tmp_path / "wheel-tree"), "--torch", str(torches["2.8"])]) == 2
    assert "no extension module" in capsys.readouterr().err


# --- pieces ----------------------------------------------------------------------

def test_undefined_torch_symbols_are_found_and_demangled(native):
    torch_syms = [s for s in elf.undefined_symbols(native["ext"]) if elf.is_torch_symbol(s)]
    assert {s.demangled for s in torch_syms} == {SYM_NE_DEMANGLED, "c10::version()"}
    assert "puts" in {s.name for s in elf.undefined_symbols(native["ext"])}


def test_symbol_table_lookup(native):
    with elf.SymbolTable(native["with"]) as with_, elf.SymbolTable(native["without"]) as without:
        assert with_.defines(SYM_NE) and not without.defines(SYM_NE)
        assert without.defines("_ZN3c107versionEv")


@pytest.mark.parametrize("name, is_torch", [
    ("_ZNK3c106SymInt6sym_neERKS0_", True),
    ("_ZTIN3c105ErrorE", True),                          # typeinfo for c10::Error
    ("_ZN2at4_ops5empty4callEN3c108ArrayRefINS2_6SymIntEEE", True),
    ("aoti_torch_empty_strided", True),                  # stable-ABI C shim
    ("_ZNSt6vectorIiSaIiEE17_M_realloc_insertEv", False),  # std::vector<int>
    ("PyErr_Clear", False),
    ("_ZN8pybind116detail11get_internalsEv", False),
])
def test_is_torch_symbol(name, is_torch):
    assert elf.is_torch_symbol(elf.Symbol(name, elf.demangle(name))) is is_torch


def test_dependency_closure_reports_missing_torch_libraries(native, tmp_path):
    shutil.copy(native["with"], tmp_path / "libc10.so")
    found, missing = elf.torch_dependency_closure(
        ["libc10.so", "libtorch_cuda.so", "libstdc++.so.6"], tmp_path)
    assert [p.name for p in found] == ["libc10.so"] and missing == ["libtorch_cuda.so"]


@pytest.mark.parametrize("requires, minors, unbounded", [
    (["torch>=2.8,<2.10"], [(2, 8), (2, 9)], False),
    (["torch<2.14,>=2.13"], [(2, 13)], False),
    (["torch==2.13.*"], [(2, 13)], False),
    (["torch>=2.13.1,<2.14"], [(2, 13)], False),
    (["torch>=2.13"], None, True),
    (["torch>=2.13,<2.14; extra == 'x'", "torch<2.10"], None, False),  # extra ignored
])
def test_pip_range_admitted_minors(requires, minors, unbounded):
    got, got_unbounded = admitted_minors(PipRange.from_requires(requires, "test"))
    assert got_unbounded is unbounded
    if minors is not None:
        assert got == minors


def test_pip_range_admits_local_versions():
    declared = PipRange.from_requires(["torch>=2.13,<2.14"], "test")
    assert declared.admits_version("2.13.0+cpu") and not declared.admits_version("2.14.1+cu130")


def _torch(version: str, cuda: str | None) -> TorchInstall:
    return TorchInstall(spec=version, python="python", version=version, cuda=cuda, git_version=None,
                        cxx11_abi=True, path="/nowhere", lib_dir="/nowhere/lib", python_version="3.11")


def test_conda_range_checks_version_and_flavour():
    pytest.importorskip("rattler")
    declared = CondaRange.from_depends(["python", "pytorch >=2.13,<2.14", "pytorch * cpu*"], "test")
    assert declared.entries == ["pytorch >=2.13,<2.14", "pytorch * cpu*"]
    assert declared.admits(_torch("2.13.0+cpu", None))
    assert not declared.admits(_torch("2.13.0", "12.9"))        # flavour: cuda129_...
    assert not declared.admits(_torch("2.14.1+cu130", None))
    assert admitted_minors(declared) == ([(2, 13)], False)


# --- the stable-ABI mode ---------------------------------------------------------
# A stand-in libtorch_cpu.so exporting a C shim function in an "old" torch (2.12) and
# a "new" one (2.15, plus one more shim function); stand-in stable extensions call the
# shim only, a shim function the old torch lacks, or also the C++ c10::SymInt::sym_ne.

SHIM_SOURCE = """
extern "C" int aoti_torch_get_dim(void* t) { return t != 0; }
#ifdef NEW_SHIM
extern "C" int aoti_torch_new_thing() { return 2; }
#endif
"""
STABLE_EXT_SOURCE = """
extern "C" int aoti_torch_get_dim(void*);
#ifdef USE_NEW
extern "C" int aoti_torch_new_thing();
#endif
#ifdef USE_MANGLED
namespace c10 { struct SymInt { long v; bool sym_ne(const SymInt& o) const; }; }
#endif
extern "C" int torchrig_stable_probe(void* t) {
  int r = aoti_torch_get_dim(t);
#ifdef USE_NEW
  r += aoti_torch_new_thing();
#endif
#ifdef USE_MANGLED
  c10::SymInt x{1}, y{2};
  r += x.sym_ne(y);
#endif
  return r;
}
"""


@pytest.fixture(scope="module")
def stable_native(native, tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("stable-native")
    (d / "shim.cpp").write_text(SHIM_SOURCE)
    (d / "ext.cpp").write_text(STABLE_EXT_SOURCE)
    for version, flags in (("old", []), ("new", ["-DNEW_SHIM"])):
        (d / version).mkdir()
        _gxx(*flags, "-Wl,-soname,libtorch_cpu.so", "-o", d / version / "libtorch_cpu.so", d / "shim.cpp")
    out = {"old": d / "old/libtorch_cpu.so", "new": d / "new/libtorch_cpu.so"}
    for name, flags in (("shim", []), ("new", ["-DUSE_NEW"]), ("mangled", ["-DUSE_MANGLED"])):
        out[f"ext_{name}"] = d / f"ext_{name}.so"
        _gxx(*flags, "-o", out[f"ext_{name}"], d / "ext.cpp", f"-L{d / 'new'}", "-ltorch_cpu",
             f"-L{native['with'].parent}", "-lc10")
    return out


@pytest.fixture(scope="module")
def stable_torches(native, stable_native, tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("stable-torches")
    return {v: make_torch(d / f"t{v}", f"{v}.0", native["with"], libs=(stable_native[lib],))
            for v, lib in (("2.9", "old"), ("2.12", "old"), ("2.15", "new"))}


def make_stable_wheel(tmp: Path, extension: Path, requires=("torch>=2.10",)) -> Path:
    return make_wheel(tmp, extension, list(requires), built="2.13.0", stable_target="2.10")


def test_stable_build_needing_only_the_shim_passes_beyond_its_build_torch(
        stable_native, stable_torches, tmp_path, capsys):
    wheel = make_stable_wheel(tmp_path, stable_native["ext_shim"])
    code, out = run(capsys, wheel, "--torch", stable_torches["2.12"], "--torch", stable_torches["2.15"])
    assert code == 0, out
    assert "RESULT: OK" in out and "abi        stable, target torch 2.10" in out
    assert "all 1 C shim symbols defined by libtorch_cpu.so" in out
    assert "NOTE: the target torch 2.10 was not among the torches checked (oldest checked: 2.12)" in out


@pytest.mark.parametrize("requires", [["torch>=2.10,<2.16"], ["torch>=2.8"], ["torch>=2.12"],
                                      ["torch>=2.13,<2.14"]])
def test_stable_build_range_must_be_exactly_the_target_on(stable_native, stable_torches, tmp_path,
                                                          capsys, requires):
    """Classic-style pins (one minor, an upper bound) fail, and so does a floor below the target."""
    wheel = make_stable_wheel(tmp_path, stable_native["ext_shim"], requires)
    code, report = run_json(capsys, wheel, "--torch", stable_torches["2.15"], "--torch",
                            stable_torches["2.12"])
    assert code == 1
    assert report["abi"] == "stable"
    assert any(p.startswith(f"declared range {report['artifact']['declared']['entries'][0]} is not "
                            "torch>=2.10") for p in report["problems"]), report["problems"]


def test_stable_build_using_a_cxx_torch_symbol_fails_even_where_defined(
        stable_native, stable_torches, tmp_path, capsys):
    wheel = make_stable_wheel(tmp_path, stable_native["ext_mangled"])
    code, report = run_json(capsys, wheel, "--torch", stable_torches["2.15"])
    assert code == 1 and report["targets"][0]["missing"] == []
    assert report["problems"] == [
        f"stable-ABI library uses the C++ torch symbol {SYM_NE_DEMANGLED}: it ties the binary "
        "to one torch minor (use the torch/csrc/stable API instead)"]


def test_stable_build_needing_a_shim_symbol_an_older_torch_lacks(stable_native, stable_torches,
                                                                 tmp_path, capsys):
    wheel = make_stable_wheel(tmp_path, stable_native["ext_new"])
    code, report = run_json(capsys, wheel, "--torch", stable_torches["2.12"], "--torch",
                            stable_torches["2.15"])
    assert code == 1
    assert [t["loads"] for t in report["targets"]] == [False, True]
    assert report["problems"][0] == ("torch 2.12.0 cannot load this build: 1 missing symbol(s), "
                                     "e.g. aoti_torch_new_thing")
    assert "declared range torch>=2.10 admits torch 2.12.0, which cannot load" in report["problems"][1]


def test_stable_build_beside_a_torch_below_its_target(stable_native, stable_torches, tmp_path, capsys):
    wheel = make_stable_wheel(tmp_path, stable_native["ext_shim"])
    code, report = run_json(capsys, wheel, "--torch", stable_torches["2.9"], "--torch",
                            stable_torches["2.15"])
    assert code == 1 and [t["admitted"] for t in report["targets"]] == [False, True]
    assert "older than 2.10" in "; ".join(report["targets"][0]["guard_problems"])
    assert not any("admits torch 2.9" in p for p in report["problems"])


def test_stable_conda_package(stable_native, stable_torches, tmp_path, capsys):
    pytest.importorskip("rattler")
    depends = ["python >=3.10", "pytorch >=2.10", "pytorch * cpu*"]
    package = make_conda(tmp_path, stable_native["ext_shim"], depends, built="2.13.0",
                         stable_target="2.10")
    code, report = run_json(capsys, package, "--torch", stable_torches["2.15"])
    assert code == 0, report["problems"]
    assert report["artifact"]["declared"]["entries"] == ["pytorch >=2.10", "pytorch * cpu*"]
    code, report = run_json(capsys, make_conda(tmp_path / "b", stable_native["ext_shim"],
                                               ["pytorch >=2.13,<2.14.0a0", "pytorch * cpu*"],
                                               built="2.13.0", stable_target="2.10"),
                            "--torch", stable_torches["2.15"])
    assert code == 1 and "is not pytorch >=2.10" in "; ".join(report["problems"])
