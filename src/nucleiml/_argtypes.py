"""argparse ``type=`` converters shared by the subcommands: an error names the option and the allowed range."""

from __future__ import annotations

import argparse
import math

__all__ = ["integer", "real"]


def integer(name: str, lo: int, hi: int):
    """Converter to an int in [lo, hi] for option ``name`` (e.g. ``"--seed"``)."""

    def convert(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{name} = {v} is outside the allowed range [{lo}, {hi}]")
        return v

    convert.__name__ = name
    return convert


def real(name: str):
    """Converter to a finite float for option ``name``."""

    def convert(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a real number, got {text!r}") from None
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"{name} = {text} is not finite")
        return v

    convert.__name__ = name
    return convert
