"""Helpers of the hostile tests (tests/test_hostile_*.py): seeded generators of bad values and the one
check every call makes, "a result, or one of the package's errors in one line".

A hostile case passes when the call returns, or raises an exception defined by NucleiML (a subclass of
ValueError or ImportError from a ``nucleiml`` module) whose message is a single non-empty line. A
traceback from numpy, scipy, zipfile, json or the interpreter (TypeError, AttributeError, KeyError,
OverflowError, EOFError, ...) fails the case.
"""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np

HOSTILE_SCALARS = (
    10**400,
    -(10**400),
    2**1024,
    Fraction(10**400, 3),
    float("nan"),
    float("inf"),
    -float("inf"),
    1e308,
    -1e308,
    5e-324,
    complex(1.0, 1.0),
    "1.0",
    "",
    "nan",
    b"\xff",
    None,
    True,
    [],
    {},
    (1.0,),
    np.float64("nan"),
    np.array([1.0, 2.0]),
    object(),
)
"""Values that are not a usable finite real number (or are one only in appearance)."""


def hostile_value(rng: random.Random):
    """One hostile scalar, or a random real of random magnitude and sign (possibly valid)."""
    if rng.random() < 0.6:
        return rng.choice(HOSTILE_SCALARS)
    return rng.choice((-1, 1)) * 10 ** rng.uniform(-12, 12)


def is_package_error(exc: BaseException) -> bool:
    """True when ``exc`` is one of NucleiML's own error classes (all derive from ValueError or ImportError)."""
    return isinstance(exc, ValueError | ImportError) and type(exc).__module__.split(".")[0] == "nucleiml"


def outcome(func, *args, **kwargs):
    """("ok", result) or ("error", message) for a call that must not end in a foreign traceback."""
    try:
        return "ok", func(*args, **kwargs)
    except Exception as exc:
        if not is_package_error(exc):
            raise AssertionError(f"{type(exc).__name__} escaped: {exc}") from exc
        msg = str(exc)
        assert msg and "\n" not in msg.strip(), f"not a one-line message: {msg!r}"
        return "error", msg
