"""Which code computed a result: a fingerprint of the installed package, stored with datasets and runs."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

__all__ = ["code_fingerprint"]

FINGERPRINTED_SUFFIXES = (".py", ".csv", ".json", ".toml")

NOT_RESULT_SHAPING = (
    "emulator",
    "inference",
    "cli.py",
    "__main__.py",
    "_extras.py",
    "data/emulator",
    "data/default_run.toml",
)
"""Package paths (relative, POSIX) left out of the fingerprint: the emulator and inference code, the
command line and the shipped emulator model do not shape solver results or dataset rows, so editing them
(or retraining the shipped model, whose data card records this very fingerprint) must not make a dataset's
earlier parts look as if other code had computed them. Everything else is in: a new module counts by
default."""


def _excluded(relative: str) -> bool:
    return any(relative == p or relative.startswith(p + "/") for p in NOT_RESULT_SHAPING)


def fingerprint_tree(base: Path) -> str:
    """Short SHA-256 over the names and contents of the sources and data files under ``base`` that shape
    results (see :data:`NOT_RESULT_SHAPING`)."""
    h = hashlib.sha256()
    for path in sorted(base.rglob("*")):
        relative = path.relative_to(base).as_posix()
        if (
            path.is_file()
            and "__pycache__" not in path.parts
            and path.suffix in FINGERPRINTED_SUFFIXES
            and not _excluded(relative)
        ):
            h.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Fingerprint of the installed NucleiML code that may shape solver results and dataset rows (every
    package file but :data:`NOT_RESULT_SHAPING`: the solver, nuclear matter, nuclei, experiment tables,
    dataset generation and labels, and the helpers they use), so that results computed by
    different code -- e.g. a solver change between resumed sessions -- can be told apart. Computed once per
    process."""
    return fingerprint_tree(Path(__file__).resolve().parent)
