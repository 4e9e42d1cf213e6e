"""Upload built torchrig conda packages to a channel (the pixi `upload` task).

A dry run unless ``--yes`` is given: it lists what would go where, runs the ABI
check, and says whether the target's token variable is set. With ``--yes`` the
packages go through rattler-build's upload functions (prefix.dev, anaconda.org,
quetz, Artifactory) or are copied into a local file channel that py-rattler
re-indexes.

Token hygiene: the token is read from the target's environment variable only
(never an option: options show in ``ps`` and shell history), is never printed,
and is cut out (as ``***``) of any error text before it is shown; the ABI check
runs without any token variable in its environment.

The ABI check (``python tools/abi_check.py ARTIFACT`` per package, or the script
named by ``$TORCHRIG_ABI_CHECK``) must pass before anything is sent; there is no
option to skip it.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ABI_CHECK = REPO / "tools" / "abi_check.py"
ABI_CHECK_ENV = "TORCHRIG_ABI_CHECK"
TOKEN_ENV = {"prefix": "PREFIX_API_KEY", "anaconda": "ANACONDA_API_KEY",
             "quetz": "QUETZ_API_KEY", "artifactory": "ARTIFACTORY_TOKEN", "local": None}
DEFAULT_URL = {"prefix": "https://prefix.dev", "anaconda": "https://api.anaconda.org"}
SUBDIR = re.compile(r"noarch|[a-z0-9]+-[a-z0-9_]+")

EPILOG = f"""\
targets and what each needs (token: from the environment variable only):
  prefix       --channel NAME [--url URL]      PREFIX_API_KEY (GitHub Actions: trusted
                                               publishing when it is unset)
  anaconda     --owner USER [--channel LABEL]  ANACONDA_API_KEY
  quetz        --url URL --channel NAME        QUETZ_API_KEY
  artifactory  --url URL --channel NAME        ARTIFACTORY_TOKEN
  local        --channel DIR|file:///DIR       none: files are copied in, then re-indexed

Every artifact must pass the ABI check first: `python tools/abi_check.py ARTIFACT`
(or the script named by ${ABI_CHECK_ENV}, a stand-in used by the tests); a failing
check refuses the upload and shows its output. There is no way to skip it.

exit status: 0 done (or dry run ok), 1 refused or upload failed, 2 usage/setup error.
"""


class UploadError(Exception):
    """A refusal or failure, already worded for the user and free of secrets."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


@dataclasses.dataclass(frozen=True)
class Package:
    """One artifact and the identity read from its info/index.json."""

    path: Path
    name: str
    version: str
    build: str
    subdir: str


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="tools/upload.py", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Upload torchrig conda packages; a dry run unless --yes is given.")
    parser.add_argument("artifacts", nargs="*", type=Path,
                        help="package files (default: every OUTPUT_DIR/<subdir>/*.conda)")
    parser.add_argument("--output-dir", type=Path, default=REPO / "output",
                        help="where to look for packages when none are named (default: output/)")
    parser.add_argument("--to", choices=sorted(TOKEN_ENV), default="prefix",
                        help="target (default: prefix)")
    parser.add_argument("--channel", default=None,
                        help="channel name (prefix: default torchrig), anaconda label, local dir")
    parser.add_argument("--url",
                        help="server URL (quetz, artifactory; self-hosted prefix/anaconda)")
    parser.add_argument("--owner", help="anaconda.org user or organisation")
    parser.add_argument("--yes", action="store_true", help="really upload (default: dry run)")
    args = parser.parse_args(argv)
    if args.channel is None and args.to == "prefix":
        args.channel = "torchrig"
    missing = {"anaconda": ["owner"], "quetz": ["url", "channel"],
               "artifactory": ["url", "channel"], "local": ["channel"]}.get(args.to, [])
    for option in missing:
        if not getattr(args, option):
            parser.error(f"--to {args.to} needs --{option}")
    args.url = (args.url or DEFAULT_URL.get(args.to, "")).rstrip("/")
    return args


def find_artifacts(output_dir: Path) -> list[Path]:
    """rattler-build's packages under ``output_dir``: ``<subdir>/*.conda``, not its work dirs."""
    return sorted(p for p in output_dir.rglob("*.conda") if SUBDIR.fullmatch(p.parent.name)
                  and "bld" not in p.relative_to(output_dir).parts)


def read_package(path: Path) -> Package:
    from rattler.package import IndexJson

    try:
        index = IndexJson.from_package_archive(path)
    except Exception as err:
        raise UploadError(f"{path}: not a readable conda package ({err})", 2) from None
    return Package(path, index.name.normalized, str(index.version), index.build, index.subdir)


def local_channel(channel: str) -> Path:
    """A local channel given as a directory or a file:// URL."""
    if channel.startswith("file://"):
        return Path(urllib.parse.unquote(urllib.parse.urlparse(channel).path))
    return Path(channel).resolve()


def destination(args) -> str:
    """Where the packages go, as a channel URL (or directory) to show the user."""
    if args.to == "local":
        return local_channel(args.channel).as_uri()
    if args.to == "anaconda":
        return f"anaconda.org/{args.owner} (label {args.channel or 'main'}, API {args.url})"
    if args.to == "quetz":
        return f"{args.url}/get/{args.channel}"
    return f"{args.url}/{args.channel}"  # prefix.dev, Artifactory


def abi_check(packages: list[Package]) -> None:
    """Run the ABI check on every package; refuse (UploadError) if any fails."""
    override = os.environ.get(ABI_CHECK_ENV)
    checker = Path(override) if override else ABI_CHECK
    if not checker.is_file():
        raise UploadError(f"abi-check not available: {checker} is missing; nothing is uploaded "
                          "without it", 2)
    if override:
        print(f"abi-check: using {checker} (from ${ABI_CHECK_ENV}), not tools/abi_check.py")
    env = {k: v for k, v in os.environ.items() if k not in TOKEN_ENV.values()}
    failed = []
    for package in packages:
        result = subprocess.run([sys.executable, str(checker), str(package.path)], env=env,
                                capture_output=True, text=True, check=False)
        print(f"abi-check: {'ok    ' if result.returncode == 0 else 'FAILED'} {package.path.name}")
        if result.returncode != 0:
            print(f"{result.stdout}{result.stderr}".rstrip(), file=sys.stderr)
            failed.append(package.path.name)
    if failed:
        raise UploadError(f"refused: the ABI check failed for {', '.join(failed)}; "
                          "nothing uploaded")


def redact(text: str, secret: str | None) -> str:
    """``text`` with ``secret`` (as is, URL-encoded or JSON-escaped) replaced by ``***``."""
    if not secret:
        return text
    forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret),
             json.dumps(secret)[1:-1]}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "***")
    return text


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
    asyncio.run(index_fs(channel))


def upload_remote(args, files: list[str], token: str | None) -> None:
    """Send ``files`` with rattler-build's upload function for ``args.to``."""
    import rattler_build as rb

    calls = {
        "prefix": lambda: rb.upload_package_to_prefix(files, args.url, args.channel, api_key=token),
        "anaconda": lambda: rb.upload_package_to_anaconda(
            files, args.owner, channel=[args.channel] if args.channel else None,
            api_key=token, url=args.url),
        "quetz": lambda: rb.upload_package_to_quetz(files, args.url, args.channel, api_key=token),
        "artifactory": lambda: rb.upload_package_to_artifactory(files, args.url, args.channel,
                                                                 token=token),
    }
    hint = (f"The server at {args.url} refused or failed the upload. Check that "
            f"${TOKEN_ENV[args.to]} holds a valid token whose user may write to "
            f"'{args.channel or args.owner}', and that these files are not already there "
            "(channels refuse re-uploads; a rebuild needs a new build number).")
    call_redacted(calls[args.to], token, hint)


def credentials(target: str) -> tuple[str | None, bool, str]:
    """(token or None, whether an upload may proceed, a line saying which variable is
    set: never its value)."""
    name = TOKEN_ENV[target]
    if name is None:
        return None, True, "token: none needed for a local channel"
    token = os.environ.get(name) or None
    if token and not (token.isascii() and token.isprintable() and token.split() == [token]):
        # such a token cannot be right, and could not be reliably cut out of error text
        raise UploadError(f"${name} is set but is not a token (non-ASCII characters or "
                          "spaces); check the variable", 2)
    if token:
        return token, True, f"token: ${name} is set"
    if target == "prefix" and os.environ.get("GITHUB_ACTIONS") == "true":
        return None, True, (f"token: ${name} is not set; prefix.dev trusted publishing "
                            "(GitHub Actions)")
    return None, False, f"token: ${name} is NOT set"


def run(args) -> int:
    paths = args.artifacts or find_artifacts(args.output_dir)
    if not paths:
        raise UploadError(f"no packages in {args.output_dir}/<subdir>/*.conda: build them first "
                          "(pixi run build-conda) or name the files", 2)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise UploadError(f"no such file: {', '.join(missing)}", 2)
    packages = [read_package(p.resolve()) for p in paths]
    where = destination(args)
    token, may_upload, token_line = credentials(args.to)
    print(f"{'upload' if args.yes else 'dry run (nothing is sent; add --yes to upload)'}: "
          f"{len(packages)} package(s) to {args.to} {where}")
    print(token_line)
    for p in packages:
        print(f"  {p.name} {p.version} {p.build} [{p.subdir}]  {p.path}")
    if args.yes and not may_upload:
        raise UploadError(f"${TOKEN_ENV[args.to]} is not set: export it for this command "
                          "(see docs/publishing.md); nothing uploaded", 2)
    abi_check(packages)
    if not args.yes:
        print("dry run: ABI check passed; nothing uploaded")
        return 0
    if args.to == "local":
        upload_local(packages, local_channel(args.channel))
    else:
        upload_remote(args, [str(p.path) for p in packages], token)
    print(f"uploaded {len(packages)} package(s) to {where}")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except UploadError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.status


if __name__ == "__main__":
    sys.exit(main())
