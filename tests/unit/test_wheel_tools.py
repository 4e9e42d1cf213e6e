"""The wheel pipeline's pure parts, on small synthetic wheels (no build, no network, < 1 s):
flavour names and pins, the rename with a fresh RECORD, the pin check against the build
record, credentials that never show the password, and the guard's flavour advice."""
from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from torchrig import _guard
from torchrig._torch_version import distribution, requirement
from torchrig_release.errors import WheelError
from torchrig_release.wheel.archive import WheelName, build_info, metadata, rename
from torchrig_release.wheel.build import flavour_name
from torchrig_release.wheel.check import check_name, check_pin, check_platform
from torchrig_release.wheel.publish import credentials, display_url, failure_hint, simple_url


def make_wheel(tmp: Path, requires: str, info: dict, name: str = "torchrig",
               plat: str = "linux_x86_64") -> Path:
    path = tmp / f"{name.replace('-', '_')}-0.1.0-cp311-cp311-{plat}.whl"
    di = f"{name.replace('-', '_')}-0.1.0.dist-info"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("torchrig/__init__.py", "")
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


def test_flavour_names_and_the_cuda_pin_excludes_cpu_torches():
    assert distribution(None) == "torchrig-cpu" and distribution("13.0") == "torchrig-cu13"
    spec = SpecifierSet(requirement("2.14.1", cuda=True).removeprefix("torch"))
    admitted = [v for v in ("2.14.0", "2.14.1+cu130", "2.14.1+cpu", "2.14.3+cpu", "2.15.0")
                if spec.contains(v)]
    assert admitted == ["2.14.0", "2.14.1+cu130"]
    assert requirement("2.13.0+cpu") == "torch>=2.13,<2.14"


def test_stable_builds_have_names_of_their_own():
    """A py3-none stable wheel and a cp3XX classic wheel of one name and version cannot share
    an index (pip takes the most specific tag's file of a version), so the names differ."""
    assert distribution(None, abi="stable") == "torchrig-stable-cpu"
    assert distribution("13.0", abi="stable") == "torchrig-stable-cu13"
    assert distribution("13.0", abi="classic") == "torchrig-cu13"
    with pytest.raises(ValueError, match="TORCHRIG_ABI"):
        distribution(None, abi="stabel")
    assert flavour_name(STABLE_CUDA_INFO) == "torchrig-stable-cu13"
    assert flavour_name(CPU_INFO) == "torchrig-cpu"   # records from before "abi" was written


def test_stable_wheel_checks_name_and_pin_from_its_target(tmp_path):
    raw = make_wheel(tmp_path, "torch>=2.10", STABLE_CPU_INFO)
    good = rename(raw, "torchrig-stable-cpu", tmp_path / "a")
    assert check_name(good).ok and check_pin(good).ok, (check_name(good), check_pin(good))
    assert "stable target 2.10" in check_pin(good).detail
    # the classic flavour's name, or a classic one-minor pin, on a stable build: refused
    assert not check_name(rename(raw, "torchrig-cpu", tmp_path / "b")).ok
    minor_pin = rename(make_wheel(tmp_path, "torch<2.14,>=2.13", STABLE_CPU_INFO),
                       "torchrig-stable-cpu", tmp_path / "c")
    assert not check_pin(minor_pin).ok
    no_target = rename(make_wheel(tmp_path, "torch>=2.10", {**STABLE_CPU_INFO, "stable_target": None}),
                       "torchrig-stable-cpu", tmp_path / "d")
    assert not check_pin(no_target).ok and "stable_target" in check_pin(no_target).detail


def test_rename_rewrites_name_dist_info_and_record(tmp_path):
    raw = make_wheel(tmp_path, "torch<2.14,>=2.13", CPU_INFO)
    out = rename(raw, "torchrig-cpu", tmp_path / "out")
    assert out.name == "torchrig_cpu-0.1.0-cp311-cp311-linux_x86_64.whl"
    assert metadata(out)["Name"] == "torchrig-cpu" and build_info(out) == CPU_INFO
    with zipfile.ZipFile(out) as zf:
        record = zf.read("torchrig_cpu-0.1.0.dist-info/RECORD").decode().splitlines()
        for line in record[:-1]:
            name, digest, size = line.split(",")
            data = zf.read(name)
            want = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={want}" and int(size) == len(data), line
        assert record[-1] == "torchrig_cpu-0.1.0.dist-info/RECORD,,"
        assert not [n for n in zf.namelist() if n.startswith("torchrig-0.1.0.dist-info")]


def test_pin_check_compares_metadata_with_the_build_record(tmp_path):
    good = rename(make_wheel(tmp_path, "torch<2.14,>=2.13", CPU_INFO), "torchrig-cpu", tmp_path / "a")
    assert check_pin(good).ok and check_name(good).ok
    stale = rename(make_wheel(tmp_path, "torch<2.15,>=2.14", CPU_INFO), "torchrig-cpu", tmp_path / "b")
    result = check_pin(stale)
    assert not result.ok and "torch 2.13.0+cpu" in result.detail
    # a CUDA wheel whose pin lacks the +cpu exclusions, or that is named for the CPU flavour
    cuda = rename(make_wheel(tmp_path, "torch<2.15,>=2.14", CUDA_INFO), "torchrig-cpu", tmp_path / "c")
    assert not check_pin(cuda).ok and not check_name(cuda).ok
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


def test_guard_names_the_flavour_for_the_torch_present():
    cpu_torch = _guard.TorchEnv("2.14.1+cpu", None, True)
    text = _guard.mismatch({**CUDA_INFO, "cxx11_abi": True, "links_torch_cuda": True},
                           cpu_torch.version, None, True)
    assert "pip install torchrig-cpu" in text and "CPU build" in text
    assert "pip install torchrig-stable-cpu" in text   # the stable build: every torch >= 2.10
    older = _guard.mismatch({**CPU_INFO, "cxx11_abi": True}, "2.9.1+cpu", None, True)
    assert "torchrig-stable" not in older              # too old for the stable build
    # a stable CUDA build beside a CPU torch: names the stable CPU distribution
    text = _guard.mismatch({**STABLE_CUDA_INFO, "cxx11_abi": True}, "2.15.0+cpu", None, True)
    assert "pip install torchrig-stable-cpu" in text and "CPU build" in text
    # a CPU build compiled against a CUDA torch links no CUDA library: loads in a CPU torch
    cpu_build = {**CUDA_INFO, "with_cuda": False, "links_torch_cuda": False, "cxx11_abi": True}
    assert _guard.problems(cpu_build, cpu_torch) == []


def test_urls_are_shown_without_user_info():
    assert display_url("http://u:hunter2@127.0.0.1:9/", None) == "http://***@127.0.0.1:9/"
    assert "hunter2" not in display_url("https://x.org/?t=hunter2", "hunter2")


def test_guard_loaded_with_torch_version_only_leaves_the_stable_advice_out(tmp_path):
    """abi-check may load an artifact's _guard.py beside its _torch_version.py alone."""
    import shutil

    from torchrig_release.library import library_module
    from torchrig_release.paths import LIBRARY

    for name in ("_guard.py", "_torch_version.py"):
        shutil.copy(LIBRARY / name, tmp_path / name)
    guard = library_module("_guard", tmp_path)
    text = guard.mismatch({**CPU_INFO, "cxx11_abi": True}, "2.14.1+cpu", None, True)
    assert "pip install torchrig-cpu" in text and "torchrig-stable" not in text


def test_upload_failure_hints_tell_a_duplicate_from_a_malformed_upload():
    assert "--skip-existing" in failure_hint("HTTPError: 409 Conflict from http://127.0.0.1:1/")
    assert "--skip-existing" in failure_hint("HTTPError: 400 Bad Request from https://upload.pypi.org/"
                                             "legacy/\nFile already exists.")
    malformed = failure_hint("HTTPError: 400 Bad Request from http://127.0.0.1:1/\nBad Request")
    assert "--skip-existing" not in malformed and "--verbose" in malformed
    assert "URL" in failure_hint("HTTPError: 403 Forbidden")
