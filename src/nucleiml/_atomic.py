"""Crash-safe file writes: a file is either complete or absent, never half written.

The content goes to a hidden temporary in the same directory (``.NAME.<pid>.tmp``), is flushed and
fsynced, and is renamed over the target with ``os.replace`` (atomic on POSIX); the directory is then
fsynced so that the rename survives a power cut. On any failure (including Ctrl-C) the temporary is
removed and the exception propagates; an existing target is left untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_json", "temporary_name"]


def temporary_name(path: Path) -> Path:
    """The hidden temporary beside ``path`` used while writing it (readers skip names starting with '.')."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not supported on every filesystem
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object], *, durable: bool = True) -> Path:
    """Create or replace ``path`` with what ``write(fh)`` writes to a binary file handle, atomically.

    ``durable=False`` skips the fsyncs: the file is still complete or absent after the process is killed
    (the kernel holds the data), only not after a power cut; for records rewritten many times a second.

    Raises
    ------
    Whatever ``write`` or the file system raises; the target is then unchanged.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if durable:
        _fsync_dir(path.parent)
    return path


def atomic_write_bytes(path: str | Path, data: bytes, *, durable: bool = True) -> Path:
    """:func:`atomic_write` of ``data``."""
    return atomic_write(path, lambda fh: fh.write(data), durable=durable)


def atomic_write_json(path: str | Path, obj: object, indent: int = 2, *, durable: bool = True) -> Path:
    """:func:`atomic_write` of ``obj`` as indented JSON (UTF-8, a final newline; keys in their order).

    Raises
    ------
    ValueError
        For NaN or infinite floats (JSON has none; clean them first, e.g. with ``finite_json``); the target
        is then unchanged.
    """
    text = json.dumps(obj, indent=indent, allow_nan=False) + "\n"
    return atomic_write_bytes(path, text.encode("utf-8"), durable=durable)
