"""What the docs show, read out of Markdown: fenced blocks, the shell commands in them, and
the torchrig commands those name (for tests/packaging/test_docs.py)."""
from __future__ import annotations

import dataclasses
import pathlib
import re
import shlex

FENCE = re.compile(r"^```(\w*)\s*$")
SHELL_LANGS = {"bash", "sh", "shell", "console", ""}
# leading VAR=value words and these wrappers are not the command
ENV_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
PYTHONS = re.compile(r"^(?:\S*/)?python[\d.]*$")


@dataclasses.dataclass(frozen=True)
class Block:
    path: pathlib.Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"


def blocks(path: pathlib.Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, in order."""
    found, lang, start, body = [], None, 0, []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        fence = FENCE.match(line.strip())
        if lang is None and fence:
            lang, start, body = fence.group(1).lower(), number, []
        elif lang is not None and line.strip() == "```":
            found.append(Block(path, start, lang, "\n".join(body) + "\n"))
            lang = None
        elif lang is not None:
            body.append(line)
    return found


def shell_commands(block: Block) -> list[str]:
    """The commands of a shell block: comments cut, continuations joined, `&&`/`;`/`|` split."""
    if block.lang not in SHELL_LANGS:
        return []
    joined = re.sub(r"\\\n\s*", " ", block.text)
    commands = []
    for line in joined.splitlines():
        line = line.strip()
        if line.startswith("$ "):
            line = line[2:]
        if not line or line.startswith("#"):
            continue
        line = re.sub(r"\s+#\s.*$", "", line)
        commands += [c.strip() for c in re.split(r"&&|\|\||;|\|", line) if c.strip()]
    return commands


def torchrig_argv(command: str) -> tuple[str, list[str]] | None:
    """('release' | 'torchrig' | 'pixi', argv after the program) for a command that runs one
    of ours; None for anything else (pip, conda, git…) or one with placeholders."""
    if "<" in command or "…" in command or "..." in command:
        return None
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    while words and (ENV_WORD.match(words[0]) or words[0] in ("time", "env")):
        words = words[1:]
    if not words:
        return None
    if words[0] == "torchrig-release":
        return "release", words[1:]
    if PYTHONS.match(words[0]) and words[1:3] == ["-m", "torchrig_release"]:
        return "release", words[3:]
    if PYTHONS.match(words[0]) and words[1:3] == ["-m", "torchrig"]:
        return "torchrig", words[3:]
    if words[:2] == ["pixi", "run"]:
        return "pixi", words[2:]
    return None


# Figures a tool prints: test counts, durations, speed ratios, symbol/build/package counts,
# measured sizes. The docs show them only inside blocks that `gen` writes (run records and
# the generated tables); written by hand they go stale with the next change.
RUN_FIGURES = re.compile(r"""
  (?<![\w.-])\d[\d,]*\ (?:passed|skipped|failed|errors?|undefined|symbols|builds|packages|tests)\b
| (?<![\w.-])\d+(?:\.\d+)?(?:[-–]\d+(?:\.\d+)?)?\ ?(?:s|ms|µs|us|min|minutes|seconds|hours?)(?![\w/-])
| (?<![\w.-])\d+(?:\.\d+)?[x×](?![\w])
| (?<![\w.-])\d+(?:\.\d+)?\ ?(?:GB/s|MiB|GiB|KiB|MB|GB)\b
""", re.X)
GENERATED = re.compile(r"<!-- (?:run:([\w-]+):\w+|generated:([\w-]+)):begin -->.*?"
                       r"<!-- (?:run|generated):(?:\1|\2):end -->", re.S)


def figures_outside_generated(text: str) -> list[tuple[int, list[str], str]]:
    """(line, figures, the line) for each line outside a generated block that quotes a
    figure a tool prints; a figure broken across two lines ("859\npassed") counts on its first."""
    text = GENERATED.sub(lambda m: "\n" * m[0].count("\n"), text)
    lines = text.splitlines()
    found: dict[int, list[str]] = {}
    for m in RUN_FIGURES.finditer(text.replace("\n", " ")):  # same offsets, lines joined
        number = text.count("\n", 0, m.start()) + 1
        found.setdefault(number, []).append(m[0])
    return [(n, hits, lines[n - 1].strip()) for n, hits in sorted(found.items())]
