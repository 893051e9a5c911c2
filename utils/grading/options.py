"""What the grader's two entry points (`cli`, `gradescope`) share: option parsing and the unsafe-mode banner."""

from __future__ import annotations

import argparse
import math

__all__ = ["UNSAFE_BANNER", "number_type"]

UNSAFE_BANNER = ("WARNING: --unsafe-no-sandbox: notebooks ran WITHOUT a sandbox, as your own user, with your files "
                 "and network in reach. Use it only for notebooks you trust.")


def number_type(kind, low, high=math.inf, *, low_open=False):
    """An argparse type: a finite `kind` in [low, high] (or (low, high] with `low_open`)."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not math.isfinite(value) or value > high or (value <= low if low_open else value < low):
            bound = f"greater than {low:g}" if low_open else f"at least {low:g}"
            upper = f" and at most {high}" if math.isfinite(high) else ""
            raise argparse.ArgumentTypeError(f"{text} is out of range: it must be {bound}{upper}")
        return value
    return parse
