"""The `upload` verb: dry run by default, ABI check first, token hygiene, real targets.

Everything runs the tool as a subprocess (as `pixi run upload` does), so the
checks on its output see all of it, rattler-build's included. The packages are
real ones built here with rattler-build; the servers are real ones on 127.0.0.1
(tests/support/quetz_server.py). The quetz tests are `slow`: ~35 s the first time (the
quetz venv in the machine-wide cache is installed from PyPI), then ~5-8 s to start a fresh
deployment once per session.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from support import quetz_server
from support.conda_fixtures import built_package, local_channel, local_variants  # noqa: F401  (fixtures)
from torchrig_release import credentials
from torchrig_release.errors import UploadError
from torchrig_release.paths import cache_entry, python_tag
from torchrig_release.upload import abi, targets
from torchrig_release.upload.packages import read_package
from support.timeouts import COMMAND_S

REPO = Path(__file__).resolve().parents[2]
STANDIN = "stand-in ABI check"  # a key of run_upload's env: run with tests/support/upload_standin.py
TOKEN_VARS = [v for v in targets.TOKEN_ENV.values() if v]
TORCH = ("--torch", sys.prefix)  # the torch the ABI check is told to check against
PROBE = "torchrig-upload-probe"
PROBE_RECIPE = """\
package:
  name: {name}
  version: {version}
build:
  noarch: generic
  script:
    - mkdir -p $PREFIX/share/{name}
    - echo 'VERSION = "{version}"' > $PREFIX/share/{name}/upload_probe.py
"""


# ---- helpers ------------------------------------------------------------------------------
def run_upload(*args, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the upload verb with ``args``; no token is inherited. ``env[STANDIN]``: a stand-in
    ABI-check script (tests/support/upload_standin.py hands it to the gate)."""
    base = {k: v for k, v in os.environ.items() if k not in TOKEN_VARS and k != "GITHUB_ACTIONS"}
    env = dict(env or {})
    standin = env.pop(STANDIN, None)
    cmd = ([sys.executable, "-m", "support.upload_standin", str(standin), *map(str, args)] if standin
           else [sys.executable, "-m", "torchrig_release", "upload", *map(str, args)])
    return subprocess.run(cmd, env={**base, **env, "PYTHONPATH": str(REPO / "tests")},
                          capture_output=True, text=True, timeout=300)


def output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def build_probe(workdir: Path, version: str) -> Path:
    """A tiny noarch package built by rattler-build; it holds one importable module."""
    from rattler_build import Stage0Recipe, ToolConfiguration

    empty = workdir / "empty-channel" / "noarch"  # no dependencies: nothing to fetch
    empty.mkdir(parents=True, exist_ok=True)
    (empty / "repodata.json").write_text(json.dumps({"info": {"subdir": "noarch"}, "packages": {},
                                                      "packages.conda": {}}))
    recipe = Stage0Recipe.from_yaml(PROBE_RECIPE.format(name=PROBE, version=version),
                                    recipe_dir=workdir / f"recipe-{version}")
    recipe.run_build(tool_config=ToolConfiguration(test_strategy="skip"),
                     output_dir=workdir / "output", channels=[empty.parent.as_uri()])
    (package,) = (workdir / "output" / "noarch").glob(f"{PROBE}-{version}-*.conda")
    return package


def probe_smoke(version: str) -> Callable[[Path], None]:
    """Import the probe's module from an installed prefix and check its version."""
    def smoke(prefix: Path) -> None:
        code = "import upload_probe; print(upload_probe.VERSION)"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                env={**os.environ, "PYTHONPATH": str(prefix / "share" / PROBE)},
                                check=True, timeout=COMMAND_S)
        assert result.stdout.strip() == version
    return smoke


def solve_and_install(channels: list[str], spec: str, prefix: Path, cache: Path) -> list:
    """Solve ``spec`` from ``channels`` and install it into a fresh ``prefix`` with py-rattler."""
    from rattler import Gateway, VirtualPackage, install, solve

    async def go():
        records = await solve(channels, [spec], gateway=Gateway(cache_dir=cache / "repodata"),
                              virtual_packages=VirtualPackage.detect())
        await install(records, target_prefix=prefix, cache_dir=cache / "pkgs", show_progress=False)
        return records
    return asyncio.run(go())


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.3)


# ---- fixtures -----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Checkers:
    """Stand-in ABI checks (run_upload's env[STANDIN]); `passing` logs each command line."""

    passing: Path
    failing: Path
    log: Path

    def env(self, which: str = "passing") -> dict:
        return {STANDIN: str(getattr(self, which))}

    def calls(self) -> list[list[str]]:
        """The argument lists `passing` was called with, oldest first."""
        return [json.loads(line) for line in self.log.read_text().splitlines()] \
            if self.log.exists() else []

    def checked(self) -> list[str]:
        """Names of the packages `passing` checked."""
        return [Path(call[0]).name for call in self.calls()]


@pytest.fixture(scope="session")
def checkers(tmp_path_factory) -> Checkers:
    d = tmp_path_factory.mktemp("abi-check")
    log = d / "checked.log"
    passing, failing = d / "passing.py", d / "failing.py"
    passing.write_text("import json, sys\n"
                       f"with open({str(log)!r}, 'a') as f:\n"
                       "    f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
                       "print('stand-in abi-check: ok')\n")
    failing.write_text("import sys\nprint('c10::detail::torchCheckFail undefined in torch 2.14')\n"
                       "sys.exit(1)\n")
    return Checkers(passing, failing, log)


@pytest.fixture(scope="session")
def probes(tmp_path_factory) -> dict[str, Path]:
    """Two real probe packages, by version."""
    d = tmp_path_factory.mktemp("probe")
    return {v: build_probe(d, v) for v in ("1.0.0", "1.0.1")}


@dataclasses.dataclass(frozen=True)
class Artifact:
    """What the end-to-end quetz test uploads, and how it proves the install works."""

    path: Path
    spec: str                      # what to solve for
    channels: tuple[str, ...]      # channels for its dependencies, after the server's
    smoke: Callable[[Path], None]  # imports it from the installed prefix
    abi_env: dict                  # {} runs the real (in-process) ABI check
    abi_args: tuple[str, ...] = TORCH


def torchrig_smoke(prefix: Path) -> None:
    """The installed torchrig loads in its prefix and agrees with the reference."""
    code = ("import torch, torchrig\n"
            "from torchrig import reference\n"
            "from torchrig.procedural import random_rig\n"
            "parents, offsets, rest, idx, w = random_rig(9, 50, 4, dtype=torch.float64, seed=1)\n"
            "rot = torch.randn(2, 9, 3, 3, dtype=torch.float64)\n"
            "G = torchrig.forward_kinematics(rot, offsets, parents)\n"
            "err = (torchrig.skin(rest, G, idx, w) - reference.skin(rest, G, idx, w)).abs().max()\n"
            "print(torchrig.__file__, float(err))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    result = subprocess.run([str(prefix / "bin" / "python"), "-c", code], capture_output=True,
                            text=True, env=env, cwd=prefix, check=True, timeout=COMMAND_S)
    where, err = result.stdout.split()
    assert where.startswith(str(prefix)) and float(err) < 1e-10


@pytest.fixture(scope="session")
def e2e_artifact(built_package, local_channel) -> Artifact:
    """The package uploaded to quetz end to end: the torchrig .conda that rattler-build
    built from recipe/ (tests/support/conda_fixtures.py), checked by the real abi-check
    against this interpreter's torch; its dependencies (python, pytorch stand-ins) come
    from the offline stand-in channel."""
    return Artifact(Path(built_package["path"]), "torchrig", (local_channel.as_uri(),),
                    torchrig_smoke, {})


@pytest.fixture(scope="session")
def quetz(tmp_path_factory):
    with quetz_server.running_quetz(cache_entry(f"venv-quetz-{python_tag()}"),
                                    tmp_path_factory.mktemp("quetz-server")) as server:
        yield server


def to_quetz(server, package: Path, key: str, abi_env: dict, abi_args=TORCH):
    """upload --to quetz --yes, with ``key`` in $QUETZ_API_KEY."""
    return run_upload(package, *abi_args, "--to", "quetz", "--url", server.url,
                      "--channel", server.channel, "--yes",
                      env={**abi_env, "QUETZ_API_KEY": key})


# ---- fast: no server ----------------------------------------------------------------------
def test_help_lists_targets_and_token_variables():
    result = run_upload("--help")
    assert result.returncode == 0
    for word in ["--yes", "--to", "--torch", "prefix", "anaconda", "quetz", "artifactory",
                 "local", "abi-check", *TOKEN_VARS]:
        assert word in result.stdout


def test_dry_run_is_the_default_and_finds_output(probes, checkers, tmp_path):
    channel = tmp_path / "channel"
    result = run_upload("--output-dir", probes["1.0.0"].parents[1], "--to", "local",
                        "--channel", channel, *TORCH, env=checkers.env())
    assert result.returncode == 0, output(result)
    assert "dry run" in result.stdout and "nothing uploaded" in result.stdout
    assert all(p.name in result.stdout for p in probes.values())  # found both in output/noarch
    assert not channel.exists()


def test_dry_run_says_whether_the_token_is_set_never_what_it_is(probes, checkers):
    token = "tok-" + secrets.token_hex(16)
    result = run_upload(probes["1.0.0"], *TORCH, env={**checkers.env(), "PREFIX_API_KEY": token})
    assert result.returncode == 0, output(result)
    assert "$PREFIX_API_KEY is set" in result.stdout and "prefix.dev/torchrig" in result.stdout
    assert token not in output(result)
    unset = run_upload(probes["1.0.0"], *TORCH, env=checkers.env())
    assert "$PREFIX_API_KEY is NOT set" in unset.stdout


def test_no_packages_is_an_error(tmp_path):
    result = run_upload("--output-dir", tmp_path)
    assert result.returncode == 2 and "build-conda" in result.stderr


def test_abi_check_gets_the_package_and_the_torches(probes, checkers):
    package = probes["1.0.0"]
    result = run_upload(package, "--torch", "2.13.0", "--torch", sys.prefix, env=checkers.env())
    assert result.returncode == 0, output(result)
    assert checkers.calls()[-1] == [str(package), "--torch", "2.13.0", "--torch", sys.prefix]


def test_failing_abi_check_refuses_and_shows_why(probes, checkers, tmp_path):
    channel = tmp_path / "channel"
    result = run_upload(probes["1.0.0"], *TORCH, "--to", "local", "--channel", channel,
                        "--yes", env=checkers.env("failing"))
    assert result.returncode == 1
    assert "refused" in result.stderr and "torchCheckFail undefined" in result.stderr
    assert not channel.exists()


def test_the_real_abi_check_refuses_a_package_that_is_not_torchrig(probes, tmp_path):
    channel = tmp_path / "channel"
    result = run_upload(probes["1.0.0"], *TORCH, "--to", "local", "--channel", channel, "--yes")
    assert result.returncode == 1, output(result)
    assert re.search(r"abi-check: error: .*torchrig", result.stderr)  # the abi-check verb's own words
    assert not channel.exists()


def test_missing_abi_check_is_a_hard_error(probes, tmp_path):
    result = run_upload(probes["1.0.0"], *TORCH, "--to", "local", "--channel", tmp_path / "c",
                        "--yes", env={STANDIN: str(tmp_path / "abi_check.py")})
    assert result.returncode == 2 and "abi-check not available" in result.stderr


def test_torches_default_to_the_venvs_the_pytorch_pin_admits(probes, tmp_path):
    py = f"py{sys.version_info[0]}.{sys.version_info[1]}"
    for name in (f"venv-{py}-torch2.13.0", f"venv-{py}-torch2.14.1", f"venv-{py}-torch-other",
                 "venv-py2.7-torch2.13.2"):  # the last: another Python's
        (tmp_path / name).mkdir()
    (tmp_path / f"venv-{py}-torch2.13.1").touch()  # not a venv
    package = read_package(probes["1.0.0"])
    pinned = dataclasses.replace(package, depends=("python", "pytorch >=2.13,<2.14",
                                                   "pytorch * cpu*"))
    assert abi.torches_for(pinned, tmp_path) == ["2.13.0"]
    assert abi.torches_for(package, tmp_path) == ["2.13.0", "2.14.1"]  # no pin: all of them
    with pytest.raises(UploadError, match="no torch to check"):
        abi.abi_check([pinned], [], show=print, venv_root=tmp_path / f"venv-{py}-torch-other")


def test_yes_without_the_token_variable_uploads_nothing(probes, checkers):
    result = run_upload(probes["1.0.0"], *TORCH, "--to", "quetz", "--url", "http://127.0.0.1:9",
                        "--channel", "c", "--yes", env=checkers.env())
    assert result.returncode == 2 and "$QUETZ_API_KEY is not set" in result.stderr
    assert "abi-check" not in result.stdout  # stopped before doing anything


def test_token_is_cut_out_of_a_server_error_that_echoes_it(probes, checkers):
    """prefix.dev's uploader puts the server's answer in its error; this server's answer
    repeats the Authorization header, so the raw rattler-build error holds the token."""
    token = "pfx-" + secrets.token_hex(20)
    with quetz_server.echoing_server() as url:
        result = run_upload(probes["1.0.0"], *TORCH, "--to", "prefix", "--url", url,
                            "--channel", "c", "--yes",
                            env={**checkers.env(), "PREFIX_API_KEY": token})
    assert result.returncode == 1
    assert "HTTP 401" in result.stderr and "Bearer ***" in result.stderr  # the echo, redacted
    assert token not in output(result)
    assert "Traceback" not in result.stderr


def test_redact_covers_encoded_forms():
    secret = 'a/b+c"d e'
    text = f'raw {secret} quoted a%2Fb%2Bc%22d%20e plus a%2Fb%2Bc%22d+e json "a/b+c\\"d e"'
    assert credentials.redact(text, secret) == 'raw *** quoted *** plus *** json "***"'


def test_a_token_that_cannot_be_redacted_reliably_is_refused(probes, checkers):
    token = "tok-\u00e9-" + secrets.token_hex(8)  # servers echo it back re-encoded
    result = run_upload(probes["1.0.0"], *TORCH, "--to", "quetz", "--url", "http://127.0.0.1:9",
                        "--channel", "c", "--yes", env={**checkers.env(), "QUETZ_API_KEY": token})
    assert result.returncode == 2 and "is not a token" in result.stderr
    assert token.split("-")[-1] not in output(result)


def test_local_channel_upload_then_install(probes, checkers, tmp_path):
    channel = tmp_path / "channel"
    package = probes["1.0.1"]
    result = run_upload(package, *TORCH, "--to", "local", "--channel", channel.as_uri(),
                        "--yes", env=checkers.env())
    assert result.returncode == 0, output(result)
    assert package.name in checkers.checked()
    repodata = json.loads((channel / "noarch" / "repodata.json").read_text())
    assert package.name in repodata["packages.conda"]
    records = solve_and_install([channel.as_uri()], f"{PROBE} ==1.0.1", tmp_path / "env",
                                tmp_path / "cache")
    assert [r.file_name for r in records] == [package.name]
    probe_smoke("1.0.1")(tmp_path / "env")
    again = run_upload(package, *TORCH, "--to", "local", "--channel", channel, "--yes",
                       env=checkers.env())
    assert again.returncode == 1 and "already in the channel" in again.stderr


def test_local_upload_exits_cleanly_every_time(probes, checkers, tmp_path):
    """py-rattler 0.28 can abort the interpreter's shutdown after index_fs (about every
    other run); the tool must leave with status 0 anyway."""
    statuses = [run_upload(probes["1.0.0"], *TORCH, "--to", "local", "--channel",
                           tmp_path / f"channel{i}", "--yes", env=checkers.env()).returncode
                for i in range(5)]
    assert statuses == [0] * 5


# ---- slow: a real quetz on 127.0.0.1 ------------------------------------------------------
@pytest.mark.slow
def test_quetz_upload_then_solve_and_install_over_http(quetz, e2e_artifact, checkers, tmp_path):
    package = read_package(e2e_artifact.path)
    assert package.path.name not in quetz.filenames(package.subdir)
    result = to_quetz(quetz, package.path, quetz.api_key, e2e_artifact.abi_env,
                      e2e_artifact.abi_args)
    assert result.returncode == 0, output(result)
    assert quetz.api_key not in output(result)
    if e2e_artifact.abi_env:
        assert package.path.name in checkers.checked()
    wait_for(lambda: package.path.name in quetz.filenames(package.subdir), 30,
             f"{package.path.name} in {quetz.channel_url}/{package.subdir}/repodata.json")

    prefix = tmp_path / "env"
    records = solve_and_install([quetz.channel_url, *e2e_artifact.channels], e2e_artifact.spec,
                                prefix, tmp_path / "cache")
    (record,) = [r for r in records if r.file_name == package.path.name]
    assert record.url.startswith(quetz.channel_url)  # fetched over HTTP from the server
    e2e_artifact.smoke(prefix)


@pytest.mark.slow
def test_quetz_refuses_a_wrong_key_and_keeps_the_channel(quetz, probes, checkers):
    package = probes["1.0.1"]
    before = quetz.repodata("noarch")
    wrong = secrets.token_hex(24)
    result = to_quetz(quetz, package, wrong, checkers.env())
    assert result.returncode == 1
    assert "upload failed" in result.stderr
    assert "$QUETZ_API_KEY holds a valid token" in result.stderr  # says what to check
    assert wrong not in output(result) and quetz.api_key not in output(result)
    time.sleep(1)  # quetz indexes in the background after an accepted upload
    assert quetz_server.http_status(f"{quetz.channel_url}/noarch/{package.name}") == 404
    assert quetz.repodata("noarch") == before
    # the same upload with the right key goes through: it was the key that was refused
    retry = to_quetz(quetz, package, quetz.api_key, checkers.env())
    assert retry.returncode == 0, output(retry)
