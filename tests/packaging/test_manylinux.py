"""manylinux_2_28 from this builder (glibc 2.36, gcc 12): cmake/manylinux.cmake and `check`.

A probe library that does what torchrig's libraries do behind their back (copies a
std::shared_ptr: gcc's <ext/atomicity.h> reads __libc_single_threaded, GLIBC_2.32; calls
dlsym as torch >= 2.14's stable headers do: GLIBC_2.34) is built twice through
cmake/manylinux.cmake, TORCHRIG_MANYLINUX_COMPAT OFF and ON, and packed into a wheel tagged
manylinux_2_28. `check`'s manylinux check (auditwheel show's verdict; the symbols named from
the ELF file) refuses the first and passes the second, which still runs; a grafted libgomp is
refused. The real wheels are checked in tests/packaging/test_stable_abi.py and test_wheels.py.
A few seconds (two tiny CMake builds), in the default run.
"""
from __future__ import annotations

import base64
import ctypes
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from support.timeouts import COMMAND_S
from torchrig_release.paths import REPO
from torchrig_release.wheel.check import check_manylinux

pytest.importorskip("auditwheel")

PROBE = r"""
#include <dlfcn.h>
#include <memory>
extern "C" long probe_refcount() {
  auto p = std::make_shared<int>(1);
  auto q = p;                       // an inline reference-count increment
  return p.use_count();
}
extern "C" void* probe_lookup(const char* name) { return dlsym(RTLD_DEFAULT, name); }
#include <cmath>
// libm's GLIBC_2.29 versions (the joint-parameter kernels' exp2 made the one wheel manylinux_2_31)
extern "C" double probe_math(double x) { return std::exp2(x) + std::log2(x) + std::pow(x, x); }
"""
PROJECT = f"""
cmake_minimum_required(VERSION 3.26)
project(probe LANGUAGES CXX)
include("{REPO / 'cmake' / 'manylinux.cmake'}")
add_library(probe MODULE probe.cpp)
target_compile_options(probe PRIVATE -O2)
torchrig_manylinux_2_28(probe)
"""
ARCH = platform.machine()


def _glibc_above_2_28() -> bool:
    version = os.confstr("CS_GNU_LIBC_VERSION") if hasattr(os, "confstr") else None
    if not version or not version.startswith("glibc "):
        return False
    return tuple(map(int, version.split()[1].split(".")[:2])) > (2, 28)


pytestmark = pytest.mark.skipif(not _glibc_above_2_28(),
                                reason="a glibc <= 2.28 builder needs no compat (and shows no bug)")


def _run(cmd: list) -> None:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=COMMAND_S)
    assert proc.returncode == 0, f"{cmd}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"


def _cmake() -> str:
    found = Path(sys.executable).with_name("cmake")
    return str(found) if found.is_file() else (shutil.which("cmake") or pytest.skip("no cmake"))


# the classic module is linked with -flto (pybind11), which once lost the compat's .symver
LTO = "target_compile_options(probe PRIVATE -flto=auto -fno-fat-lto-objects)\n" \
      "target_link_options(probe PRIVATE -flto=auto)\n"


def _build(tmp: Path, compat: bool, lto: bool = False) -> Path:
    src = tmp / f"src{'-lto' if lto else ''}"
    build = tmp / f"build-{'on' if compat else 'off'}{'-lto' if lto else ''}"
    src.mkdir(exist_ok=True)
    (src / "probe.cpp").write_text(PROBE)
    (src / "CMakeLists.txt").write_text(PROJECT + (LTO if lto else ""))
    _run([_cmake(), "-S", src, "-B", build, f"-DTORCHRIG_MANYLINUX_COMPAT={'ON' if compat else 'OFF'}"])
    _run([_cmake(), "--build", build])
    return build / "libprobe.so"


def _wheel(out: Path, files: dict[str, bytes]) -> Path:
    """A minimal valid wheel ``probe-0.1-py3-none-manylinux_2_28_<arch>.whl`` holding ``files``."""
    dist = "probe-0.1.dist-info"
    files = {**files, f"{dist}/METADATA": b"Metadata-Version: 2.1\nName: probe\nVersion: 0.1\n",
             f"{dist}/WHEEL": (f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\n"
                               f"Tag: py3-none-manylinux_2_28_{ARCH}\n").encode()}
    record = "".join(
        f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},"
        f"{len(data)}\n" for name, data in files.items()) + f"{dist}/RECORD,,\n"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"probe-0.1-py3-none-manylinux_2_28_{ARCH}.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in {**files, f"{dist}/RECORD": record.encode()}.items():
            zf.writestr(name, data)
    return path


@pytest.fixture(scope="module")
def libs(tmp_path_factory) -> dict[bool, Path]:
    tmp = tmp_path_factory.mktemp("manylinux")
    return {compat: _build(tmp, compat) for compat in (False, True)}


def test_without_the_compat_check_refuses_and_names_each_symbol(libs, tmp_path):
    result = check_manylinux(_wheel(tmp_path, {"probe/libprobe.so": libs[False].read_bytes()}))
    assert not result.ok, result.detail
    assert "auditwheel: its symbol versions need manylinux_2_34" in result.detail, result.detail
    assert "probe/libprobe.so needs libc.so.6 GLIBC_2.32 (__libc_single_threaded)" in result.detail
    assert "probe/libprobe.so needs libc.so.6 GLIBC_2.34 (dlsym)" in result.detail
    assert "probe/libprobe.so needs libm.so.6 GLIBC_2.29 (exp2, log2, pow)" in result.detail, result.detail
    assert "TORCHRIG_MANYLINUX_COMPAT=ON" in result.detail     # says how to fix it


def test_with_the_compat_it_is_manylinux_2_28_and_still_runs(libs, tmp_path):
    result = check_manylinux(_wheel(tmp_path, {"probe/libprobe.so": libs[True].read_bytes()}))
    assert result.ok, result.detail
    tag = re.search(r"symbol versions allow manylinux_2_(\d+)_", result.detail)
    assert tag and int(tag.group(1)) <= 28, result.detail        # here: manylinux_2_24
    lib = ctypes.CDLL(str(libs[True]))
    lib.probe_lookup.restype = ctypes.c_void_p
    assert lib.probe_refcount() == 2
    assert lib.probe_lookup(b"malloc")          # dlsym, bound to its first version, works
    lib.probe_math.restype, lib.probe_math.argtypes = ctypes.c_double, [ctypes.c_double]
    assert lib.probe_math(2.0) == 4.0 + 1.0 + 4.0  # libm's first versions, the same results


def test_with_the_compat_under_lto_dlsym_keeps_its_first_version(tmp_path):
    """An LTO build (as the classic module's): the library loads and dlsym works (the .symver in
    an LTO object was lost: 'undefined symbol: torchrig_dlsym_first', the CUDA build's _C)."""
    lib_path = _build(tmp_path, True, lto=True)
    lib = ctypes.CDLL(str(lib_path))
    lib.probe_lookup.restype = ctypes.c_void_p
    assert lib.probe_lookup(b"malloc")
    result = check_manylinux(_wheel(tmp_path, {"probe/libprobe.so": lib_path.read_bytes()}))
    assert result.ok, result.detail


def test_a_grafted_openmp_runtime_is_refused(libs, tmp_path):
    gomp = next((p for p in (Path("/usr/lib") / f"{ARCH}-linux-gnu").glob("libgomp.so.1*")), None)
    if gomp is None:
        pytest.skip("no system libgomp to graft")
    wheel = _wheel(tmp_path, {"probe/libprobe.so": libs[True].read_bytes(),
                              "probe.libs/libgomp-0123abcd.so.1.0.0": gomp.read_bytes()})
    result = check_manylinux(wheel)
    assert not result.ok
    assert "probe.libs/libgomp-0123abcd.so.1.0.0: a grafted OpenMP runtime" in result.detail
