"""Posterior files of a run: equally weighted and weighted samples (Parquet) and summary.json.

A run directory holds

- ``posterior.parquet``: equally weighted samples, one column per NMP (``rho0`` in fm^-3; ``E0``, ``K0``,
  ``Q0``, ``J0``, ``L0`` in MeV; ``mstar``);
- ``weighted.parquet``: the sampler's weighted samples (every dead point and the final live points), the NMP
  columns plus ``weight`` (summing to 1) and ``log_likelihood``; non-convergent points appear with their
  floor value (below -1e9) and weight 0;
- ``summary.json``: per NMP the median, the 68 % interval (16th to 84th weighted percentile), mean and
  standard deviation; the log-evidence and its error; likelihood calls; wall seconds; the model and
  package versions; the run file (see :func:`nucleiml.inference.infer`).

Files are written to a hidden temporary and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._atomic import atomic_write
from ..parameters import NMP_INFO, NMP_NAMES
from ._deps import require

__all__ = [
    "QUANTILES_68",
    "SAMPLES_FILE",
    "SUMMARY_FILE",
    "WEIGHTED_FILE",
    "Posterior",
    "PosteriorError",
    "marginal_summary",
    "read_posterior",
    "weighted_quantile",
    "write_samples",
]

SAMPLES_FILE = "posterior.parquet"
WEIGHTED_FILE = "weighted.parquet"
SUMMARY_FILE = "summary.json"
QUANTILES_68 = (0.158655, 0.5, 0.841345)
"""Lower bound, median and upper bound of the central 68 % (one-sigma) interval, as quantiles."""
UNITS = {name: NMP_INFO[name][0] for name in NMP_NAMES}
"""Unit of each NMP column (from :data:`nucleiml.parameters.NMP_INFO`)."""


class PosteriorError(ValueError):
    """A run directory is missing or incomplete."""


def weighted_quantile(x: np.ndarray, weights: np.ndarray, q) -> np.ndarray:
    """Quantiles ``q`` (in [0, 1]) of samples ``x`` with non-negative ``weights``.

    Uses the midpoint rule: sample i sits at cumulative weight ``c_i - w_i / 2``, linearly interpolated
    (with equal weights this is the Hazen quantile). Raises ValueError for empty or all-zero weights.
    """
    x = np.asarray(x, dtype=float)
    w = np.asarray(weights, dtype=float)
    if x.size == 0 or x.shape != w.shape or not np.all(w >= 0) or not w.sum() > 0:
        raise ValueError(
            "need equally shaped, non-empty samples and non-negative weights with a positive sum"
        )
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    c = (np.cumsum(ws) - 0.5 * ws) / ws.sum()
    return np.interp(q, c, xs)


def marginal_summary(points: np.ndarray, weights: np.ndarray, names=NMP_NAMES) -> dict[str, dict]:
    """Median, 68 % interval (16th-84th percentile), mean and standard deviation of each column.

    Parameters
    ----------
    points : ndarray, shape (N, d)
    weights : ndarray, shape (N,)
    names : sequence of str, length d

    Returns
    -------
    dict
        ``{name: {"median", "low_68", "high_68", "mean", "std", "unit"}}``.
    """
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    out = {}
    for i, name in enumerate(names):
        col = points[:, i]
        lo, med, hi = weighted_quantile(col, w, list(QUANTILES_68))
        mean = float(np.sum(w * col))
        out[name] = {
            "median": float(med),
            "low_68": float(lo),
            "high_68": float(hi),
            "mean": mean,
            "std": float(math.sqrt(max(np.sum(w * (col - mean) ** 2), 0.0))),
            "unit": UNITS.get(name, ""),
        }
    return out


def write_samples(out: str | Path, result, names=NMP_NAMES, extra: dict | None = None) -> None:
    """Write ``posterior.parquet`` and ``weighted.parquet`` of a
    :class:`~nucleiml.inference.sampler.SamplerResult` into directory ``out``; ``extra`` adds columns
    (one value per equally weighted sample) to ``posterior.parquet``."""
    pa = require("pyarrow", "posterior files")
    pq = require("pyarrow.parquet", "posterior files")
    out = Path(out)
    columns = {n: np.ascontiguousarray(result.samples[:, i]) for i, n in enumerate(names)}
    columns.update({k: np.ascontiguousarray(v) for k, v in (extra or {}).items()})
    equal = pa.table(columns)
    cols = {n: np.ascontiguousarray(result.points[:, i]) for i, n in enumerate(names)}
    cols.update(weight=result.weights, log_likelihood=result.logl)
    weighted = pa.table(cols)
    atomic_write(out / SAMPLES_FILE, lambda fh: pq.write_table(equal, fh))
    atomic_write(out / WEIGHTED_FILE, lambda fh: pq.write_table(weighted, fh))


@dataclass(frozen=True)
class Posterior:
    """A finished run read back from its directory.

    Attributes
    ----------
    path : Path
    samples : ndarray, shape (M, 7)
        Equally weighted samples, columns in ``NMP_NAMES`` order.
    points, weights, log_likelihood : ndarray
        The weighted samples (N, 7), their weights (N,) and log-likelihoods (N,).
    summary : dict
        The run's summary.json.
    """

    path: Path
    samples: np.ndarray
    points: np.ndarray
    weights: np.ndarray
    log_likelihood: np.ndarray
    summary: dict

    @property
    def label(self) -> str:
        """Short label: the model name and the directory name (once where they are the same)."""
        model = self.summary.get("model", {}).get("model", "?")
        return model if model == self.path.name else f"{model} ({self.path.name})"


def _read_summary(root: Path) -> dict:
    """summary.json of a run, checked to be an object whose sections the readers use have their types."""
    path = root / SUMMARY_FILE
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: not JSON, or not UTF-8
        raise PosteriorError(f"cannot read {path}: {exc}") from None
    if not isinstance(summary, dict):
        raise PosteriorError(
            f"{path} must hold a JSON object (a run's summary), got {type(summary).__name__}"
        )
    for key, kinds in (("run", dict), ("model", dict), ("posterior_predictive", dict | None)):
        if key in summary and not isinstance(summary[key], kinds):
            raise PosteriorError(f"{path}: {key!r} must be an object, got {type(summary[key]).__name__}")
    for key in ("wall_seconds", "likelihood_calls"):
        v = summary.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise PosteriorError(f"{path}: {key!r} must be a number, got {type(v).__name__}")
    return summary


def _read_columns(path: Path, names, *, may_be_infinite=()) -> np.ndarray:
    """Columns ``names`` of the Parquet file ``path`` as an (n, len(names)) float array, refusing missing
    or non-numeric columns, NaN and infinite entries (except infinities in the columns ``may_be_infinite``),
    naming the file, column and row."""
    pq = require("pyarrow.parquet", "posterior files")
    try:
        table = pq.read_table(path)
        missing = [n for n in names if n not in table.column_names]
        if missing:
            raise PosteriorError(f"{path} lacks the column {missing[0]!r}; need {', '.join(names)}")
        cols = [np.asarray(table.column(n).to_numpy(), dtype=np.float64) for n in names]
    except PosteriorError:
        raise
    except (OSError, ValueError, TypeError, KeyError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise PosteriorError(
            f"cannot read {path}: {' '.join(str(exc).split()) or type(exc).__name__}"
        ) from None
    arr = np.column_stack(cols) if cols else np.zeros((0, 0))
    bad = np.isnan(arr) | (np.isinf(arr) & ~np.isin(np.asarray(names), may_be_infinite)[None, :])
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise PosteriorError(f"{path}: {names[j]} in row {i} is {arr[i, j]!r}, not a finite number")
    return arr


def read_posterior(path: str | Path) -> Posterior:
    """Read a finished run directory written by ``nucleiml infer``.

    Raises
    ------
    PosteriorError
        If the directory or one of its files is missing, unreadable or corrupted: a summary.json that is
        not a run's summary, samples or weights that are missing, not numbers, NaN or infinite (the
        message names the file and, where it applies, the column and row).
    """
    require("pyarrow.parquet", "posterior files")
    if not isinstance(path, str | os.PathLike):
        raise PosteriorError(f"run must be a directory path, got {type(path).__name__}")
    root = Path(path)
    if not root.is_dir():
        raise PosteriorError(f"{root} is not a directory holding an inference run")
    missing = [f for f in (SAMPLES_FILE, WEIGHTED_FILE, SUMMARY_FILE) if not (root / f).is_file()]
    if missing:
        raise PosteriorError(
            f"{root} holds no finished inference run (missing {', '.join(missing)}); run "
            f"'nucleiml infer --out {root}' (with --resume to finish an interrupted run)"
        )
    summary = _read_summary(root)
    samples = _read_columns(root / SAMPLES_FILE, NMP_NAMES)
    if len(samples) == 0:
        raise PosteriorError(f"{root / SAMPLES_FILE} holds no samples")
    names = (*NMP_NAMES, "weight", "log_likelihood")  # a zero likelihood is log_likelihood = -inf
    weighted = _read_columns(root / WEIGHTED_FILE, names, may_be_infinite=("log_likelihood",))
    points, weights, logl = weighted[:, : len(NMP_NAMES)], weighted[:, -2], weighted[:, -1]
    if np.any(weights < 0) or not weights.sum() > 0:
        raise PosteriorError(f"{root / WEIGHTED_FILE}: the weights must be >= 0 with a positive sum")
    return Posterior(root, samples, points, weights, logl, summary)
