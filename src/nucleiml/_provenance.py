"""Which code computed a result: a fingerprint of the installed package, stored with datasets and runs."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

__all__ = ["code_fingerprint"]


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Short SHA-256 of the installed NucleiML sources and data (everything that shapes a result), so that
    results computed by different code -- e.g. a solver change between resumed sessions -- can be told
    apart. Computed once per process."""
    base = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(base.rglob("*")):
        if (
            path.is_file()
            and "__pycache__" not in path.parts
            and path.suffix in (".py", ".csv", ".json", ".toml")
        ):
            h.update(path.relative_to(base).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]
