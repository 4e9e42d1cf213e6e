"""torchrig_release/build_progress.py: the builds say what they do before the work, show one line
per build step while it runs, and on failure show the compiler's own error (issue 32, item 3:
the first build printed nothing for minutes).

The recorded lines below are copied from real runs on this machine (2026-12-06, pip 23.2.1,
scikit-build-core 1.1.2, CMake 4.4.5, ninja, gcc 12): `pip install -v --no-build-isolation`
of torchrig (`tools/dev-setup`), and `pip wheel -v` of a two-file project with a compile error
and with a missing source; the long command line is the shape of torchrig's real ones (its
flags from build/local/classic/build.ninja). The real-build tests build such a two-file project
(about 2 s, no torch) through the `build-wheel` code path.
"""
from __future__ import annotations

import itertools
import logging
import re
import sys
from pathlib import Path

import pytest

from support.timeouts import COMMAND_S
from torchrig_release import build_progress as bp
from torchrig_release.errors import WheelError
from torchrig_release.paths import REPO
from torchrig_release.wheel.build import build_wheel

SUCCESS = """\
Using pip 23.2.1 from /work/h-edges/.venv/lib/python3.11/site-packages/pip (python 3.11)
Processing /work/h-edges
  Preparing metadata (pyproject.toml): started
  Running command Preparing metadata (pyproject.toml)
  2026-12-06 19:10:28,770 - scikit_build_core - WARNING - cmake should not be in build-system.requires - scikit-build-core will inject it as needed
  *** scikit-build-core 1.1.2 using CMake 4.4.5 (metadata_wheel)
  Preparing metadata (pyproject.toml): finished with status 'done'
Building wheels for collected packages: torchrig
  Running command Building wheel for torchrig (pyproject.toml)
  *** scikit-build-core 1.1.2 using CMake 4.4.5 (wheel)
  *** Configuring CMake...
  loading initial cache file build/local/classic/CMakeInit.txt
  -- The CXX compiler identification is GNU 12.2.0
  -- Detecting CXX compiler ABI info
  -- Found pybind11: /work/h-edges/.venv/lib/python3.11/site-packages/pybind11/include (found version "3.1.0")
  -- torchrig: CPU build against torch 2.13.0+cpu (/work/h-edges/.venv/lib/python3.11/site-packages/torch/lib); no CUDA toolkit needed
  -- Configuring done (5.3s)
  CMake Warning at .venv/lib/python3.11/site-packages/cmake/data/share/cmake-4.4/Modules/FindPython/Support.cmake:4680 (add_library):
    Cannot generate a safe runtime search path for target _C because files in
  -- Generating done (0.0s)
  -- Build files have been written to: /work/h-edges/build/local/classic
  *** Building project with Ninja...
  [1/15] Building CXX object CMakeFiles/_C.dir/csrc/launch/cpu_lanes_dispatch.cpp.o
  [2/15] Building CXX object CMakeFiles/_C.dir/csrc/launch/cpu_lanes_avx2.cpp.o
  [12/15] Building CXX object CMakeFiles/_C.dir/csrc/compat/glibc_2_28.cpp.o
  ../../../csrc/compat/glibc_2_28.cpp:18:55: warning: \u2018__libc_single_threaded\u2019 initialized and declared \u2018extern\u2019
     18 | extern "C" __attribute__((visibility("hidden"))) char __libc_single_threaded = 0;
        |                                                       ^~~~~~~~~~~~~~~~~~~~~~
  [15/15] Linking CXX shared module _C.cpython-311-x86_64-linux-gnu.so
  *** Installing project into wheel...
  -- Install configuration: "Release"
  -- Installing: /tmp/tmpvsqtclxc/wheel/platlib/torchrig/_C.cpython-311-x86_64-linux-gnu.so
  *** Making wheel...
  *** Created torchrig-0.1.0-cp311-cp311-linux_x86_64.whl
  Building wheel for torchrig (pyproject.toml): finished with status 'done'
  Created wheel for torchrig: filename=torchrig-0.1.0-cp311-cp311-linux_x86_64.whl size=316787 sha256=36482ffc
Successfully built torchrig
Installing collected packages: torchrig
Successfully installed torchrig-0.1.0
"""
EXPECTED = [
    "Configuring CMake",
    "torchrig: CPU build against torch 2.13.0+cpu (/work/h-edges/.venv/lib/python3.11/site-packages/torch/lib); "
    "no CUDA toolkit needed",
    "CMake build folder: /work/h-edges/build/local/classic",
    "Building project with Ninja (one line per step; a step that compiles the kernels takes a while)",
    "[ 1/15] csrc/launch/cpu_lanes_dispatch.cpp (C++)  (0:01)",
    "[ 2/15] csrc/launch/cpu_lanes_avx2.cpp (C++)  (0:02)",
    "[12/15] csrc/compat/glibc_2_28.cpp (C++)  (0:03)",
    "[15/15] linking _C.cpython-311-x86_64-linux-gnu.so  (0:04)",
    "Installing project into wheel",
    "Making wheel",
    "Created torchrig-0.1.0-cp311-cp311-linux_x86_64.whl",
    "Successfully installed torchrig-0.1.0",
    "1 compiler warning (in the log)",
]
COMPILE_LINE = ("/work/h-edges/.venv/bin/ccache /usr/bin/g++ -D_C_EXPORTS -D_GLIBCXX_USE_CXX11_ABI=1 "
                "-I/work/h-edges/csrc -isystem /root/.pyenv/versions/3.11.7/include/python3.11 "
                "-isystem /work/h-edges/.venv/lib/python3.11/site-packages/pybind11/include "
                "-isystem /work/h-edges/.venv/lib/python3.11/site-packages/torch/include "
                "-isystem /work/h-edges/.venv/lib/python3.11/site-packages/torch/include/torch/csrc/api/include "
                "-O3 -DNDEBUG -std=gnu++20 -fPIC -fvisibility=hidden -flto=auto -fno-fat-lto-objects -fopenmp "
                "-MD -MT CMakeFiles/_C.dir/csrc/classic/ops.cpp.o -MF CMakeFiles/_C.dir/csrc/classic/ops.cpp.o.d "
                "-o CMakeFiles/_C.dir/csrc/classic/ops.cpp.o -c /work/h-edges/csrc/classic/ops.cpp")
COMPILE_ERROR = f"""\
  *** Building project with Ninja...
  [1/15] Building CXX object CMakeFiles/_C.dir/csrc/classic/ops.cpp.o
  FAILED: [code=1] CMakeFiles/_C.dir/csrc/classic/ops.cpp.o
  {COMPILE_LINE}
  /work/h-edges/csrc/classic/ops.cpp: In function \u2018int bad()\u2019:
  /work/h-edges/csrc/classic/ops.cpp:1:20: error: \u2018undeclared_name\u2019 was not declared in this scope
      1 | int bad() {{ return undeclared_name; }}
        |                    ^~~~~~~~~~~~~~~
  [2/15] Building CXX object CMakeFiles/_C.dir/csrc/classic/cpu_fk.cpp.o
  ninja: build stopped: subcommand failed.
  *** CMake build failed
  error: subprocess-exited-with-error
  ERROR: Failed building wheel for torchrig
"""
CMAKE_ERROR = """\
  *** Configuring CMake...
  loading initial cache file build/py3-none-linux_x86_64/CMakeInit.txt
  -- Configuring done (0.0s)
  CMake Error at CMakeLists.txt:3 (add_library):
    Cannot find source file:
      missing.cpp
  CMake Generate step failed.  Build files cannot be regenerated correctly.
  *** CMake configuration failed
  error: subprocess-exited-with-error
"""


def _feed(text: str) -> tuple[bp.Progress, list[str]]:
    progress = bp.Progress(clock=itertools.count().__next__)  # each reading of the clock: +1 s
    shown = [line for raw in text.splitlines(keepends=True) for line in progress.feed(raw)]
    return progress, shown + progress.summary()


def test_a_recorded_build_becomes_one_line_per_step():
    _, shown = _feed(SUCCESS)
    assert shown == EXPECTED


def test_a_compiler_error_is_shown_with_the_compiler_command_shortened():
    progress, shown = _feed(COMPILE_ERROR)
    assert not any("error" in line for line in shown)  # the failure goes into the error message
    failure = progress.failure(Path("build/x/pip-install.log"))
    assert failure[0] == "FAILED: [code=1] CMakeFiles/_C.dir/csrc/classic/ops.cpp.o"
    assert ("/work/h-edges/csrc/classic/ops.cpp:1:20: error: \u2018undeclared_name\u2019 was not declared "
            "in this scope") in failure
    source, caret = failure[failure.index(next(x for x in failure if "error:" in x)) + 1:][:2]
    assert caret.index("^") == source.index("undeclared_name")  # the caret still points at the name
    (command,) = [line for line in failure if line.startswith("/work/h-edges/.venv/bin/ccache")]
    assert len(command) < len(COMPILE_LINE) and command.endswith(
        f"({len(COMPILE_LINE) - bp.LONG_LINE} more characters in build/x/pip-install.log)")
    assert failure[-2:] == ["ninja: build stopped: subcommand failed.", "*** CMake build failed"]  # not pip's wrap-up


def test_a_cmake_error_is_shown_from_its_first_line():
    progress, _ = _feed(CMAKE_ERROR)
    failure = progress.failure()
    assert failure == ["CMake Error at CMakeLists.txt:3 (add_library):", "  Cannot find source file:",
                       "    missing.cpp", "CMake Generate step failed.  Build files cannot be regenerated correctly.",
                       "*** CMake configuration failed"]


def test_an_unknown_failure_shows_the_last_lines():
    progress, _ = _feed("".join(f"line {i}\n" for i in range(100)))
    assert progress.failure() == [f"line {i}" for i in range(70, 100)]
    assert not any(line.startswith("  ") for line in _feed(COMPILE_ERROR)[0].failure()[:2])


def test_describe_names_abi_and_kernels():
    assert bp.describe({}) == "torchrig (classic ABI, CPU kernels)"
    assert bp.describe({"TORCHRIG_ABI": "stable", "TORCHRIG_CUDA": "ON", "TORCH_CUDA_ARCH_LIST": "9.0"}) \
        == "torchrig (stable ABI, CPU + CUDA kernels, arch list 9.0)"


# ---- real builds: a two-file scikit-build-core project named torchrig, through build-wheel's code ----
def _project(tmp_path: Path, bad: str) -> Path:
    pytest.importorskip("scikit_build_core")
    src = tmp_path / "src"
    src.mkdir()
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["scikit-build-core"]\nbuild-backend = "scikit_build_core.build"\n'
        '[project]\nname = "torchrig"\nversion = "0.1"\n'
        '[tool.scikit-build]\nbuild-dir = "build/{wheel_tag}"\nwheel.py-api = "py3"\n')
    (src / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.26)\nproject(tiny LANGUAGES CXX)\n"
        "add_library(tiny SHARED good.cpp bad.cpp)\ninstall(TARGETS tiny DESTINATION torchrig)\n")
    (src / "good.cpp").write_text("int good() { return 1; }\n")
    (src / "bad.cpp").write_text(f"int bad() {{ return {bad}; }}\n")
    return src


def test_a_real_build_shows_its_steps(tmp_path, caplog, monkeypatch):
    monkeypatch.delenv("SKBUILD_BUILD_DIR", raising=False)
    caplog.set_level(logging.INFO, logger=bp.__name__)
    wheel = build_wheel(tmp_path / "dist" / "raw", python=sys.executable, source=_project(tmp_path, "2"),
                        timeout=COMMAND_S)
    assert wheel.name.startswith("torchrig-0.1-py3-none-")
    shown = [r.getMessage() for r in caplog.records if r.name == bp.__name__]
    assert shown[0].startswith("building a wheel of torchrig (stable ABI, CPU kernels)")
    assert shown[1] == bp.FIRST_BUILD and "CMake build folder: " in shown[2]
    steps = [re.fullmatch(r"\[(\d)/3\] (.*)  \(\d+:\d\d\)", line) for line in shown if line.startswith("[")]
    assert [m.group(1) for m in steps] == ["1", "2", "3"]  # ninja's order of the two compiles may vary
    assert {m.group(2) for m in steps} == {"good.cpp (C++)", "bad.cpp (C++)", "linking libtiny.so"}
    assert (tmp_path / "dist" / "build-wheel.log").read_text().count("Building CXX object") == 2


def test_a_real_compile_error_reaches_the_error_message(tmp_path):
    with pytest.raises(WheelError) as err:
        build_wheel(tmp_path / "dist" / "raw", python=sys.executable,
                    source=_project(tmp_path, "undeclared_name"), timeout=COMMAND_S)
    message = str(err.value)
    assert re.search(r"bad\.cpp:1:\d+: error: .undeclared_name. was not declared in this scope", message), message
    assert "FAILED: " in message and f"the whole output: {tmp_path / 'dist' / 'build-wheel.log'}" in message


def test_dev_setup_builds_through_the_build_verb():
    """tools/dev-setup (README's first command) builds with `torchrig-release build`, so it shows
    the same progress as `pixi run build`; it no longer runs a silent `pip install -q .`."""
    script = (REPO / "tools" / "dev-setup").read_text()
    assert re.search(r'"\$VENV/bin/torchrig-release" build\b', script)
    assert not re.search(r"pip install -q[^\n]*--no-build-isolation", script)
