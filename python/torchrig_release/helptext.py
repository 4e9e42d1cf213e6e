"""Help texts as a terminal shows them: the verbs' docstrings without reStructuredText markup.

The verb modules' docstrings serve two readers: Sphinx-style tooling and `--help`. Before a
parser prints them, :func:`plain` turns ``code`` into code and :role:`target` into target
(keeping the last dotted part of ~-prefixed targets), and :func:`apply` does that to every
verb's description and option help, once, in main.parser().
"""
from __future__ import annotations

import argparse
import re

# :mod:`x`, :func:`~a.b.c`, :class:`x <y>`: the role, then the target
_ROLE = re.compile(r":[a-z]+:`(~?)([^`<]*?)(?:\s*<[^`>]*>)?`")
_LITERAL = re.compile(r"``(.+?)``", re.S)


def _role(match: re.Match) -> str:
    tilde, target = match.group(1), match.group(2).strip()
    return target.rsplit(".", 1)[-1] if tilde else target


def plain(text: str | None) -> str | None:
    """``text`` with RST roles and double-backquote literals turned into plain words."""
    if not text:
        return text
    return _LITERAL.sub(r"\1", _ROLE.sub(_role, text))


def apply(parser: argparse.ArgumentParser) -> None:
    """Make the help of ``parser``, its options and every subparser below it plain text."""
    parser.description = plain(parser.description)
    parser.epilog = plain(parser.epilog)
    for action in parser._actions:
        if isinstance(action.help, str):
            action.help = plain(action.help)
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                choice.help = plain(choice.help)
            for sub in action.choices.values():
                apply(sub)
