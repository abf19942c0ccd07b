"""Reading the package's TOML settings files (priors, run files, grids) with one kind of error message."""

from __future__ import annotations

import tomllib
from pathlib import Path

from ._paths import as_path


def read_toml(path: str | Path, kind: str, error: type[Exception]) -> tuple[str, dict]:
    """(text, parsed table) of the TOML file ``path``.

    Raises
    ------
    error
        If the file cannot be read, is not UTF-8 text or not TOML; the message names the ``kind`` of file
        and its path.
    """
    p = as_path(path, f"{kind} file", error)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"cannot read {kind} file {str(p)!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise error(f"{kind} file {str(p)!r} is not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    try:
        return text, tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError, or an integer of more than 4300 digits
        raise error(f"{kind} file {str(p)!r} is not valid TOML: {exc}") from None
