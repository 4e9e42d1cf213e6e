"""The docs are checked like code (issue 32): every Python block in README.md and docs/*.md
runs and asserts what it claims; every torchrig command a shell block shows exists with the
options it is given (torchrig-release and python -m torchrig verbs and flags); every figure a
tool prints (test counts, seconds, symbol and build counts, speed ratios) stands in a block
that `gen` writes from a run record (docs/runs/*.json) or from the files that own it. Paths the
docs name are checked by test_named_paths.py, `pixi run` commands by test_pixi_tasks.py (pixi's
own rules: which environment each task of the chain runs in)."""
from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from support.doc_blocks import blocks, figures_outside_generated, shell_commands, torchrig_argv
from support.timeouts import COMMAND_S
from torchrig_release.paths import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
PYTHON_BLOCKS = [b for d in DOCS for b in blocks(d) if b.lang == "python"]
COMMANDS = [(b.where, c) for d in DOCS for b in blocks(d) for c in shell_commands(b)
            if torchrig_argv(c) is not None and torchrig_argv(c)[0] != "pixi"]


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=[b.where for b in PYTHON_BLOCKS])
def test_python_block_runs_and_asserts_its_claims(block, tmp_path):
    assert "assert " in block.text, (
        f"{block.where}: a Python example states its results (shapes, differences) as asserts, "
        "so that this test checks them")
    proc = subprocess.run([sys.executable, "-c", block.text], cwd=tmp_path, capture_output=True,
                          text=True, timeout=COMMAND_S)
    assert proc.returncode == 0, f"{block.where} failed:\n{proc.stderr[-3000:]}"


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices.get(name)
    return None


def _unknown_options(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """Options in ``argv`` that neither the parser nor its chosen subparser knows."""
    words = [w for w in argv if not w.startswith("-")]
    known = set(parser._option_string_actions)
    sub = _subparser(parser, words[0]) if words else None
    if words and sub is None and any(isinstance(a, argparse._SubParsersAction) for a in parser._actions):
        return [f"(no verb {words[0]!r})"]
    if sub is not None:
        if sub.get_default("accepts_extra"):
            return []  # the rest goes to pytest (test-gpu)
        known |= set(sub._option_string_actions)
    return [w.split("=")[0] for w in argv if w.startswith("-") and w.split("=")[0] not in known]


def _release_parser():
    from torchrig_release import main

    return main.parser()


def _torchrig_parser():
    from torchrig.__main__ import parser

    return parser()


@pytest.mark.parametrize("where,command", COMMANDS, ids=[f"{w} {c[:60]}" for w, c in COMMANDS])
def test_shown_command_exists_with_its_options(where, command):
    kind, argv = torchrig_argv(command)
    parser = _release_parser() if kind == "release" else _torchrig_parser()
    unknown = _unknown_options(parser, argv)
    assert not unknown, f"{where}: `{command}`: unknown {', '.join(unknown)}"


def test_the_checks_find_a_wrong_command():
    assert _unknown_options(_release_parser(), ["render", "--no-such-flag"]) == ["--no-such-flag"]
    assert _unknown_options(_release_parser(), ["no-such-verb"]) == ["(no verb 'no-such-verb')"]


def test_readme_layout_names_every_verb():
    """README's Layout lists the release verbs by hand: every verb the parser has is there."""
    text = (REPO / "README.md").read_text()
    listed = text[text.index("one main_<verb>.py per verb:"):]
    listed = " ".join(listed[:listed.index("internals:")].split())
    parser = _release_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [verb for verb in sub.choices if f" {verb}," not in listed and f" {verb};" not in listed]
    assert not missing, f"README's Layout does not list: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_no_figure_of_a_run_outside_a_generated_block(doc):
    found = figures_outside_generated(doc.read_text())
    assert not found, (
        f"{doc.name} quotes figures of a run by hand (they go stale with the next change): "
        + "; ".join(f"line {n}: {', '.join(hits)}" for n, hits, _ in found[:8])
        + ". Show them from a record: `torchrig-release record NAME COMMAND` and a block "
        "<!-- run:NAME:pytest|ci|text:begin --> ... <!-- run:NAME:end --> (gen runs), or drop them")


def test_the_figure_check_finds_a_hand_quoted_figure():
    # README before issue 32's figures work
    old = ("`demo_out/torchrig_demo.png`. The second runs the tests (789 passed, 124 skipped in 158 s\n"
           "(cold / warm): test_conda_cuda 347 / 188 s, test_stable_abi 347 / 159 s\n"
           "extension  torchrig/_C.so: 253 undefined symbols, 58 from torch\n"
           "fk       1 fwd         1.57x [1.55-1.57]      1.31x [1.28-1.34]\n")
    assert [hits for _, hits, _ in figures_outside_generated(old)] == [
        ["789 passed", "124 skipped", "158 s"], ["188 s", "159 s"], ["253 undefined"], ["1.57x", "1.31x"]]
    inside = "<!-- run:tests-default:pytest:begin -->\n**789 passed** in 158 s\n<!-- run:tests-default:end -->\n"
    assert figures_outside_generated(inside) == []


def test_run_blocks_are_what_their_records_say():
    proc = subprocess.run([sys.executable, "-m", "torchrig_release", "gen", "runs", "--check"], cwd=REPO,
                          capture_output=True, text=True, timeout=COMMAND_S)
    assert proc.returncode == 0, proc.stdout + proc.stderr
