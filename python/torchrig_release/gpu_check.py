"""The GPU check: everything a lent GPU machine should run, in one command (the `gpu-check` verb).

A GPU machine is lent by chance, for minutes, with no network; this runs there in one call of
at most 9 minutes (TOTAL_S, every step with its own timeout, cut to the time left):

  1  classic build: the classic CUDA extension compiled against the machine's torch for its
     GPU only (TORCH_CUDA_ARCH_LIST from the device's capability; pip wheel
     --no-build-isolation, offline), installed with --target into a folder of its own;
     `python -m torchrig info` from it.
  2  stable install: the stable-ABI CUDA wheel built on the development machine (the kit,
     dist/gpu-kit, checked against its sha256: unchanged) installed with --target into a
     second folder; `info` from it.
  3  with each build: the GPU tests (test-gpu's pytest -m gpu); the op, bad-input and fuzz
     tests under compute-sanitizer --tool memcheck; the skin backward under --tool racecheck
     on small sizes; for the classic build the GPU bench (FK and skin, fwd and fwd+bwd,
     B 1/64/1024/4096, V 7k/50k, float32, against the reference, then again with
     torch.compile(reference), achieved GB/s beside a measured device copy). The stable
     build's steps run on the GPU while the classic build compiles on the CPUs; the classic
     build's then run in the order test-gpu, bench, memcheck, racecheck, bench compiled (the
     figures never measured before the sanitizers, torch.compile's long compiles last).
  4  one log per part and summary.txt (each step: passed / failed / skipped, seconds, its key
     figure) in the output folder; a failed step never stops the others.

The output folder gets at most 8 files (what the lending tool brings back): summary.txt,
1-classic-build.log, 2-stable-install.log, 3-classic-tests.log, 3-stable-tests.log,
3-classic-bench.log, bench.json, and 0-kit.log in a dry run. Builds and installs go to
build/gpu-check (never sent back).

--dry-run (on a machine without a GPU) does everything that needs none: builds the kit (the
stable CUDA wheel for --arch, default 9.0, against the cached torch 2.14.1+cu130 venv), checks
that the checkout plus the kit fit what may be sent (64 MiB, with 16 MiB to spare), builds the
classic CUDA extension for sm_90 against the same torch, installs both and runs `info`, and
runs every GPU step's own command up to the device: pytest collects the tests (--collect-only),
the racecheck probe builds its inputs on the CPU, the bench stops at "no CUDA device". Those
steps are reported as skipped, with what was collected. --dry-run --reuse-kit --python PY keeps
the kit as built and rehearses the rest with another interpreter (e.g. a Python 3.12 venv with
a newer CUDA torch, as on the GPU machine).

This module's imports are the standard library and torchrig_release's stdlib-only helpers:
the GPU machine runs it from the checkout (PYTHONPATH=python) with no release tooling
installed. Its children never see python/ on their path (python/torchrig has no compiled
library); each gets PYTHONPATH=<its build's folder>.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import pathlib
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from .errors import ReleaseError
from .paths import REPO
from .test_gpu import gpu_tests_command, memcheck_command

log = logging.getLogger(__name__)

KIT = REPO / "dist" / "gpu-kit"          # what travels beside the checkout (carry=dist/gpu-kit)
KIT_RECORD = "kit.json"                  # the wheel's name, sha256, arch list, torch, commit
WORK = REPO / "build" / "gpu-check"      # builds and installs; never in the output folder
SEND_LIMIT = 64 << 20                    # what the lending tool sends: checkout + carried paths
SEND_ROOM = 16 << 20                     # kept free under it
LOG_CAP = 15 << 20                       # a file coming back may hold 16 MiB
TOTAL_S = 510                            # under 9 minutes, whatever each step is allowed
DRY_TOTAL_S = 3600                       # a dry run builds on a development machine's few cores
DRY_BUILD_S = 1800
DRY_ARCH = "9.0"                         # H100 and H200
FUZZ_EXAMPLES = "50"                     # per fuzz test under memcheck (test-gpu's default: 200)
NO_DEVICE = 77                           # the racecheck probe's exit status without a GPU
# seconds each step may take at most (each is also cut to the time left of TOTAL_S)
TIMEOUTS = {"capability": 60, "classic build": 240, "install": 60, "info": 60, "tests": 100,
            "memcheck": 150, "racecheck": 60, "bench": 90, "bench compiled": 150}
LOGS = {"kit": "0-kit.log", "classic build": "1-classic-build.log",
        "stable install": "2-stable-install.log", "classic tests": "3-classic-tests.log",
        "stable tests": "3-stable-tests.log", "classic bench": "3-classic-bench.log"}
BENCH_JSON = "bench.json"
SUMMARY = "summary.txt"

# Run on the GPU machine under compute-sanitizer --tool racecheck: the skin backward's kernels
# (shared-memory slabs, the transforms-gradient reduction, the vertex-gradient batch split) on
# small sizes, shared and batched rest vertices, every gradient asked for; compared with the CPU.
RACECHECK_PROBE = '''"""racecheck probe (written by torchrig_release.gpu_check)."""
import sys
import torch
import torchrig
from torchrig.procedural import SMPLX_PARENTS

J, K = len(SMPLX_PARENTS), 4
CASES = [(2, 300, False), (5, 1000, True), (33, 257, False)]  # (B, V, batched rest)


def inputs(B, V, batched, seed):
    gen = torch.Generator().manual_seed(seed)
    rest = torch.randn(*((B,) if batched else ()), V, 3, generator=gen)
    tf = torch.randn(B, J, 3, 4, generator=gen)
    idx = torch.randint(0, J, (V, K), generator=gen)
    w = torch.rand(V, K, generator=gen)
    return torch.randn(B, V, 3, generator=gen), rest, tf, idx, w


want = [torch.ops.torchrig.skin_backward(*inputs(B, V, bt, i), [True, True, True])
        for i, (B, V, bt) in enumerate(CASES)]
print(f"racecheck probe: {len(CASES)} skin_backward cases on the CPU ({torchrig.BUILD_INFO.get('abi')} build)")
if not torch.cuda.is_available():
    print("racecheck probe: no CUDA device; stopping before the GPU")
    sys.exit(77)
for i, (B, V, bt) in enumerate(CASES):
    got = torch.ops.torchrig.skin_backward(*(t.cuda() for t in inputs(B, V, bt, i)), [True, True, True])
    torch.cuda.synchronize()
    for g, c in zip(got, want[i]):
        torch.testing.assert_close(g.cpu(), c, rtol=1e-3, atol=1e-3)  # float32 sums over V
    print(f"racecheck probe: B={B} V={V} batched={bt} matches the CPU")
'''


@dataclass
class Step:
    """One step's outcome: ``status`` passed / failed / skipped, ``figure`` its key figure."""
    part: int
    name: str
    status: str = "skipped"
    seconds: float = 0.0
    figure: str = ""

    def line(self) -> str:
        return f"{self.part:<4} {self.name:<24} {self.status:<7} {self.seconds:6.0f}s  {self.figure}"


@dataclass
class Context:
    """Where the check runs: the interpreter whose torch it builds against and tests with."""
    out: pathlib.Path
    python: str
    dry_run: bool
    arch: str | None = None          # TORCH_CUDA_ARCH_LIST of the classic build
    kit: pathlib.Path = KIT
    work: pathlib.Path = WORK
    jobs: int = max(2, (os.cpu_count() or 2) - 2)
    start: float = field(default_factory=time.monotonic)
    total_s: float = TOTAL_S
    timeouts: dict[str, float] = field(default_factory=lambda: dict(TIMEOUTS))
    steps: list[Step] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def left(self) -> float:
        return self.total_s - (time.monotonic() - self.start)

    def site(self, build: str) -> pathlib.Path:
        return self.work / f"{build}-site"

    def add(self, step: Step) -> Step:
        with self.lock:
            self.steps.append(step)
        log.info("%s", step.line())
        return step


# ---- running one command into a log ----------------------------------------------------------

def child_env(site: pathlib.Path | None, **extra: str) -> dict[str, str]:
    """This environment without PYTHONPATH (python/ must not shadow the build), plus
    PYTHONPATH=site and ``extra``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    env.update(extra)
    return env


def run_logged(cmd: list[str], log_file: pathlib.Path, timeout: float, *, env: dict[str, str],
               cwd: pathlib.Path = REPO, title: str = "") -> tuple[int | None, str]:
    """Run ``cmd`` with its output appended to ``log_file``; (exit status or None when it ran
    past ``timeout`` seconds and was killed with its process group, the output it wrote)."""
    shown = {k: v for k, v in env.items() if os.environ.get(k) != v}
    with log_file.open("a", encoding="utf-8", errors="replace") as out:
        out.write(f"\n==== {title} ({time.strftime('%H:%M:%S')}, timeout {timeout:.0f}s)\n"
                  f"$ {shlex.join([f'{k}={v}' for k, v in shown.items()] + [str(c) for c in cmd])}\n")
        out.flush()
        mark = out.tell()
        proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            rc: int | None = proc.wait(timeout=max(timeout, 1))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the group this Popen started, nothing else
            proc.wait()
            rc = None
        out.write(f"\n==== exit status {'timeout' if rc is None else rc}\n")
    with log_file.open("r", encoding="utf-8", errors="replace") as f:
        f.seek(mark)
        return rc, f.read()


def cap_log(path: pathlib.Path, cap: int = LOG_CAP) -> None:
    """Keep a log under ``cap`` bytes: its first MiB and its end, the middle's size noted."""
    size = path.stat().st_size if path.exists() else 0
    if size <= cap:
        return
    head, tail = 1 << 20, cap - (2 << 20)
    with path.open("rb") as f:
        first = f.read(head)
        f.seek(size - tail)
        last = f.read()
    path.write_bytes(first + f"\n\n[... {size - head - tail} bytes left out by gpu-check ...]\n\n"
                     .encode() + last)


def timeout_for(ctx: Context, what: str) -> float | None:
    """The step's timeout, cut to the time left; None when under 10 s are left."""
    left = ctx.left()
    return None if left < 10 else min(ctx.timeouts[what], left)


def cut(ctx: Context, what: str) -> float:
    """A short step's timeout (install, info): its own, cut to the time left, at least 5 s."""
    return max(5.0, min(ctx.timeouts[what], ctx.left()))


def out_of_time(ctx: Context, part: int, name: str) -> Step:
    return ctx.add(Step(part, name, "failed" if not ctx.dry_run else "skipped",
                        figure=f"not started: under 10 s of the {ctx.total_s:.0f} s left"))


# ---- part 1: the classic build -----------------------------------------------------------------

def device(python: str) -> tuple[str, str] | None:
    """(capability 'X.Y', device name) of the first CUDA device the torch of ``python`` sees,
    or None when it sees none (ReleaseError when it has no torch)."""
    code = ("import torch\nif torch.cuda.is_available(): print('device: %d.%d' % "
            "torch.cuda.get_device_capability(), torch.cuda.get_device_name())")
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, env=child_env(None),
                          timeout=TIMEOUTS["capability"])
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ReleaseError(f"gpu-check: {python} cannot import torch ({last}); pass --python with "
                           "the interpreter of a CUDA torch", 2)
    found = [line.split(" ", 2)[1:] for line in proc.stdout.splitlines() if line.startswith("device: ")]
    return (found[0][0], found[0][1]) if found else None


def probe_build(ctx: Context, build: str, log_file: pathlib.Path) -> tuple[bool, str]:
    """`python -m torchrig info` and a one-line probe from the build's folder: (ok, figure)."""
    site, env = ctx.site(build), child_env(ctx.site(build))
    rc, _ = run_logged([ctx.python, "-m", "torchrig", "info"], log_file, cut(ctx, "info"), env=env,
                       cwd=ctx.work, title=f"python -m torchrig info ({build})")
    code = ("import json, torch, torchrig; i = torchrig.BUILD_INFO; print('probe:', json.dumps("
            "{'file': torchrig.__file__, 'abi': i.get('abi'), 'with_cuda': i.get('with_cuda'), "
            "'arch': i.get('cuda_arch_list') or i.get('cuda_libraries'), "
            # the stable build registers a CUDA entry of the public op in any case (one that
            # says what to install): its kernel library's own namespace tells
            "'cuda_kernel': torch._C._dispatch_has_kernel_for_dispatch_key(('torchrig_kernels' "
            "if i.get('abi') == 'stable' else 'torchrig') + '::skin', 'CUDA')}))")
    prc, text = run_logged([ctx.python, "-c", code], log_file, cut(ctx, "info"), env=env,
                           cwd=ctx.work, title=f"where the {build} build loads from")
    found = [json.loads(line[len("probe: "):]) for line in text.splitlines() if line.startswith("probe: ")]
    if rc != 0 or prc != 0 or not found:
        return False, f"info exit {rc}, probe exit {prc} (see the log)"
    p = found[0]
    problems = [w for w, bad in (("not loaded from its folder", not pathlib.Path(p["file"]).is_relative_to(site)),
                                 (f"abi {p['abi']}", p["abi"] != build),
                                 ("no CUDA kernels", not (p["with_cuda"] and p["cuda_kernel"]))) if bad]
    return not problems, "; ".join(problems) or f"info ok, {p['abi']} build, sm {p['arch']}"


def classic_build(ctx: Context) -> None:
    log_file = ctx.out / LOGS["classic build"]
    start = time.monotonic()
    step = Step(1, "classic build + info")
    wheels = fresh(ctx.work / "classic-wheel")
    env = child_env(None, TORCHRIG_ABI="classic", TORCHRIG_CUDA="ON", TORCH_CUDA_ARCH_LIST=ctx.arch,
                    CMAKE_BUILD_PARALLEL_LEVEL=str(ctx.jobs),
                    SKBUILD_BUILD_DIR=str(ctx.work / "classic-build-{wheel_tag}"))
    timeout = timeout_for(ctx, "classic build")
    if timeout is None:
        out_of_time(ctx, 1, step.name)
        return
    timeout = max(10.0, min(timeout, ctx.left() - 30))  # leaves time for install and info
    built = time.monotonic()
    rc, _ = run_logged([ctx.python, "-m", "pip", "wheel", "-v", "--no-build-isolation", "--no-deps",
                        "--no-index", "--disable-pip-version-check", "-w", wheels, REPO], log_file,
                       timeout, env=env, title=f"classic CUDA build for {ctx.arch}")
    build_s = time.monotonic() - built
    found = sorted(wheels.glob("torchrig-*.whl"))
    ok = rc == 0 and len(found) == 1
    if ok:
        ok = install(ctx, found[0], "classic", log_file)
    if ok:
        ok, figure = probe_build(ctx, "classic", log_file)
        step.figure = f"built for {ctx.arch} in {build_s:.0f}s; {figure}"
    else:
        step.figure = (f"build ran past {timeout:.0f}s" if rc is None else
                       f"build/install failed (exit {rc}, {len(found)} wheel(s); see the log)")
    step.status = "passed" if ok else "failed"
    step.seconds = time.monotonic() - start
    ctx.add(step)


def install(ctx: Context, wheel: pathlib.Path, build: str, log_file: pathlib.Path) -> bool:
    rc, _ = run_logged([ctx.python, "-m", "pip", "install", "--no-deps", "--no-index",
                        "--disable-pip-version-check", "--target", fresh(ctx.site(build)), wheel],
                       log_file, cut(ctx, "install"), env=child_env(None),
                       title=f"install {wheel.name} into {ctx.site(build)}")
    return rc == 0


def fresh(path: pathlib.Path) -> pathlib.Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


# ---- part 2: the stable wheel of the kit ---------------------------------------------------------

def kit_wheel(kit: pathlib.Path) -> pathlib.Path:
    """The kit's stable wheel, checked against its record (ReleaseError when absent or changed)."""
    record_path = kit / KIT_RECORD
    if not record_path.is_file():
        raise ReleaseError(f"no {record_path}: build the kit on the development machine with "
                           "`torchrig-release gpu-check --dry-run OUT` and send dist/gpu-kit with "
                           "the checkout (the run tool's carry=[\"dist/gpu-kit\"])")
    record = json.loads(record_path.read_text())
    wheel = kit / record["wheel"]
    if not wheel.is_file():
        raise ReleaseError(f"{wheel} is missing: rebuild the kit (gpu-check --dry-run)")
    digest = sha256(wheel)
    if digest != record["sha256"]:
        raise ReleaseError(f"{wheel.name} changed since the kit was built (sha256 {digest[:12]} "
                           f"!= {record['sha256'][:12]}): rebuild the kit (gpu-check --dry-run)")
    return wheel


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stable_install(ctx: Context) -> None:
    log_file = ctx.out / LOGS["stable install"]
    start = time.monotonic()
    step = Step(2, "stable install + info")
    try:
        wheel = kit_wheel(ctx.kit)
    except ReleaseError as err:
        step.status, step.figure = "failed", str(err)
        with log_file.open("a") as f:
            f.write(f"{err}\n")
        ctx.add(step)
        return
    ok = install(ctx, wheel, "stable", log_file)
    if ok:
        ok, figure = probe_build(ctx, "stable", log_file)
        step.figure = f"{wheel.name} (sha256 checked); {figure}"
    else:
        step.figure = f"pip install --target failed for {wheel.name} (see the log)"
    step.status = "passed" if ok else "failed"
    step.seconds = time.monotonic() - start
    ctx.add(step)


# ---- part 3: tests, sanitizers, bench ------------------------------------------------------------

def pytest_figure(text: str) -> str:
    """pytest's closing counts ('12 passed, 3 skipped in 4.1s') or its collection count."""
    counts = re.findall(r"^=*\s*((?:\d+ \w+(?:, )?)+(?: in [\d.]+s)?)\s*=*\s*$", text, re.M)
    collected = re.findall(r"^(\d+(?:/\d+)? tests? collected(?: \(\d+ deselected\))?)", text, re.M)
    return (counts[-1] if counts else collected[-1] if collected else "no pytest summary").strip()


def sanitizer() -> str | None:
    found = shutil.which("compute-sanitizer")
    for home in (os.environ.get("CUDA_HOME"), "/usr/local/cuda"):
        if not found and home and (pathlib.Path(home) / "bin" / "compute-sanitizer").is_file():
            found = str(pathlib.Path(home) / "bin" / "compute-sanitizer")
    return found


def gpu_step(ctx: Context, build: str, name: str, cmd: list[str], env: dict[str, str],
             log_file: pathlib.Path, dry_cmd: list[str], what: str, dry_rc: int = 0) -> Step:
    """Run one GPU step; in a dry run ``dry_cmd`` instead, its command stopped before the device,
    which must exit with ``dry_rc`` (2: and say there is no CUDA device) for "skipped"."""
    step = Step(3, f"{build} {name}")
    timeout = timeout_for(ctx, what)
    if timeout is None:
        return out_of_time(ctx, 3, step.name)
    start = time.monotonic()
    if ctx.dry_run:
        rc, text = run_logged(dry_cmd, log_file, timeout, env=env, cwd=ctx.work,
                              title=f"{step.name}, dry run: up to the device")
        stopped = rc == dry_rc and (rc != 2 or "no CUDA device" in text)
        step.status = "skipped" if stopped else "failed"
        step.figure = dry_figure(rc, text) if stopped else f"exit {rc} (see the log), expected {dry_rc}"
    else:
        rc, text = run_logged(cmd, log_file, timeout, env=env, cwd=ctx.work, title=step.name)
        step.status = "passed" if rc == 0 else "failed"
        step.figure = ("ran past %.0fs" % timeout if rc is None else
                       pytest_figure(text) if "pytest" in cmd else
                       last_line(text, "racecheck probe") or last_line(text, "bench:") or f"exit {rc}")
        if rc == 0 and "pytest" in cmd and not re.search(r"\b[1-9]\d* passed", step.figure):
            step.status, step.figure = "failed", f"{step.figure}: no test ran (no device visible?)"
        sanitizer_says = [line.removeprefix("========= ").strip() for line in text.splitlines()
                          if line.startswith("========= ") and "SUMMARY" in line]
        if sanitizer_says:  # "ERROR SUMMARY: 0 errors", "RACECHECK SUMMARY: 0 hazards displayed ..."
            step.figure += f"; {sanitizer_says[-1]}"
    step.seconds = time.monotonic() - start
    return ctx.add(step)


def dry_figure(rc: int | None, text: str) -> str:
    if rc is None:
        return "the dry command ran past its timeout"
    if rc == 0:
        return f"{pytest_figure(text)}; needs a CUDA device"
    return last_line(text, "racecheck probe") or last_line(text, "bench:") or f"exit {rc} (see the log)"


def last_line(text: str, prefix: str) -> str:
    found = [line.strip() for line in text.splitlines() if line.strip().startswith(prefix)]
    return found[-1] if found else ""


def with_collect_only(argv: list[str], python: str) -> list[str]:
    """A sanitizer's pytest command line without the sanitizer, collecting only."""
    return [*argv[argv.index(python):], "--collect-only"]


PYTEST_ARGS = ["-q", "-p", "no:cacheprovider", "--rootdir", str(REPO)]


def tests_step(ctx: Context, build: str) -> None:
    """test-gpu's run (pytest -m gpu over GPU_TESTS) with the build's folder on the path."""
    tests = gpu_tests_command(PYTEST_ARGS, ctx.python)
    gpu_step(ctx, build, "test-gpu", tests, child_env(ctx.site(build)),
             ctx.out / LOGS[f"{build} tests"], [*tests, "--collect-only"], "tests")


def memcheck_step(ctx: Context, build: str) -> None:
    """test-gpu --memcheck's run (fewer fuzz examples) with the build's folder on the path."""
    tool = sanitizer()
    if tool is None and not ctx.dry_run:
        ctx.add(Step(3, f"{build} memcheck", "failed", figure="compute-sanitizer not found "
                     "(PATH, $CUDA_HOME/bin, /usr/local/cuda/bin)"))
        return
    argv, extra = memcheck_command(tool or "compute-sanitizer", PYTEST_ARGS, ctx.python)
    env = {**child_env(ctx.site(build)), **extra, "TORCHRIG_FUZZ_EXAMPLES": FUZZ_EXAMPLES}
    gpu_step(ctx, build, "memcheck", argv, env, ctx.out / LOGS[f"{build} tests"],
             with_collect_only(argv, ctx.python), "memcheck")


def racecheck_step(ctx: Context, build: str) -> None:
    """RACECHECK_PROBE under compute-sanitizer --tool racecheck."""
    tool = sanitizer()
    if tool is None and not ctx.dry_run:
        ctx.add(Step(3, f"{build} racecheck", "failed", figure="compute-sanitizer not found"))
        return
    probe = ctx.work / "racecheck_probe.py"
    probe.write_text(RACECHECK_PROBE)
    race = [tool or "compute-sanitizer", "--tool", "racecheck", "--racecheck-report", "all",
            "--error-exitcode", "1", ctx.python, probe]
    gpu_step(ctx, build, "racecheck", race, child_env(ctx.site(build)),
             ctx.out / LOGS[f"{build} tests"], [ctx.python, probe], "racecheck", NO_DEVICE)


def bench_step(ctx: Context, what: str) -> None:
    """The classic build's GPU bench, ``what``: "bench" (torchrig vs the reference) or "bench
    compiled" (also torch.compile(reference)); the table in the log, its rows in bench.json."""
    json_file = ctx.work / f"{what.replace(' ', '-')}.json"
    json_file.unlink(missing_ok=True)
    cmd = [ctx.python, "-m", "torchrig", "bench", "--device", "cuda", "--batch", "1", "64", "1024",
           "4096", "--vertices", "7000", "50000", "--dtype", "float32", "--repeats", "3",
           *(["--compile"] if what == "bench compiled" else []), "--json", json_file]
    step = gpu_step(ctx, "classic", what, cmd, child_env(ctx.site("classic")),
                    ctx.out / LOGS["classic bench"], cmd, what, 2)
    try:  # the bench creates the file at its start and fills it at its end
        rows = json.loads(json_file.read_text()).get("gpu", [])
    except (OSError, ValueError):
        return
    step.figure = bench_figure(rows) or step.figure
    results = json.loads((ctx.out / BENCH_JSON).read_text()) if (ctx.out / BENCH_JSON).is_file() else {}
    results[what] = rows
    (ctx.out / BENCH_JSON).write_text(json.dumps(results, indent=1))


def bench_figure(rows: list[dict]) -> str:
    """The largest skin forward: torchrig's GB/s against the measured copy, and the speed-ups."""
    skin = [r for r in rows if r.get("op") == "skin" and r.get("mode") == "fwd"
            and isinstance(r.get("gbs"), (int, float))]
    if not skin:
        return ""
    r = max(skin, key=lambda r: (r["B"] * r["V"]))
    ratio = lambda other: (f"{r[other] / r['torchrig']:.1f}x" if isinstance(r.get(other), float)  # noqa: E731
                           else str(r.get(other) or "-"))
    return (f"skin fwd B={r['B']} V={r['V']}: {r['torchrig']:.3f} ms, {r['gbs']:.0f} GB/s = "
            f"{100 * r['gbs'] / r['copy_gbs']:.0f}% of the device copy ({r['copy_gbs']:.0f} GB/s); "
            f"vs reference {ratio('reference')}, vs compiled {ratio('compiled')}")


# ---- the kit (dry run on the development machine) ------------------------------------------------

def send_size(kit: pathlib.Path, repo: pathlib.Path = REPO) -> dict[str, int]:
    """Bytes the lending tool sends: the checkout's tracked and untracked-not-ignored files, and
    the kit (carried)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=repo, capture_output=True, check=True, timeout=60).stdout
    files = {repo / n for n in listed.decode().split("\0") if n}
    checkout = sum(p.stat().st_size for p in files if p.is_file() and not p.is_symlink())
    carried = sum(p.stat().st_size for p in kit.rglob("*") if p.is_file()) if kit.exists() else 0
    return {"checkout": checkout, "kit": carried, "total": checkout + carried}


def check_send_size(sizes: dict[str, int]) -> str:
    """The size line, or ReleaseError when it leaves less than SEND_ROOM under SEND_LIMIT."""
    mib = lambda n: f"{n / (1 << 20):.1f} MiB"  # noqa: E731
    line = (f"sends {mib(sizes['total'])} of {mib(SEND_LIMIT)} (checkout {mib(sizes['checkout'])}, "
            f"kit {mib(sizes['kit'])})")
    if sizes["total"] > SEND_LIMIT - SEND_ROOM:
        raise ReleaseError(f"{line}: more than {mib(SEND_LIMIT - SEND_ROOM)}, the limit less "
                           f"{mib(SEND_ROOM)} of room; remove large untracked files or shrink the kit")
    return line


def build_kit(ctx: Context, python: str, arch: str) -> Step:
    """The stable CUDA wheel (build-wheel, TORCHRIG_ABI=stable, TORCHRIG_CUDA=ON) against the
    torch of ``python``, for ``arch``, into the kit with its record; then the size check."""
    ctx.out.mkdir(parents=True, exist_ok=True)
    log_file = ctx.out / LOGS["kit"]
    log_file.unlink(missing_ok=True)
    start = time.monotonic()
    step = Step(0, "kit: stable wheel")
    dist = fresh(ctx.work / "kit-dist")  # makes ctx.work
    env = child_env(None, TORCHRIG_ABI="stable", TORCHRIG_CUDA="ON", TORCH_CUDA_ARCH_LIST=arch,
                    CMAKE_BUILD_PARALLEL_LEVEL=str(ctx.jobs),
                    SKBUILD_BUILD_DIR=str(ctx.work / "stable-build-{wheel_tag}"))
    if os.environ.get("PYTHONPATH"):  # the tool runs as this process does
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    rc, _ = run_logged([sys.executable, "-m", "torchrig_release", "build-wheel", "--python", python,
                        "--dist", dist], log_file, 1800, env=env, title=f"stable CUDA wheel for {arch}")
    built = sorted((dist / "raw").glob("torchrig-*-py3-none-*.whl"))  # the one (stable) wheel
    if rc != 0 or len(built) != 1:
        step.status, step.figure = "failed", f"build-wheel exit {rc}, {len(built)} stable CUDA wheel(s)"
    else:
        fresh(ctx.kit)
        wheel = pathlib.Path(shutil.copy2(built[0], ctx.kit))
        torch_version = subprocess.run([python, "-c", "import torch; print(torch.__version__)"],
                                       capture_output=True, text=True, timeout=120).stdout.strip()
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                                text=True, timeout=60).stdout.strip()
        (ctx.kit / KIT_RECORD).write_text(json.dumps(
            {"wheel": wheel.name, "sha256": sha256(wheel), "arch": arch, "built_against": torch_version,
             "commit": commit, "built": datetime.datetime.now(datetime.timezone.utc).isoformat(
                 timespec="seconds")}, indent=1) + "\n")
        step.status = "passed"
        step.figure = f"{wheel.name} ({wheel.stat().st_size / (1 << 20):.1f} MiB, {arch}, torch {torch_version})"
    step.seconds = time.monotonic() - start
    return ctx.add(step)


def reuse_kit(ctx: Context) -> Step:
    """The kit as it is (checked against its record), in place of :func:`build_kit`."""
    ctx.out.mkdir(parents=True, exist_ok=True)
    ctx.work.mkdir(parents=True, exist_ok=True)
    try:
        wheel = kit_wheel(ctx.kit)
    except ReleaseError as err:
        return ctx.add(Step(0, "kit: stable wheel", "failed", figure=str(err)))
    record = json.loads((ctx.kit / KIT_RECORD).read_text())
    return ctx.add(Step(0, "kit: stable wheel", "passed", figure=f"reused {wheel.name} (sha256 "
                        f"checked; {record.get('arch')}, torch {record.get('built_against')}, "
                        f"built {record.get('built')})"))


# ---- the whole check -----------------------------------------------------------------------------

def run_check(ctx: Context) -> list[Step]:
    """Parts 1-3 (the stable build's steps beside the classic build), then the summary (part 4)."""
    ctx.out.mkdir(parents=True, exist_ok=True)
    ctx.work.mkdir(parents=True, exist_ok=True)
    for name in LOGS.values():
        if name != LOGS["kit"]:
            (ctx.out / name).unlink(missing_ok=True)
    (ctx.out / BENCH_JSON).unlink(missing_ok=True)
    builder = threading.Thread(target=guarded, args=(ctx, 1, "classic build + info", classic_build))
    builder.start()
    guarded(ctx, 2, "stable install + info", stable_install)
    if passed(ctx, 2):  # on the GPU while the classic build compiles
        for step in (tests_step, memcheck_step, racecheck_step):
            guarded(ctx, 3, f"stable {step.__name__}", step, "stable")
    builder.join()
    if passed(ctx, 1):  # the bench before the sanitizers: its figures were never measured
        for step, arg in ((tests_step, "classic"), (bench_step, "bench"), (memcheck_step, "classic"),
                          (racecheck_step, "classic"), (bench_step, "bench compiled")):
            guarded(ctx, 3, f"classic {step.__name__}", step, arg)
    for build, part in (("stable", 2), ("classic", 1)):
        if not passed(ctx, part):
            ctx.add(Step(3, f"{build} GPU steps", "skipped", figure=f"part {part} did not pass"))
    for path in ctx.out.iterdir():
        cap_log(path)
    return ctx.steps


def guarded(ctx: Context, part: int, name: str, fn, *args) -> None:
    """``fn(ctx, *args)``; an unexpected exception fails that step only (traceback in the log)."""
    try:
        fn(ctx, *args)
    except Exception as exc:  # a bug here must not cost the other parts
        log.exception("%s", name)
        ctx.add(Step(part, name, "failed", figure=f"{type(exc).__name__}: {exc}"[:200]))


def passed(ctx: Context, part: int) -> bool:
    return any(s.part == part and s.status == "passed" for s in ctx.steps)


def verdict(ctx: Context) -> int:
    """0 when every step passed (a dry run: parts 0-2 passed and the GPU steps stopped cleanly
    before the device), else 1."""
    if ctx.dry_run:
        return 0 if all(s.status == "passed" if s.part < 3 else s.status == "skipped"
                        for s in ctx.steps) else 1
    return 0 if all(s.status == "passed" for s in ctx.steps) else 1


def summary(ctx: Context, header: list[str]) -> str:
    """The one-screen summary (part 4), also written to summary.txt."""
    order = {"kit": 0, "classic": 1, "stable": 2}
    steps = sorted(ctx.steps, key=lambda s: (s.part, order.get(s.name.split()[0].rstrip(":"), 3)))
    elapsed = time.monotonic() - ctx.start
    lines = [*header, "",
             f"{'part':<4} {'step':<24} {'status':<7} {'time':>7}  key figure",
             *(s.line() for s in steps), "",
             f"total {elapsed:.0f}s (steps stop at {ctx.total_s:.0f}s); exit status {verdict(ctx)}",
             "logs: " + ", ".join(sorted(p.name for p in ctx.out.iterdir() if p.name != SUMMARY))]
    text = "\n".join(lines) + "\n"
    (ctx.out / SUMMARY).write_text(text)
    return text


def header_lines(ctx: Context, extra: list[str]) -> list[str]:
    probe = subprocess.run([ctx.python, "-c", "import sys, torch; print(torch.__version__, "
                            "torch.version.cuda, '%d.%d.%d' % sys.version_info[:3])"],
                           capture_output=True, text=True, timeout=120, env=child_env(None))
    torch_v, cuda, py = (probe.stdout.split() + ["?"] * 3)[:3]
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [f"torchrig gpu-check{' --dry-run' if ctx.dry_run else ''}, {when}",
            f"python {py} ({ctx.python}), torch {torch_v} (CUDA {cuda}), {ctx.jobs} build jobs, "
            f"classic arch {ctx.arch or 'from the device'}", *extra]
