"""`torchrig-release <verb> --help` and `python -m torchrig <command> --help` read as plain text: no
reStructuredText markup, no paragraph twice (`python -m torchrig bench --help` showed ``--compile``
and :mod:`…` until issue 32).

The verbs' descriptions come from docstrings written with RST markup (``code``, :mod:`x`);
helptext.apply turns them plain before argparse prints them. Verbs that glued a module's
docstring to their own printed the same paragraph twice (ci-matrix, pixi).
"""
from __future__ import annotations

import argparse
import re

import pytest

from torchrig_release import main

RST = re.compile(r"``|:[a-z]+:`")


def _helps() -> dict[str, str]:
    from torchrig.__main__ import parser as library_parser  # python -m torchrig: info, demo, bench

    helps = {}
    for prog, parser in (("torchrig-release", main.parser()), ("python -m torchrig", library_parser())):
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        helps[f"{prog} (top)"] = parser.format_help()
        helps.update({f"{prog} {name}": p.format_help() for name, p in sub.choices.items()})
    return helps


HELPS = _helps()


@pytest.mark.parametrize("verb", sorted(HELPS))
def test_help_has_no_rst_markup(verb):
    bad = [line for line in HELPS[verb].splitlines() if RST.search(line)]
    assert not bad, f"`{verb} --help` shows RST markup:\n" + "\n".join(bad)


def _repeats(text: str, n: int = 7) -> list[str]:
    """Runs of ``n`` words (punctuation aside) that the text says more than once."""
    words = re.findall(r"[\w$./-]+", text.lower())
    seen: dict[tuple[str, ...], int] = {}
    for i in range(len(words) - n + 1):
        key = tuple(words[i:i + n])
        seen[key] = seen.get(key, 0) + 1
    return [" ".join(k) for k, count in seen.items() if count > 1]


@pytest.mark.parametrize("verb", sorted(HELPS))
def test_help_says_nothing_twice(verb):
    # the description only: option lines may share wording with each other
    description = HELPS[verb].split("\noptions:\n")[0]
    twice = _repeats(description)
    assert not twice, f"`{verb} --help` says this more than once: " + "; ".join(twice[:5])


def test_plain_keeps_the_words():
    from torchrig_release.helptext import plain

    assert plain("see ``--compile`` and :mod:`torchrig.ops`, :func:`~a.b.run`") == \
        "see --compile and torchrig.ops, run"
