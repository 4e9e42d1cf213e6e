"""The docs are checked like code (issue 32): every Python block in README.md and docs/*.md
runs and asserts what it claims; every torchrig command a shell block shows exists with the
options it is given (torchrig-release and python -m torchrig verbs and flags); every figure a
tool prints (test counts, seconds, symbol and build counts, speed ratios) stands in a block
that `gen` writes from a run record (docs/runs/*.json) or from the files that own it. Paths the
docs name are checked by test_named_paths.py, `pixi run` commands by test_pixi_tasks.py (pixi's
own rules: which environment each task of the chain runs in)."""
from __future__ import annotations

import argparse
import re
import subprocess
import sys

import pytest

from support.doc_blocks import blocks, figures_outside_generated, shell_commands, torchrig_argv
from support.timeouts import COMMAND_S
from torchrig_release import conda_forge, machine, variants
from torchrig_release import pixi as pm
from torchrig_release.gen import runs
from torchrig_release.paths import REPO

DOCS = runs.documents()  # README.md and docs/*.md, as gen runs reads them
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
    assert figures_outside_generated("a CI run (from a fresh clone: 859\npassed).\n") == [
        (1, ["859 passed"], "a CI run (from a fresh clone: 859")]  # broken across lines
    inside = "<!-- run:tests-default:pytest:begin -->\n**789 passed** in 158 s\n<!-- run:tests-default:end -->\n"
    assert figures_outside_generated(inside) == []


def test_run_blocks_are_what_their_records_say():
    proc = subprocess.run([sys.executable, "-m", "torchrig_release", "gen", "runs", "--check"], cwd=REPO,
                          capture_output=True, text=True, timeout=COMMAND_S)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ---- versions the docs restate: each agrees with its owner -------------------------------------
CLASSIC_SELECTOR = re.compile(r"_pt(\d)(\d+)_")                     # torchrig=*=*_pt213_*
CONDA_PYTORCH = re.compile(r"\bpytorch(?:-cpu|-gpu)?=(\d+)\.(\d+)")  # "pytorch=2.12", pytorch-cpu=2.13


def conda_version_problems(text: str) -> list[str]:
    """Conda specs that name a build no one can get: a classic build string (`_ptXY_`) of a
    minor recipe/variants.yaml does not build, or a pytorch minor conda-forge does not have
    (recipe/conda-forge-facts.yaml)."""
    classic = variants.load()["pytorch"]
    recorded = conda_forge.minors()
    problems = [f"_pt{m[1]}{m[2]}_: no classic build of {m[1]}.{m[2]} (recipe/variants.yaml: {classic})"
                for m in CLASSIC_SELECTOR.finditer(text) if f"{m[1]}.{m[2]}" not in classic]
    problems += [f"{m[0]}: conda-forge has no pytorch {m[1]}.{m[2]} (recipe/conda-forge-facts.yaml: {recorded})"
                 for m in CONDA_PYTORCH.finditer(text) if f"{m[1]}.{m[2]}" not in recorded]
    return problems


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_shown_conda_specs_name_builds_that_exist(doc):
    assert conda_version_problems(doc.read_text()) == []


def test_the_check_finds_a_conda_build_that_does_not_exist():
    """docs/stable-abi.md asked for `torchrig=*=*_pt214_*` and docs/publishing.md created an
    environment with "pytorch=2.14": neither exists (conda-forge has no 2.14)."""
    old = '`torchrig=*=*_pt214_*` asks for the classic one; mamba create ... "pytorch=2.14"'
    assert [p.split(":")[0] for p in conda_version_problems(old)] == ["_pt214_", "pytorch=2.14"]


def _table_rows(text: str, header: str) -> list[list[str]]:
    """The rows of the markdown table whose header line starts with ``header``."""
    lines = text[text.index(header):].splitlines()[2:]
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([cell.replace("`", "").strip() for cell in line.strip("|").split("|")])
    return rows


def conda_matrix_problems(text: str) -> list[str]:
    """docs/conda.md's matrix and toolchain tables against recipe/variants.yaml (linux-64)."""
    raw = variants.raw(platform="linux-64")
    rows = dict((r[0], r[1]) for r in _table_rows(text, "| key | values |"))
    want = {"python": ", ".join(raw["python"]),
            "pytorch x torchrig_abi (zipped)": ", ".join(f"{t} {a}" for t, a in zip(raw["pytorch"], raw["torchrig_abi"])),
            "cuda_compiler_version": "None (CPU); on linux also " + ", ".join(
                c for c in raw["cuda_compiler_version"] if c != "None")}
    problems = [f"{key}: {rows.get(key)!r}, variants.yaml: {value!r}"
                for key, value in want.items() if rows.get(key) != value]
    toolchain = [[r[0].replace(" (CPU)", ""), r[1], r[2]]
                 for r in _table_rows(text, "| `cuda_compiler_version` | `cxx_compiler_version`")]
    expected = [list(z) for z in zip(raw["cuda_compiler_version"], raw["cxx_compiler_version"],
                                     raw["c_stdlib_version"])]
    if toolchain != expected:
        problems.append(f"toolchain table {toolchain}, variants.yaml {expected}")
    return problems


def test_conda_md_restates_the_matrix_of_variants_yaml():
    assert conda_matrix_problems((REPO / "docs" / "conda.md").read_text()) == []


def test_the_check_finds_a_stale_conda_matrix():
    text = (REPO / "docs" / "conda.md").read_text()
    stale = text.replace("2.12 classic, 2.13 classic, 2.13 stable", "2.13 classic, 2.14 classic, 2.14 stable")
    assert [p.split(":")[0] for p in conda_matrix_problems(stale)] == ["pytorch x torchrig_abi (zipped)"]


def readme_python_torches(text: str) -> dict[str, str]:
    """README's "3.10 with torch 2.14.1, 3.12 and 3.13 with torch 2.15.0 ...; 3.11 is `.venv`
    (torch 2.13.0" as {python: torch}."""
    para = text[text.index("Before that, `.ci/run` runs the CPU unit suite"):]
    para = " ".join(para[:para.index("\n\n")].split())
    found = {}
    for m in re.finditer(r"(3\.\d+)(?: and (3\.\d+))? with torch (\d+\.\d+\.\d+)", para):
        found.update({py: m[3] for py in m.groups()[:2] if py})
    m = re.search(r"(3\.\d+) is `\.venv` \(torch (\d+\.\d+\.\d+)", para)
    if m:
        found[m[1]] = m[2]
    return found


def test_readme_names_the_torch_each_python_is_tested_with():
    from support import python_matrix

    text = (REPO / "README.md").read_text()
    want = {**python_matrix.TORCH_FOR_PYTHON, python_matrix.MAIN_RUN[0]: machine.BUILD_TORCH}
    assert readme_python_torches(text) == want
    # the quick start: what tools/dev-setup installs into .venv
    assert re.findall(r"creates `\.venv` \(torch (\S+) CPU", text) == [machine.BUILD_TORCH]


# ---- pixi environment and platform names in prose -----------------------------------------------
PIXI_NAME = re.compile(r"(?<![\w./-])((?:py3\d+|wheel)-(?:cpu|cuda)\d*|linux-64-cuda\d+)(?![\w.-])")


def unknown_pixi_names(text: str) -> list[str]:
    """Environment (`py312-cuda`, `wheel-cpu`) and workspace-platform (`linux-64-cuda13`) names
    that pixi.toml does not define; `pyXY-cpu` placeholders do not match."""
    manifest = pm.load_manifest()
    known = set(pm.environments(manifest)) | set(pm.workspace_platforms(manifest))
    return sorted({m for m in PIXI_NAME.findall(text) if m not in known})


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_named_pixi_environments_exist(doc):
    assert unknown_pixi_names(doc.read_text()) == []


def test_the_check_finds_an_environment_that_does_not_exist():
    """docs/compatibility.md named `py312-cuda12`; only py313-cuda12 exists."""
    old = "`CONDA_OVERRIDE_CUDA=12.9 pixi install -e py312-cuda12`; `py313-cuda12`, `pyXY-cuda`"
    assert unknown_pixi_names(old) == ["py312-cuda12"]


# ---- the stable build's floor -------------------------------------------------------------------
# `torch>=2.10`, `pytorch >=2.10`, "torch ≥ 2.10": a lower bound alone is the stable target; a
# range with an upper bound (`torch>=2.13,<2.14`), "torch ≥ 2.14's headers" and "compiled against
# torch ≥ 2.14" are other facts
FLOOR = re.compile(r"(?<!against )\b(?:py)?torch ?(?:>=|≥) ?(\d+\.\d+)(?!\d)(?!'s)(?![\d.]*\s*,\s*<)")


def floor_problems(text: str, target: str) -> list[str]:
    return [m[0] for m in FLOOR.finditer(text) if m[1] != target]


def _stable_target() -> str:
    from torchrig_release.library import library_module

    return library_module("_stable_target").target_str()


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_torch_floor_is_the_stable_target(doc):
    """The docs restate the stable target (python/torchrig/_stable_target.py) wherever they say
    what the one wheel or the stable package needs; moving the target makes each one stale."""
    assert floor_problems(doc.read_text(), _stable_target()) == []


def test_the_check_finds_a_stale_floor():
    text = "declares `torch>=2.10`; `pytorch >=2.13.0,<2.14.0a0`; torch ≥ 2.9's wheels; torch>=2.8,<2.10"
    assert floor_problems(text, "2.10") == []
    assert floor_problems(text, "2.11") == ["torch>=2.10"]


# ---- user docs say what is true, not how it came about --------------------------------------------
HISTORY = re.compile(r"\b(?:this|last|previous|a) session\b|\bsessions? of this project\b|\bissue \d+\b"
                     r"|\bin this change\b|\bwhile this was written\b", re.IGNORECASE)


def history_lines(text: str) -> list[str]:
    return [f"line {n}: {m[0]}" for n, line in enumerate(text.splitlines(), 1)
            for m in HISTORY.finditer(line)]


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_docs_carry_no_session_history(doc):
    """A user doc says what is true and how to use it; which session or issue did it belongs in
    git log."""
    assert history_lines(doc.read_text()) == []


def test_the_check_finds_session_history():
    old = ("The earlier B=1 gain (issue 18) is the autograd kernel\n"
           "so CI does not run it; a session of this project ran conda-build 26.7.1 (issue 27).\n"
           "kernels on a GPU were not run in this change (no GPU was lent).")
    assert history_lines(old) == ["line 1: issue 18", "line 2: a session", "line 2: issue 27",
                                  "line 3: in this change"]


# ---- README's list of the pixi environments -----------------------------------------------------
def environments_missing_from(paragraph: str, names) -> list[str]:
    """Environments that README's "Environments: ..." paragraph neither names (`name`) nor
    covers by a range (`py310-cpu` … `py314-cpu`)."""
    text = " ".join(paragraph.split())
    named = set(re.findall(r"`([\w-]+)`", text))
    ranges = [(int(a), int(b), s) for a, s, b, s2 in
              re.findall(r"`py3(\d+)-([\w]+)` … `py3(\d+)-([\w]+)`", text) if s == s2]
    def covered(name):
        m = re.fullmatch(r"py3(\d+)-(\w+)", name)
        return name in named or bool(m and any(a <= int(m[1]) <= b and s == m[2] for a, b, s in ranges))
    return [name for name in names if not covered(name)]


def _environments_paragraph(text: str) -> str:
    start = text.index("Environments: ")
    return text[start:text.index("\n\n", start)]


def test_readme_lists_every_pixi_environment():
    envs = pm.environments(pm.load_manifest())
    readme = (REPO / "README.md").read_text()
    assert environments_missing_from(_environments_paragraph(readme), envs) == []


def test_the_check_finds_a_missing_environment():
    """README before the wheel environments were listed (issue 32)."""
    old = ("Environments: `default`, `py310-cpu` … `py314-cpu`, `py310-cuda` … `py314-cuda`,\n"
           "`py313-cuda12` and `package` (conda packaging).")
    assert environments_missing_from(old, pm.environments(pm.load_manifest())) == ["wheel-cpu", "wheel-cuda"]
