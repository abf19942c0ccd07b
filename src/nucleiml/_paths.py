"""Checking path arguments of the public API: a one-line error of the caller's kind for anything else."""

from __future__ import annotations

import os
from pathlib import Path


def as_path(value, what: str, error: type[Exception]) -> Path:
    """``value`` as a Path if it is a str or os.PathLike (not bytes).

    Raises
    ------
    error
        Naming ``what`` (e.g. ``"run file"``) and the type given.
    """
    if isinstance(value, str | os.PathLike) and not isinstance(value, bytes):
        try:
            return Path(value)
        except TypeError:  # an os.PathLike returning bytes
            pass
    raise error(f"{what} must be a path (str or os.PathLike), got {type(value).__name__}")
