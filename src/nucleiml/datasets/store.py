"""On-disk layout of a dataset: Parquet parts written atomically, a JSON card, and a lock.

::

    DIR/card.json                    the card: prior, nuclei, seed, settings, counts, wall time
    DIR/parts/part-000000.parquet    rows of chunk 0 (samples 0 .. chunk_size - 1), and so on
    DIR/.lock                        held (flock) by the generating process

A part is written to a hidden temporary name in the same directory (``.part-000000.parquet.<pid>.tmp``),
flushed and fsynced, then renamed with ``os.replace`` (atomic on POSIX), and the directory is fsynced. A
part file therefore either holds a whole chunk or does not exist; hidden temporaries are ignored by the
readers here and by pyarrow's dataset discovery (names starting with ``.``), and removed on the next run.

pyarrow is imported lazily (the ``data`` extra: ``pip install "nucleiml[data]"``).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .. import _extras
from .._atomic import atomic_write
from .._paths import as_path
from ..parameters import COUPLING_NAMES, NMP_NAMES, described

__all__ = [
    "CARD_NAME",
    "COLUMNS",
    "PARTS_DIR",
    "DatasetError",
    "MissingExtraError",
    "list_parts",
    "part_path",
    "read_card",
    "read_part",
    "read_table",
    "write_parquet",
    "write_part",
]

CARD_NAME = "card.json"
PARTS_DIR = "parts"
LOCK_NAME = ".lock"
_PART_RE = re.compile(r"^part-(\d{6,})\.parquet$")
_TMP_RE = re.compile(r"^\..+\.tmp$")

OBSERVABLES = ("binding_energy", "charge_radius", "proton_radius", "neutron_radius")


COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("sample_id", "int64", "index of the NMP sample (chunk * chunk_size + position in the chunk)"),
    *((n, "float64", f"sampled {described(n)}") for n in NMP_NAMES),
    *((n, "float64", f"{described(n)} from the NMPs; NaN for nc_a") for n in COUPLING_NAMES),
    ("Z", "int16", "proton number"),
    ("N", "int16", "neutron number"),
    ("nucleus", "string", "nucleus name, e.g. 208Pb"),
    ("label", "string", "convergent, nc_a, nc_b or nc_c"),
    ("reason", "string", "why the row is not convergent ('' if convergent)"),
    ("binding_energy", "float64", "B > 0 in MeV; NaN for nc_a and nc_b"),
    ("charge_radius", "float64", "fm; NaN for nc_a and nc_b"),
    ("proton_radius", "float64", "point-proton rms radius, fm; NaN for nc_a and nc_b"),
    ("neutron_radius", "float64", "point-neutron rms radius, fm; NaN for nc_a and nc_b"),
    ("iterations", "int32", "self-consistent iterations; null for nc_a (solver not run)"),
    ("solve_seconds", "float64", "batch wall time / batch size, s (not reproducible); NaN for nc_a"),
)
"""(name, Arrow type, description) of every column, in order."""


class DatasetError(ValueError):
    """A dataset directory or its options are invalid (mismatching card, bad split fractions, ...)."""


class MissingExtraError(_extras.MissingExtraError):
    """An optional dependency of the ``data`` extra is not installed."""


def require(module: str):
    """Import ``module`` from the ``data`` extra, or raise a clear ``MissingExtraError``."""
    return _extras.require(module, "data", "datasets", MissingExtraError)


def schema():
    """The Arrow schema of a part."""
    pa = require("pyarrow")
    types = {"int64": pa.int64(), "int32": pa.int32(), "int16": pa.int16(), "float64": pa.float64()}
    return pa.schema(
        [pa.field(n, pa.string() if t == "string" else types[t], nullable=True) for n, t, _ in COLUMNS]
    )


def to_table(columns: dict[str, np.ndarray], metadata: dict[str, object] | None = None):
    """Build an Arrow table of the dataset schema from a dict of numpy arrays (iterations < 0 -> null)."""
    pa = require("pyarrow")
    sch = schema()
    arrays = []
    for f in sch:
        v = columns[f.name]
        if f.name == "iterations":
            v = np.asarray(v)
            arrays.append(pa.array(v, type=f.type, mask=v < 0))
        else:
            arrays.append(pa.array(v, type=f.type))
    meta = {b"nucleiml": json.dumps(metadata or {}, sort_keys=True).encode()}
    return pa.Table.from_arrays(arrays, schema=sch.with_metadata(meta))


def part_path(root: Path, chunk: int) -> Path:
    return Path(root) / PARTS_DIR / f"part-{chunk:06d}.parquet"


def write_parquet(path: Path, table) -> Path:
    """Write ``table`` to ``path`` atomically (hidden temp file in the same directory, fsync, rename)."""
    pq = require("pyarrow.parquet")
    atomic_write(path, lambda fh: pq.write_table(table, fh, compression="zstd"))
    return Path(path)


def write_part(root: Path, chunk: int, table) -> Path:
    """Write ``table`` as the part of ``chunk``, atomically."""
    return write_parquet(part_path(root, chunk), table)


def list_parts(root: Path) -> dict[int, Path]:
    """Finished parts by chunk index (hidden temporaries and other files are ignored)."""
    d = Path(root) / PARTS_DIR
    if not d.is_dir():
        return {}
    out = {}
    for p in d.iterdir():
        m = _PART_RE.match(p.name)
        if m:
            out[int(m.group(1))] = p
    return dict(sorted(out.items()))


def remove_temporaries(root: Path) -> int:
    """Delete leftovers of interrupted writes (call only while holding the lock); return their number."""
    n = 0
    for d in (Path(root), Path(root) / PARTS_DIR):
        if d.is_dir():
            for p in d.iterdir():
                if _TMP_RE.match(p.name):
                    with contextlib.suppress(OSError):
                        p.unlink()
                        n += 1
    return n


def _unreadable(path: Path, exc: BaseException) -> DatasetError:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return DatasetError(f"cannot read the dataset part {path} (truncated or corrupted?): {reason}")


def _part_schema(path: Path):
    pq = require("pyarrow.parquet")
    try:
        return pq.read_schema(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise _unreadable(path, exc) from None


def part_metadata(path: Path) -> dict:
    """The ``nucleiml`` metadata stored in a part's schema (chunk, first sample, number of samples).

    Raises
    ------
    DatasetError
        If the part cannot be read or is not a NucleiML dataset part (the message names it).
    """
    return _nucleiml_metadata(_part_schema(path).metadata, path)


def table_metadata(table, path: Path) -> dict:
    """:func:`part_metadata` of a part already read as ``table`` (from ``path``), without reading it again."""
    return _nucleiml_metadata(table.schema.metadata, path)


def _nucleiml_metadata(meta, path: Path) -> dict:
    try:
        data = json.loads((meta or {})[b"nucleiml"])
    except (KeyError, ValueError):
        data = None
    if not isinstance(data, dict):
        raise DatasetError(f"{path} is not a NucleiML dataset part (no nucleiml metadata)")
    return data


def read_part(path: Path, columns: list[str] | None = None):
    """The part at ``path`` (the ``columns`` only, if given) as an Arrow table.

    Raises
    ------
    DatasetError
        If the file cannot be read (truncated, corrupted) or lacks a column of the dataset schema or has
        it with another kind of type (text for a number, ...): a Parquet file of another table.
    """
    pq = require("pyarrow.parquet")
    found = _part_schema(path)
    expected = schema()
    for name in columns if columns is not None else expected.names:
        if name not in found.names:
            raise DatasetError(f"{path} is not a part of a NucleiML dataset: it has no column {name!r}")
        want_text = (
            expected.field(name).type == require("pyarrow").string() if name in expected.names else None
        )
        got_text = str(found.field(name).type) in ("string", "large_string")
        if want_text is not None and want_text != got_text:
            raise DatasetError(
                f"{path}: column {name!r} holds {found.field(name).type}, not {expected.field(name).type}"
            )
    try:
        return pq.read_table(path, columns=columns)
    except (OSError, ValueError) as exc:
        raise _unreadable(path, exc) from None


def iter_parts(root: Path, columns: list[str] | None = None) -> Iterator:
    """Arrow tables of the finished parts, in chunk order (one part in memory at a time)."""
    for path in list_parts(root).values():
        yield read_part(path, columns)


def read_table(root: str | Path, columns: list[str] | None = None):
    """The whole dataset as one Arrow table, rows ordered by (sample_id, nucleus order of the card)."""
    pa = require("pyarrow")
    root = Path(root)
    read_card(root)  # a clear error if this is not a dataset
    tables = list(iter_parts(root, columns))
    if not tables:
        return schema().empty_table() if columns is None else schema().empty_table().select(columns)
    return pa.concat_tables([t.replace_schema_metadata(None) for t in tables])


def read_card(root: str | Path) -> dict:
    """The card of dataset ``root``; :class:`DatasetError` if there is none or it is not a card."""
    path = as_path(root, "dataset directory", DatasetError) / CARD_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(f"{root} is not a NucleiML dataset (no {CARD_NAME})") from None
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    try:
        card = json.loads(text)
    except ValueError as exc:
        raise DatasetError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(card, dict) or card.get("format") != "nucleiml-dataset":
        raise DatasetError(f"{path} is not a NucleiML dataset card")
    return card


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold an exclusive lock on the dataset directory (released by the OS even after kill -9)."""
    import fcntl

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    fh = open(root / LOCK_NAME, "a+b")  # kept open while locked
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatasetError(
                f"{root} is in use by another nucleiml process (lock {root / LOCK_NAME})"
            ) from None
        yield
    finally:
        fh.close()
