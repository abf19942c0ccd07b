"""argparse ``type=`` converters shared by the subcommands: an error names the option and the allowed range."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from .parameters import ParameterError, _check

__all__ = ["integer", "range_text", "ranged_real", "real_in"]


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


def real_in(name: str, lo: float, hi: float, *, lo_open: bool = False) -> Callable[[str], float]:
    """Converter to a finite float in [lo, hi] (or (lo, hi]) for option ``name``; the range check is
    :func:`nucleiml.parameters._check`'s."""

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            interval = f"{'(' if lo_open else '['}{lo:g}, {hi:g}]"
            raise argparse.ArgumentTypeError(
                f"{name} must be a real number in {interval}, got {text!r}"
            ) from None
        try:
            return _check(name, value, lo, hi, lo_open=lo_open)
        except ParameterError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = name
    return convert


def range_text(cls: type, field: str, unit: str) -> str:
    """The allowed range of ``cls.field`` as text, e.g. ``(0.05, 0.4] fm^-3`` (from ``cls.RANGES``)."""
    rng = cls.RANGES.get(field)
    if rng is None:
        return "a finite real number"
    lo, hi, lo_open = rng
    return f"{'(' if lo_open else '['}{lo:g}, {hi:g}]" + (f" {unit}" if unit else "")


def ranged_real(cls: type, field: str, unit: str) -> Callable[[str], float]:
    """argparse ``type=``: a finite real number inside the allowed range of ``cls.field``."""

    lo, hi, lo_open = cls.RANGES.get(field, (-math.inf, math.inf, False))

    def convert(text: str) -> float:
        allowed = range_text(cls, field, unit)
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{field} must be a real number in {allowed}, got {text!r}"
            ) from None
        try:
            return _check(field, value, lo, hi, lo_open=lo_open)
        except ParameterError:  # the same check, reported with the unit
            if not math.isfinite(value):
                raise argparse.ArgumentTypeError(
                    f"{field} = {text} is not finite; allowed range {allowed}"
                ) from None
            raise argparse.ArgumentTypeError(
                f"{field} = {value!r} is outside the allowed range {allowed}"
            ) from None

    convert.__name__ = field
    return convert
