"""argparse types shared by the ``bench`` and ``demo`` verbs."""
from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["positive"]


def positive(kind: type = int, what: str | None = None) -> Callable[[str], int | float]:
    """argparse type: a number of ``kind`` (int or float) greater than 0.

    ``what`` names it in the error ("integer" or "number" by default), e.g.
    ``positive(float, "number of seconds")``: "expected a positive number of
    seconds, got '0'".
    """
    what = what or ("integer" if kind is int else "number")
    at_least = " (>= 1)" if kind is int else ""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive {what}, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive {what}{at_least}, got {value}")
        return value
    parse.__name__ = f"positive_{kind.__name__}"  # argparse names the type in some errors
    return parse
