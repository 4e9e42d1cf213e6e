"""Shared pytest options: slow packaging suites are opt-in locally, on in CI.

`slow`-marked tests (conda builds, cross-version venvs, the CUDA compile) run
with ``--run-slow`` or ``TORCHRIG_RUN_SLOW=1`` (.ci/run sets it). `gpu` tests
skip cleanly when no CUDA device is present.
"""
from __future__ import annotations

import os
import pathlib

import pytest

try:  # setuptools first: Inductor's C++ builds import it late, and by then a packaging test
    # may have pulled in the standard library's distutils, which setuptools' distutils shim
    # then refuses (AssertionError: .../distutils/core.py in torch.compile tests)
    import setuptools  # noqa: F401
except ImportError:  # a venv without setuptools (the stable-ABI scenarios' copies of the tests)
    pass
import torch


def _run_slow(config) -> bool:
    return config.getoption("--run-slow") or os.environ.get("TORCHRIG_RUN_SLOW") == "1"


def _modules(*names: str) -> list | None:
    """The modules, or None where one is missing: copies of the tests run elsewhere without
    tests/support or the release tooling (the stable-ABI scenarios' copies, the sanitizer venv)."""
    import importlib

    try:
        return [importlib.import_module(n) for n in names]
    except ImportError:
        return None


def pytest_configure(config):
    """$TORCHRIG_TEST_LOG: record each test as it starts and fails (support/test_log.py).
    Slow runs log every use of the machine-wide cache (support/cache_inventory.py) to
    $TORCHRIG_CACHE_LOG, by default build/cache-log.jsonl, started anew."""
    found = _modules("support.test_log")
    if found:
        found[0].register(config)
    found = _modules("torchrig_release.paths")
    if found and _run_slow(config) and not os.environ.get(found[0].CACHE_LOG):
        log = found[0].REPO / "build" / "cache-log.jsonl"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("")
        os.environ[found[0].CACHE_LOG] = str(log)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """The cache report of a slow run: which test took what from the machine-wide cache, made
    or reused, and from where; an entry that support/cache_inventory.py lacks fails the run."""
    found = _modules("support.cache_inventory", "torchrig_release.paths")
    if not (found and _run_slow(session.config) and os.environ.get(found[1].CACHE_LOG)):
        return
    inventory, paths = found
    log = pathlib.Path(os.environ[paths.CACHE_LOG])
    session.config.stash[_CACHE_REPORT] = inventory.report(inventory.read_log(log))
    if session.config.stash[_CACHE_REPORT][1] and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines, problems = config.stash.get(_CACHE_REPORT, ([], []))
    if lines or problems:
        terminalreporter.section("machine-wide cache: what each test took, and from where")
    for line in lines:
        terminalreporter.line(line)
    for problem in problems:
        terminalreporter.line(f"FAILED cache inventory: {problem}", red=True)


_CACHE_REPORT = pytest.StashKey[tuple]()


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run the slow packaging suites (conda, scenario, cudabuild)")


def pytest_collection_modifyitems(config, items):
    run_slow = _run_slow(config)
    skip_slow = pytest.mark.skip(reason="slow suite: use --run-slow or TORCHRIG_RUN_SLOW=1")
    skip_gpu = pytest.mark.skip(reason="no CUDA device available")
    has_gpu = torch.cuda.is_available()
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(skip_slow)
        if "gpu" in item.keywords and not has_gpu:
            item.add_marker(skip_gpu)


# The build switches every later build in this process inherits: a test that changes them in
# os.environ without undoing it turns the builds of the tests after it into other builds (one
# left TORCHRIG_ABI=stable behind, and every classic build of the run came out stable).
_BUILD_SWITCHES = ("TORCHRIG_ABI", "TORCHRIG_CUDA", "TORCH_CUDA_ARCH_LIST", "TORCHRIG_CUDA_ARCH_LIST")


@pytest.fixture(autouse=True)
def _build_switches_unchanged(request):
    before = {name: os.environ.get(name) for name in _BUILD_SWITCHES}
    yield
    after = {name: os.environ.get(name) for name in _BUILD_SWITCHES}
    if after != before:
        changed = {n: (before[n], after[n]) for n in _BUILD_SWITCHES if before[n] != after[n]}
        for name, value in before.items():  # restore, so that one leak fails one test only
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        pytest.fail(f"{request.node.nodeid} left build switches changed in os.environ "
                    f"(before, after): {changed}; undo them (monkeypatch.setenv, or restore)")
