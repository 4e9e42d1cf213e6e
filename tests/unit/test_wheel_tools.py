"""The wheel pipeline's pure parts, on small synthetic wheels (no build, no network, < 1 s):
the one name and the pins, merge-wheels with a fresh RECORD, the pin check against the build
record, credentials that never show the password, the guard's advice (only `torchrig`) and
the stable loader's choice of CUDA library and its no-kernels message."""
from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from torchrig import _guard
from torchrig import _stable
from torchrig._torch_version import DISTRIBUTION, requirement
from torchrig_release.errors import WheelError
from torchrig_release.wheel.archive import WheelName, build_info, metadata
from torchrig_release.wheel.merge import merge_wheels
from torchrig_release.wheel.check import check_name, check_pin, check_platform
from torchrig_release.wheel.publish import credentials, display_url, failure_hint, simple_url


def make_wheel(tmp: Path, requires: str, info: dict, name: str = "torchrig",
               plat: str = "linux_x86_64", tag: str = "cp311-cp311",
               files: dict[str, str] | None = None) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / f"{name.replace('-', '_')}-0.1.0-{tag}-{plat}.whl"
    di = f"{name.replace('-', '_')}-0.1.0.dist-info"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("torchrig/__init__.py", "")
        for fname, text in (files or {}).items():
            zf.writestr(fname, text)
        zf.writestr("torchrig/_build_info.json", json.dumps(info))
        zf.writestr(f"{di}/METADATA", f"Metadata-Version: 2.4\nName: {name}\nVersion: 0.1.0\n"
                                      f"Requires-Dist: {requires}\n")
        zf.writestr(f"{di}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: false\n")
        zf.writestr(f"{di}/RECORD", "")
    return path


CPU_INFO = {"torch_version": "2.13.0+cpu", "torch_cuda": None, "with_cuda": False}
CUDA_INFO = {"torch_version": "2.14.1", "torch_cuda": "13.0", "with_cuda": True}
STABLE_CPU_INFO = {**CPU_INFO, "abi": "stable", "stable_target": "2.10"}
STABLE_CUDA_INFO = {**CUDA_INFO, "abi": "stable", "stable_target": "2.10"}


def test_the_classic_cuda_pin_excludes_cpu_torches():
    spec = SpecifierSet(requirement("2.14.1", cuda=True).removeprefix("torch"))
    admitted = [v for v in ("2.14.0", "2.14.1+cu130", "2.14.1+cpu", "2.14.3+cpu", "2.15.0")
                if spec.contains(v)]
    assert admitted == ["2.14.0", "2.14.1+cu130"]
    assert requirement("2.13.0+cpu") == "torch>=2.13,<2.14"


STABLE_ONE_INFO = {**STABLE_CPU_INFO, "cuda_libraries": {}}
CU13 = {"library": "libtorchrig_stable_cuda13.so", "nvcc": "13.0.88", "arch_list": "7.5;12.0"}
CU12 = {"library": "libtorchrig_stable_cuda12.so", "nvcc": "12.9.86", "arch_list": "7.0;12.0"}


def test_one_name_on_the_index_and_only_the_stable_build_goes_there(tmp_path):
    """The four flavour names are retired: METADATA Name is `torchrig`, and a classic build
    (one torch minor) is refused for an index whatever its name."""
    assert DISTRIBUTION == "torchrig"
    good = make_wheel(tmp_path / "a", "torch>=2.10", STABLE_ONE_INFO, tag="py3-none")
    assert check_name(good).ok and check_pin(good).ok, (check_name(good), check_pin(good))
    assert "stable target 2.10" in check_pin(good).detail
    for old in ("torchrig-cpu", "torchrig-cu13", "torchrig-stable-cpu", "torchrig-stable-cu13"):
        assert not check_name(make_wheel(tmp_path / old, "torch>=2.10", STABLE_ONE_INFO, name=old)).ok
    classic = make_wheel(tmp_path / "c", "torch<2.14,>=2.13", CPU_INFO)
    result = check_name(classic)
    assert not result.ok and "conda and source builds" in result.detail
    minor_pin = make_wheel(tmp_path / "d", "torch<2.14,>=2.13", STABLE_ONE_INFO, tag="py3-none")
    assert not check_pin(minor_pin).ok
    no_target = make_wheel(tmp_path / "e", "torch>=2.10", {**STABLE_ONE_INFO, "stable_target": None})
    assert not check_pin(no_target).ok and "stable_target" in check_pin(no_target).detail


def _record_ok(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        info_dir = next(n.split("/")[0] for n in zf.namelist() if ".dist-info/" in n)
        record = zf.read(f"{info_dir}/RECORD").decode().splitlines()
        assert sorted(line.split(",")[0] for line in record) == sorted(zf.namelist())
        for line in record[:-1]:
            name, digest, size = line.split(",")
            data = zf.read(name)
            want = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={want}" and int(size) == len(data), line
        assert record[-1] == f"{info_dir}/RECORD,,"


def test_merge_wheels_joins_the_cuda_libraries_of_each_major(tmp_path):
    cu13 = make_wheel(tmp_path / "13", "torch>=2.10", {**STABLE_ONE_INFO, "cuda_libraries": {"13": CU13}},
                      tag="py3-none", files={"torchrig/libtorchrig_stable.so": "cpu-13",
                                             "torchrig/libtorchrig_stable_cuda13.so": "cu13"})
    cu12 = make_wheel(tmp_path / "12", "torch>=2.10", {**STABLE_ONE_INFO, "cuda_libraries": {"12": CU12}},
                      tag="py3-none", files={"torchrig/libtorchrig_stable.so": "cpu-12",
                                             "torchrig/libtorchrig_stable_cuda12.so": "cu12"})
    out = merge_wheels([cu13, cu12], tmp_path / "out")
    assert out.name == cu13.name and out.parent == tmp_path / "out"
    info = build_info(out)
    assert info["cuda_libraries"] == {"12": CU12, "13": CU13} and info["with_cuda"]
    with zipfile.ZipFile(out) as zf:
        assert zf.read("torchrig/libtorchrig_stable_cuda12.so") == b"cu12"
        assert zf.read("torchrig/libtorchrig_stable.so") == b"cpu-13"   # the base's CPU library
    _record_ok(out)
    # the same major twice, a classic build, another pin: refused with a reason
    with pytest.raises(WheelError, match="both .* hold a CUDA 13"):
        merge_wheels([cu13, cu13], tmp_path / "x")
    with pytest.raises(WheelError, match="classic build"):
        merge_wheels([make_wheel(tmp_path / "c", "torch<2.14,>=2.13", CPU_INFO), cu12], tmp_path / "x")
    other_pin = make_wheel(tmp_path / "p", "torch>=2.11", {**STABLE_ONE_INFO, "cuda_libraries": {"12": CU12}},
                           tag="py3-none")
    with pytest.raises(WheelError, match="not builds of the same wheel"):
        merge_wheels([cu13, other_pin], tmp_path / "x")


def test_the_loader_picks_the_library_of_the_running_torchs_cuda_major(tmp_path):
    info = {**STABLE_ONE_INFO, "cuda_libraries": {"12": CU12, "13": CU13}}
    assert _stable.cuda_library(info, "13.2", tmp_path) == tmp_path / CU13["library"]
    assert _stable.cuda_library(info, "12.8", tmp_path) == tmp_path / CU12["library"]
    assert _stable.cuda_library(info, None, tmp_path) is None      # a CPU (or ROCm) torch
    assert _stable.cuda_library(info, "11.8", tmp_path) is None    # a major without a library
    assert _stable.cuda_library(STABLE_CPU_INFO, "13.0", tmp_path) is None


def test_the_no_kernels_error_says_what_to_install():
    only13 = {**STABLE_ONE_INFO, "cuda_libraries": {"13": CU13}}
    text = _stable.missing_kernels_message("skin", "CUDA", only13, "2.10.0+cu128", "12.8", None)
    assert "CUDA 13 kernels" in text and "The CPU ops work" in text
    assert "pip install --force-reinstall --no-deps torchrig" in text   # the release holds CUDA 12
    text = _stable.missing_kernels_message("skin", "CUDA", only13, "2.15.0+cu140", "14.0", None)
    assert "download.pytorch.org/whl/cu130" in text and "--no-build-isolation" in text
    text = _stable.missing_kernels_message("skin", "CUDA", only13, "2.15.0+rocm7.0", None, "7.0")
    assert "ROCm" in text and "CPU ops work" in text
    text = _stable.missing_kernels_message("forward_kinematics", "XPU", only13, "2.15.0+xpu", None, None)
    assert "no XPU kernels" in text and "tensor.cpu()" in text
    for t in (text,):
        assert "torchrig-" not in t


def test_pin_check_compares_metadata_with_the_build_record(tmp_path):
    """Classic records too (conda and source builds keep the one-minor pin)."""
    good = make_wheel(tmp_path / "a", "torch<2.14,>=2.13", CPU_INFO)
    assert check_pin(good).ok
    stale = make_wheel(tmp_path / "b", "torch<2.15,>=2.14", CPU_INFO)
    result = check_pin(stale)
    assert not result.ok and "torch 2.13.0+cpu" in result.detail
    # a CUDA wheel whose pin lacks the +cpu exclusions
    cuda = make_wheel(tmp_path / "c", "torch<2.15,>=2.14", CUDA_INFO)
    assert not check_pin(cuda).ok
    assert not check_platform(good).ok


def test_wheel_name_parse_rejects_junk(tmp_path):
    assert WheelName.parse(Path("torchrig_cpu-0.1.0-cp311-cp311-manylinux_2_28_x86_64.whl")).platform \
        == "manylinux_2_28_x86_64"
    with pytest.raises(WheelError):
        WheelName.parse(Path("torchrig.whl"))


def test_credentials_come_from_the_environment_and_never_show():
    env = {"TORCHRIG_INDEX_USERNAME": "ci", "TORCHRIG_INDEX_PASSWORD": "s3cret-token",
           "TWINE_PASSWORD": "other"}
    creds = credentials(env)
    assert creds.password == "s3cret-token" and creds.source == "TORCHRIG_INDEX_PASSWORD"
    assert "s3cret" not in repr(creds) + creds.describe()
    assert credentials({"TWINE_PASSWORD": "pypi-x"}).username == "__token__"
    assert credentials({}).password is None and "NOT set" in credentials({}).describe()
    assert simple_url("https://upload.pypi.org/legacy/") == "https://pypi.org/simple/"
    assert simple_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080/simple/"


def test_guard_names_only_torchrig_and_catches_a_cuda_major_mismatch():
    """Issue 26: the guard's advice names only the one published distribution, and a classic
    CUDA build refuses a torch of the same minor with another CUDA major (libcudart.so.13)."""
    cpu_torch = _guard.TorchEnv("2.14.1+cpu", None, True)
    text = _guard.mismatch({**CUDA_INFO, "cxx11_abi": True, "links_torch_cuda": True},
                           cpu_torch.version, None, True)
    assert "pip install --force-reinstall --no-deps torchrig\n" in text and "CPU build" in text
    assert "torchrig-" not in text.replace("torchrig-release", "")
    older = _guard.mismatch({**CPU_INFO, "cxx11_abi": True}, "2.9.1+cpu", None, True)
    assert "pip install torchrig 'torch>=2.10'" in older and "torchrig-" not in older
    cu126 = _guard.problems({**CUDA_INFO, "cxx11_abi": True}, _guard.TorchEnv("2.14.1+cu126", "12.6", True))
    assert [p.kind for p in cu126] == ["cuda-major"] and "CUDA 13 runtime" in cu126[0].message
    assert _guard.problems({**CUDA_INFO, "cxx11_abi": True}, _guard.TorchEnv("2.14.0", "13.2", True)) == []
    # the one wheel (cuda_libraries recorded) loads beside a CPU torch and any CUDA major
    one = {**STABLE_CUDA_INFO, "cxx11_abi": True, "cuda_libraries": {"13": CU13}}
    for env in (cpu_torch, _guard.TorchEnv("2.10.0+cu128", "12.8", True)):
        assert _guard.problems(one, env) == []
    too_old = _guard.mismatch(one, "2.9.1+cpu", None, True)
    assert "torch-too-old" not in too_old and "pip install 'torch>=2.10'" in too_old
    assert "torchrig-" not in too_old
    # a CPU build compiled against a CUDA torch links no CUDA library: loads in a CPU torch
    cpu_build = {**CUDA_INFO, "with_cuda": False, "links_torch_cuda": False, "cxx11_abi": True}
    assert _guard.problems(cpu_build, cpu_torch) == []


def test_urls_are_shown_without_user_info():
    assert display_url("http://u:hunter2@127.0.0.1:9/", None) == "http://***@127.0.0.1:9/"
    assert "hunter2" not in display_url("https://x.org/?t=hunter2", "hunter2")


def test_guard_loaded_with_torch_version_only_leaves_the_wheel_advice_out(tmp_path):
    """abi-check may load an artifact's _guard.py beside its _torch_version.py alone."""
    import shutil

    from torchrig_release.library import library_module
    from torchrig_release.paths import LIBRARY

    for name in ("_guard.py", "_torch_version.py"):
        shutil.copy(LIBRARY / name, tmp_path / name)
    guard = library_module("_guard", tmp_path)
    text = guard.mismatch({**CPU_INFO, "cxx11_abi": True}, "2.14.1+cpu", None, True)
    assert "pip install '" in text and "--force-reinstall" not in text and "torchrig-" not in text


def test_upload_failure_hints_tell_a_duplicate_from_a_malformed_upload():
    assert "--skip-existing" in failure_hint("HTTPError: 409 Conflict from http://127.0.0.1:1/")
    assert "--skip-existing" in failure_hint("HTTPError: 400 Bad Request from https://upload.pypi.org/"
                                             "legacy/\nFile already exists.")
    malformed = failure_hint("HTTPError: 400 Bad Request from http://127.0.0.1:1/\nBad Request")
    assert "--skip-existing" not in malformed and "--verbose" in malformed
    assert "URL" in failure_hint("HTTPError: 403 Forbidden")
