"""`upload`: send built torchrig conda packages to a channel (the pixi `upload` task).

A dry run unless ``--yes`` is given: it lists what would go where, runs the ABI
check, and says whether the target's token variable is set. With ``--yes`` the
packages go through rattler-build's upload functions (prefix.dev, anaconda.org,
quetz, Artifactory) or are copied into a local file channel that py-rattler
re-indexes.

Token hygiene: the token is read from the target's environment variable only
(never an option: options show in ``ps`` and shell history), is never printed,
and is cut out (as ``***``) of any error text before it is shown; the ABI check
runs without any token variable in its environment.

The ABI check (the `abi-check` verb, called in-process for each package) must pass
before anything is sent; there is no option to skip it. The torches it checks
against are the ``--torch`` options, else the cached ``venv-pyX.Y-torch<version>``
venvs (``torchrig-release venv``) whose version the package's pytorch
dependency admits.
"""
from __future__ import annotations

import argparse
import sys
import urllib.parse
from pathlib import Path

from .errors import UploadError
from .paths import OUTPUT_DIR
from .upload.abi import abi_check
from .upload.packages import find_artifacts, read_package
from .upload.targets import TOKEN_ENV, credentials, upload_local, upload_remote

DEFAULT_URL = {"prefix": "https://prefix.dev", "anaconda": "https://api.anaconda.org"}

EPILOG = f"""\
targets and what each needs (token: from the environment variable only):
  prefix       --channel NAME [--url URL]      PREFIX_API_KEY (GitHub Actions: trusted
                                               publishing when it is unset)
  anaconda     --owner USER [--channel LABEL]  ANACONDA_API_KEY
  quetz        --url URL --channel NAME        QUETZ_API_KEY
  artifactory  --url URL --channel NAME        ARTIFACTORY_TOKEN
  local        --channel DIR|file:///DIR       none: files are copied in, then re-indexed

Every artifact must pass the ABI check first, in the dry run too (the abi-check
verb, run in-process: `abi-check ARTIFACT --torch TORCH ...`); a failing check refuses
the upload and shows its report. There is no way to skip it. TORCH: the --torch
options, else each cached venv-pyX.Y-torch<version> (`torchrig-release venv`)
that the package's pytorch dependency admits.

exit status: 0 done (or dry run ok), 1 refused or upload failed, 2 usage/setup error.
"""


def configure_parser(sub) -> None:
    parser = sub.add_parser(
        "upload", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        help="upload conda packages (ABI check first; a dry run unless --yes)",
        description="Upload torchrig conda packages; a dry run unless --yes is given.")
    parser.add_argument("artifacts", nargs="*", type=Path,
                        help="package files (default: every OUTPUT_DIR/<subdir>/*.conda)")
    parser.add_argument("--output-dir", type=Path, default=OUTPUT_DIR,
                        help="where to look for packages when none are named (default: output/)")
    parser.add_argument("--to", choices=sorted(TOKEN_ENV), default="prefix",
                        help="target (default: prefix)")
    parser.add_argument("--channel", default=None,
                        help="channel name (prefix: default torchrig), anaconda label, local dir")
    parser.add_argument("--url",
                        help="server URL (quetz, artifactory; self-hosted prefix/anaconda)")
    parser.add_argument("--owner", help="anaconda.org user or organisation")
    parser.add_argument("--torch", action="append", default=[], metavar="TORCH",
                        help="torch installation for the ABI check (repeatable; see below)")
    parser.add_argument("--yes", action="store_true", help="really upload (default: dry run)")
    parser.set_defaults(func=run, parser=parser)


def check_args(args: argparse.Namespace) -> None:
    """Per-target required options and defaults (a usage error, status 2)."""
    if args.channel is None and args.to == "prefix":
        args.channel = "torchrig"
    missing = {"anaconda": ["owner"], "quetz": ["url", "channel"],
               "artifactory": ["url", "channel"], "local": ["channel"]}.get(args.to, [])
    for option in missing:
        if not getattr(args, option):
            args.parser.error(f"--to {args.to} needs --{option}")
    args.url = (args.url or DEFAULT_URL.get(args.to, "")).rstrip("/")


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


def show_abi(line: str, report: str | None) -> None:
    """One package's ABI verdict on stdout; a failed one's report on stderr."""
    print(line)
    if report is not None:
        print(report, file=sys.stderr)


def run(args, checker=None) -> int:
    """``checker``: the ABI check to call (default: the real one; tests pass a stand-in)."""
    check_args(args)
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
    abi_check(packages, args.torch, show=show_abi, secret_names=[v for v in TOKEN_ENV.values() if v],
              checker=checker)
    if not args.yes:
        print("dry run: ABI check passed; nothing uploaded")
        return 0
    if args.to == "local":
        upload_local(packages, local_channel(args.channel))
    else:
        upload_remote(args.to, [str(p.path) for p in packages], token, url=args.url,
                      channel=args.channel, owner=args.owner)
    print(f"uploaded {len(packages)} package(s) to {where}")
    return 0
