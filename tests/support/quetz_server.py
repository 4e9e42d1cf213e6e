"""Loopback servers for the upload tests: a throwaway quetz, and a careless stand-in.

quetz (mamba-org's conda channel server) lives in its own venv, because it
pins an old fastapi/SQLAlchemy: ``<cache>/venv-quetz-py3.11`` (the machine-wide cache), created on first use and
reused afterwards. ``running_quetz()`` makes a clean deployment (SQLite, no
sample data) with one user who owns one channel and has one API key, serves it
on a free loopback port, and always stops it on exit.

``echoing_server()`` runs a stand-in that refuses every request with HTTP 401
and echoes the request headers, credentials included, in its error body (some
servers do): the test that tokens are cut out of real rattler-build errors.

Both servers run in child processes (rattler-build's upload calls hold the GIL,
so a server thread in the test process would never answer) with a bounded
lifetime, and are stopped on exit. This file is also their entry point:
``python quetz_server.py provision DIR USER CHANNEL`` (run by the quetz venv's
Python, key in ``$QUETZ_PROVISION_KEY`` so it never shows in a process list;
only that path imports quetz) and ``python quetz_server.py echo SECONDS``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

QUETZ_REQUIREMENTS = ["quetz-server==0.10.4", "fastapi==0.104.1", "sqlalchemy<2.1"]
KEY_ENV = "QUETZ_PROVISION_KEY"
MAX_LIFETIME_S = 1800  # a server outlives a killed test run by at most this
_CONFIG = """\
[sqlalchemy]
database_url = "sqlite:///{db}"

[session]
secret = "{secret}"
https_only = false

[logging]
level = "WARNING"
"""


@dataclasses.dataclass(frozen=True)
class QuetzServer:
    """A running deployment: where it listens, its channel and its user's key."""

    url: str
    channel: str
    user: str
    api_key: str = dataclasses.field(repr=False)
    deployment: Path
    log: Path

    @property
    def channel_url(self) -> str:
        """The conda channel URL that solvers read (``URL/get/CHANNEL``)."""
        return f"{self.url}/get/{self.channel}"

    def repodata(self, subdir: str) -> dict:
        """The channel's repodata.json for ``subdir`` ({} when there is none yet)."""
        return get_json(f"{self.channel_url}/{subdir}/repodata.json") or {}

    def filenames(self, subdir: str) -> set[str]:
        """Package file names listed in the channel's repodata for ``subdir``."""
        repodata = self.repodata(subdir)
        return set(repodata.get("packages", {})) | set(repodata.get("packages.conda", {}))


def http_status(url: str, timeout: float = 5.0) -> int:
    """The HTTP status of a GET of ``url``."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def get_json(url: str, timeout: float = 5.0):
    """GET ``url`` and parse JSON; None on 404."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as err:
        if err.code == 404:
            return None
        raise


def _run(command: list, **kwargs) -> None:
    """Run ``command``; on failure raise with its output (which a bare check=True hides)."""
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True,
                            timeout=600, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} exited with {result.returncode}:\n"
                           f"{result.stdout}{result.stderr}")


def ensure_venv(venv: Path) -> Path:
    """Create ``venv`` with quetz unless a complete one is there; return its Python.

    A stamp file written after a successful install marks the venv complete, so
    an interrupted install is redone rather than reused.
    """
    python = venv / "bin" / "python"
    stamp = venv / ".torchrig-quetz-ok"
    wanted = " ".join(QUETZ_REQUIREMENTS)
    if stamp.is_file() and stamp.read_text() == wanted and python.exists():
        return python
    _run([sys.executable, "-m", "venv", "--clear", venv])
    _run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *QUETZ_REQUIREMENTS])
    stamp.write_text(wanted)
    return python


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env() -> dict:
    """This process's environment without QUETZ_* settings (quetz reads those as config)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("QUETZ_")}


def create_deployment(python: Path, deployment: Path, user: str, channel: str, key: str) -> None:
    """A clean quetz deployment in ``deployment``: SQLite, one user, channel and key."""
    deployment.mkdir(parents=True)
    (deployment / "config.toml").write_text(
        _CONFIG.format(db=deployment / "quetz.sqlite", secret=secrets.token_hex(32)))
    env = _server_env()
    # quetz writes quetz.log into its working directory, which must not be the deployment
    # (`create` wants it to hold only config.toml) nor the caller's: use its parent
    _run([python.parent / "quetz", "create", deployment], env=env, cwd=deployment.parent)
    _run([python, __file__, "provision", deployment, user, channel],
         env={**env, KEY_ENV: key}, cwd=deployment.parent)


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    """Poll ``url``/api/channels until it answers; fail early if the server exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"quetz exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(OSError):
            if get_json(f"{url}/api/channels", timeout=2) is not None:
                return
        time.sleep(0.3)
    raise TimeoutError(f"quetz did not answer on {url} within {timeout:.0f} s:\n{log.read_text()}")


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM the server's process group (it was started in its own), then SIGKILL."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)


@contextlib.contextmanager
def running_quetz(venv: Path, workdir: Path, *, user: str = "torchrig-ci",
                  channel: str = "torchrig-test", startup_timeout: float = 60):
    """Yield a QuetzServer serving a fresh deployment under ``workdir``; stop it on exit."""
    python = ensure_venv(venv)
    key = secrets.token_hex(24)
    deployment = workdir / "quetz"
    create_deployment(python, deployment, user, channel, key)
    port = free_port()
    log = workdir / "server-output.log"  # (quetz itself also writes workdir/quetz.log)
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            ["timeout", "--kill-after=10", str(MAX_LIFETIME_S), str(python.parent / "quetz"),
             "start", str(deployment), "--host", "127.0.0.1", "--port", str(port),
             "--no-supervisor", "--log-level", "warning"],
            stdout=log_file, stderr=subprocess.STDOUT, env=_server_env(), cwd=workdir,
            start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url, process, log, startup_timeout)
        yield QuetzServer(url, channel, user, key, deployment, log)
    finally:
        stop(process)


def provision(deployment: str, user: str, channel: str) -> None:  # import-closure: other interpreter
    """Inside the quetz venv: add ``user`` (no server role), make them owner of a
    public ``channel`` and give them the API key from ``$QUETZ_PROVISION_KEY``."""
    from quetz import rest_models
    from quetz.config import Config
    from quetz.dao import Dao
    from quetz.database import get_session
    from quetz.db_models import Identity, Profile

    config = Config(str(Path(deployment) / "config.toml"))
    dao = Dao(get_session(config.sqlalchemy_database_url))
    account = dao.create_user_with_role(user)
    account.identities.append(Identity(provider="dummy", identity_id=user, username=user))
    account.profile = Profile(name=user, avatar_url="")
    dao.db.commit()
    dao.create_channel(rest_models.Channel(name=channel, private=False), account.id, "owner")
    dao.create_api_key(account.id, rest_models.BaseApiKey(description="upload tests", roles=[]),
                       os.environ[KEY_ENV])


def serve_echo(lifetime: float) -> None:
    """Serve on a free loopback port (printed first) for ``lifetime`` seconds: every
    request gets 401 and a JSON body that repeats its headers."""
    import http.server

    class Echo(http.server.BaseHTTPRequestHandler):
        def refuse(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps({"error": "invalid credentials",
                               "received headers": dict(self.headers)}).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = refuse

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Echo)
    server.timeout = 0.5
    print(server.server_address[1], flush=True)
    deadline = time.monotonic() + lifetime
    while time.monotonic() < deadline:
        server.handle_request()


@contextlib.contextmanager
def echoing_server(lifetime: float = 120):
    """Yield the URL of a running ``serve_echo`` child; stop it on exit."""
    process = subprocess.Popen([sys.executable, __file__, "echo", str(lifetime)],
                               stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        port = process.stdout.readline().strip()
        if not port:
            raise RuntimeError(f"echo server did not start (exit {process.wait(10)})")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        process.stdout.close()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "provision":
        provision(*sys.argv[2:])
    elif len(sys.argv) == 3 and sys.argv[1] == "echo":
        serve_echo(float(sys.argv[2]))
    else:
        sys.exit("usage: quetz_server.py provision DEPLOYMENT USER CHANNEL | echo SECONDS")
