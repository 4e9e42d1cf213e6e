"""Sending: rattler-build's upload functions, or a copy into a local file channel.

Token hygiene: the token comes from the target's environment variable only (read by
credentials.py, which the index upload shares), and any error text is passed through
``credentials.redact`` before anyone sees it.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..conda.rattler_async import run_async
from ..credentials import from_environment, redact
from ..errors import UploadError
from .packages import Package

TOKEN_ENV = {"prefix": "PREFIX_API_KEY", "anaconda": "ANACONDA_API_KEY",
             "quetz": "QUETZ_API_KEY", "artifactory": "ARTIFACTORY_TOKEN", "local": None}


def credentials(target: str) -> tuple[str | None, bool, str]:
    """(token or None, whether an upload may proceed, a line saying which variable is
    set: never its value)."""
    name = TOKEN_ENV[target]
    if name is None:
        return None, True, "token: none needed for a local channel"
    # a token with spaces or non-ASCII characters cannot be right, and could not be reliably
    # cut out of error text
    secret = from_environment([name], UploadError, "${name} is set but is not a token "
                              "(non-ASCII characters or spaces); check the variable")
    token = secret.value if secret else None
    if token:
        return token, True, f"token: ${name} is set"
    if target == "prefix" and os.environ.get("GITHUB_ACTIONS") == "true":
        return None, True, (f"token: ${name} is not set; prefix.dev trusted publishing "
                            "(GitHub Actions)")
    return None, False, f"token: ${name} is NOT set"


def call_redacted(upload, token: str | None, hint: str) -> None:
    """Run ``upload()``; on failure raise an UploadError whose text holds no token.

    The original exception is not chained (its text may hold the token: servers
    echo credentials back), so a traceback cannot show it either.
    """
    try:
        upload()
        return
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as err:  # rattler-build's errors; a Rust panic is a BaseException
        message = redact(f"{type(err).__name__}: {err}", token)
    raise UploadError(f"upload failed: {message}\n{hint}")


def upload_local(packages: list[Package], channel: Path) -> None:
    """Copy into the file channel ``channel`` (refusing files already there), then index it."""
    from rattler.index import index_fs

    targets = [channel / p.subdir / p.path.name for p in packages]
    present = [str(t) for t in targets if t.exists()]
    if present:
        raise UploadError("refused: already in the channel (a rebuild needs a new build "
                          f"number): {', '.join(present)}; nothing copied")
    for package, target in zip(packages, targets):
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        shutil.copyfile(package.path, partial)
        os.replace(partial, target)
    (channel / "noarch").mkdir(exist_ok=True)  # a conda channel always has noarch/
    run_async(index_fs(channel))


def upload_remote(target: str, files: list[str], token: str | None, *, url: str,
                  channel: str | None, owner: str | None = None) -> None:
    """Send ``files`` with rattler-build's upload function for ``target`` (a key of
    TOKEN_ENV other than ``local``): to ``channel`` on the server ``url``; anaconda.org:
    to ``owner``, ``channel`` being a label there."""
    import rattler_build as rb

    calls = {
        "prefix": lambda: rb.upload_package_to_prefix(files, url, channel, api_key=token),
        "anaconda": lambda: rb.upload_package_to_anaconda(
            files, owner, channel=[channel] if channel else None, api_key=token, url=url),
        "quetz": lambda: rb.upload_package_to_quetz(files, url, channel, api_key=token),
        "artifactory": lambda: rb.upload_package_to_artifactory(files, url, channel, token=token),
    }
    hint = (f"The server at {url} refused or failed the upload. Check that "
            f"${TOKEN_ENV[target]} holds a valid token whose user may write to "
            f"'{channel or owner}', and that these files are not already there "
            "(channels refuse re-uploads; a rebuild needs a new build number).")
    call_redacted(calls[target], token, hint)
