"""Inspecting and splitting datasets: ``info`` (card + class balance) and ``split`` (by ``sample_id``).

Splits assign whole samples (all nuclei of one NMP sample together), never single rows. A sample goes to
train / validation / test by a hash of (sample_id, seed) compared with the cumulative fractions, so the
assignment is reproducible, needs no global shuffle (parts are streamed one at a time) and is stable when
a dataset is extended: a sample never changes split. The split sizes are therefore binomially close to,
not exactly, the fractions.
"""

from __future__ import annotations

import math
import shutil
from collections import Counter
from pathlib import Path

import numpy as np

from .._atomic import atomic_write_json
from .._paths import as_path
from ..parameters import shown
from . import store
from .labels import LABELS
from .store import DatasetError

__all__ = ["SPLIT_NAMES", "format_info", "info", "split", "split_of"]

SPLIT_NAMES = ("train", "validation", "test")
SPLIT_CARD = "split.json"


def info(root: str | Path) -> dict:
    """The card of dataset ``root`` with the class balance recounted from its finished parts.

    Returns the card (a dict) with ``counts`` (``total`` per label and ``by_nucleus``), ``samples_done``,
    ``rows`` and ``parts`` taken from the parts on disk, plus ``disk_bytes``.
    """
    root = as_path(root, "dataset directory", DatasetError)
    card = store.read_card(root)
    total, by_nucleus, samples, parts, size, codes = Counter(), Counter(), 0, 0, 0, Counter()
    for path in store.list_parts(root).values():
        codes[str(store.part_metadata(path).get("code"))] += 1
        t = store.read_part(path, ["sample_id", "nucleus", "label"])
        labels = t.column("label").to_pylist()
        total.update(labels)
        by_nucleus.update(zip(t.column("nucleus").to_pylist(), labels))
        samples += len(set(t.column("sample_id").to_pylist()))
        parts += 1
        size += path.stat().st_size
    nuclei = list(card.get("nuclei", [])) or sorted({n for n, _ in by_nucleus})
    out = dict(card)
    out.update(
        samples_done=samples,
        rows=sum(total.values()),
        parts=parts,
        disk_bytes=size,
        code_fingerprints=dict(codes),
        counts={
            "total": {lab: total.get(lab, 0) for lab in LABELS},
            "by_nucleus": {n: {lab: by_nucleus.get((n, lab), 0) for lab in LABELS} for n in nuclei},
        },
    )
    out["complete"] = samples == card.get("samples")
    return out


def format_info(data: dict) -> str:
    """Human-readable text of :func:`info`."""
    prior = data.get("prior", {})
    lines = [
        f"dataset: {data['samples_done']} of {data['samples']} samples "
        f"({'complete' if data['complete'] else 'incomplete: re-run the same generate command to resume'}), "
        f"{data['rows']} rows in {data['parts']} parts, {data['disk_bytes'] / 1e6:.2f} MB",
        f"nuclei: {', '.join(data['nuclei'])};  seed {data['seed']};  chunk size {data['chunk_size']};  "
        f"nc_c threshold {100 * data['nc_c_threshold']:g} %;  solver {data.get('solver') or 'defaults'}",
        f"package version {data.get('package_version', '?')};  wall time {data.get('wall_seconds', 0):.1f} s "
        f"over {len(data.get('sessions', []))} session(s)",
        "prior: "
        + ", ".join(
            f"{k} {d['distribution']}[{d['low']:g}, {d['high']:g}]"
            + (f"(mean {d['mean']:g}, std {d['std']:g})" if d["distribution"] == "gaussian" else "")
            for k, d in prior.get("nmp", {}).items()
        )
        + ";  masses "
        + ", ".join(f"{k} {v:g}" for k, v in prior.get("masses", {}).items())
        + " MeV",
    ]
    codes = data.get("code_fingerprints", {})
    if len(codes) > 1:
        lines.append(
            f"WARNING: parts were computed by {len(codes)} different versions of the code "
            f"({', '.join(f'{k}: {v} parts' for k, v in codes.items())}); rows may not be comparable"
        )
    lines += ["", "class balance (rows):"]
    counts = data["counts"]
    width = max([len("total"), *(len(n) for n in counts["by_nucleus"])])
    lines.append(f"  {'':<{width}}  " + "  ".join(f"{lab:>16}" for lab in LABELS))

    def row(name: str, c: dict) -> str:
        n = sum(c.values()) or 1
        return f"  {name:<{width}}  " + "  ".join(f"{c[lab]:>8} ({100 * c[lab] / n:4.1f}%)" for lab in LABELS)

    for name, c in counts["by_nucleus"].items():
        lines.append(row(name, c))
    lines.append(row("total", counts["total"]))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
def _uniform_hash(sample_id: np.ndarray, seed: int) -> np.ndarray:
    """splitmix64 of (sample_id, seed) mapped to [0, 1): a fixed, platform-independent function."""
    golden = np.array([0x9E3779B97F4A7C15], dtype=np.uint64)  # arrays wrap around silently
    with np.errstate(over="ignore"):
        x = np.asarray(sample_id, dtype=np.uint64) + np.array([seed % 2**64], dtype=np.uint64) * golden
        x = x + golden
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) * 2.0**-53


def _check_fractions(fractions) -> tuple[float, float, float]:
    try:
        f = tuple(float(x) for x in fractions)
    except (TypeError, ValueError):
        raise DatasetError(
            f"fractions must be three numbers (train, validation, test), got {fractions!r}"
        ) from None
    if (
        len(f) != 3
        or not all(math.isfinite(x) and x >= 0 for x in f)
        or not math.isclose(sum(f), 1.0, abs_tol=1e-9)
    ):
        raise DatasetError(
            f"fractions must be three non-negative numbers (train, validation, test) summing to 1, got {fractions!r}"
        )
    return f  # type: ignore[return-value]


def split_of(sample_id, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> np.ndarray:
    """Split index (0 train, 1 validation, 2 test) of each sample id: reproducible and extension-stable."""
    f = _check_fractions(fractions)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DatasetError(f"seed must be a non-negative integer, got {shown(seed)}")
    try:
        ids = np.asarray(sample_id)
        if ids.dtype.kind not in "iu" or np.any(ids < 0):
            raise TypeError
    except (TypeError, ValueError, OverflowError):
        raise DatasetError("sample_id must be non-negative integers (an int array)") from None
    u = _uniform_hash(ids, seed)
    return np.searchsorted(np.cumsum(f)[:2], u, side="right").astype(np.int8)


def split(
    root: str | Path, fractions=(0.8, 0.1, 0.1), *, seed: int = 0, out: str | Path | None = None
) -> dict:
    """Split dataset ``root`` into train / validation / test Parquet datasets by ``sample_id``.

    Writes ``out/<name>/part-NNNNNN.parquet`` (default ``out = root/splits``; previous split parts there
    are replaced) and ``out/split.json`` (fractions, seed, counts of samples and rows per split).
    Returns that summary.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DatasetError(f"seed must be a non-negative integer, got {seed!r}")
    f = _check_fractions(fractions)
    root = as_path(root, "dataset directory", DatasetError)
    card = store.read_card(root)
    dest = as_path(out, "split output directory", DatasetError) if out is not None else root / "splits"
    if dest.resolve() == root.resolve() or dest.resolve() == (root / store.PARTS_DIR).resolve():
        raise DatasetError(f"the split output {dest} must not be the dataset directory itself")
    for name in SPLIT_NAMES:
        shutil.rmtree(dest / name, ignore_errors=True)
    (dest / SPLIT_CARD).unlink(missing_ok=True)
    samples = dict.fromkeys(SPLIT_NAMES, 0)
    rows = dict.fromkeys(SPLIT_NAMES, 0)
    labels = {name: Counter() for name in SPLIT_NAMES}
    for chunk, path in store.list_parts(root).items():
        table = store.read_part(path)
        sid = table.column("sample_id").to_numpy()
        which = split_of(sid, f, seed)
        lab = np.asarray(table.column("label").to_pylist(), dtype=object)
        for k, name in enumerate(SPLIT_NAMES):
            mask = which == k
            if not mask.any():
                continue
            sub = table.filter(mask)
            store.write_parquet(dest / name / f"part-{chunk:06d}.parquet", sub)
            samples[name] += len(np.unique(sid[mask]))
            rows[name] += int(mask.sum())
            labels[name].update(lab[mask].tolist())
    summary = {
        "dataset": str(root),
        "fractions": dict(zip(SPLIT_NAMES, f)),
        "seed": seed,
        "method": "splitmix64 hash of (sample_id, seed); whole samples, stable under extension",
        "dataset_samples_done": sum(samples.values()),
        "dataset_samples": card.get("samples"),
        "samples": samples,
        "rows": rows,
        "counts": {name: {lab: labels[name].get(lab, 0) for lab in LABELS} for name in SPLIT_NAMES},
    }
    atomic_write_json(dest / SPLIT_CARD, summary)
    return summary
