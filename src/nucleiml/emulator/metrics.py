"""Performance measures of the emulator (numpy only): classification scores and relative deviations.

- Classification (seed Table II, Fig. 3): accuracy, and per class precision (right among those predicted
  as the class), recall (found among those truly in the class), F1 (their harmonic mean) and support; the
  confusion matrix counts[true, predicted] in class order; and the recalls of accept (convergent) versus
  reject (any other class), the split inference uses.
- Regression (seed Figs. 5-7): the relative deviation dX/X = (X_true - X_pred) / X_true with its median,
  central 95 % interval, and ``abs95``, the 95th percentile of |dX/X|: "95 % of cases within +-abs95".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._json import finite_json

__all__ = ["accept_reject_scores", "classification_scores", "deviation", "deviation_summary", "finite_json"]


def classification_scores(true: np.ndarray, pred: np.ndarray, classes: Sequence[str]) -> dict:
    """Accuracy, per-class precision / recall / F1 / support and the confusion matrix (rows: true)."""
    true = np.asarray(true).astype(str)
    pred = np.asarray(pred).astype(str)
    k = len(classes)
    index = {c: i for i, c in enumerate(classes)}
    unknown = (set(np.unique(true)) | set(np.unique(pred))) - set(classes)
    if unknown:
        raise ValueError(f"labels {sorted(unknown)} are not among the classes {list(classes)}")
    ti = np.array([index[c] for c in true], dtype=np.int64) if true.size else np.zeros(0, np.int64)
    pi = np.array([index[c] for c in pred], dtype=np.int64) if pred.size else np.zeros(0, np.int64)
    cm = np.bincount(ti * k + pi, minlength=k * k).reshape(k, k)
    per_class = {}
    for i, c in enumerate(classes):
        tp = cm[i, i]
        npred, ntrue = cm[:, i].sum(), cm[i, :].sum()
        precision = tp / npred if npred else float("nan")
        recall = tp / ntrue if ntrue else float("nan")
        f1 = (
            2 * precision * recall / (precision + recall)
            if npred and ntrue and tp
            else (0.0 if npred and ntrue else float("nan"))
        )
        per_class[c] = {
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "support": int(ntrue),
        }
    n = int(cm.sum())
    return {
        "n": n,
        "accuracy": float(np.trace(cm) / n) if n else float("nan"),
        "per_class": per_class,
        "confusion": cm.tolist(),
        "classes": list(classes),
    }


def accept_reject_scores(
    true: np.ndarray, pred: np.ndarray, accept: str = "convergent", exact: str = "nc_a"
) -> dict:
    """The classification collapsed to accept (``accept``) versus reject (any other class), the split a
    likelihood uses: a row is either predicted or thrown out.

    Parameters
    ----------
    true, pred : (n,) arrays of class names
        The solver's labels and the emulator's.
    accept : str
        The accepted class.
    exact : str
        A rejected class the emulator decides exactly (nc_a: no couplings); ``reject_recall_learned`` is the
        reject recall without it, the part the networks decide.

    Returns
    -------
    dict
        ``accept_recall`` (accepted rows predicted accepted), ``reject_recall`` (rejected rows predicted
        rejected, whichever other class), ``reject_recall_learned`` (the same without the ``exact`` class),
        their supports ``accept_support``, ``reject_support``, ``reject_learned_support``, and the
        ``accuracy`` of the split; a recall is NaN without support.

    Raises
    ------
    ValueError
        If ``true`` and ``pred`` differ in shape.
    """
    t = np.asarray(true).astype(str) == accept
    p = np.asarray(pred).astype(str) == accept
    if t.shape != p.shape:
        raise ValueError(f"true and pred differ in shape: {t.shape} and {p.shape}")
    learned = ~t & (np.asarray(true).astype(str) != exact)
    n_acc, n_rej, n_learned = int(t.sum()), int((~t).sum()), int(learned.sum())
    return {
        "accept": accept,
        "accept_recall": float(np.mean(p[t])) if n_acc else float("nan"),
        "reject_recall": float(np.mean(~p[~t])) if n_rej else float("nan"),
        "reject_recall_learned": float(np.mean(~p[learned])) if n_learned else float("nan"),
        "accept_support": n_acc,
        "reject_support": n_rej,
        "reject_learned_support": n_learned,
        "accuracy": float(np.mean(t == p)) if t.size else float("nan"),
    }


def deviation(true: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """(X_true - X_pred) / X_true, the seed's Eq. (4)."""
    true = np.asarray(true, dtype=np.float64)
    return (true - np.asarray(pred, dtype=np.float64)) / true


def deviation_summary(dev: np.ndarray, tolerance: float | None = None) -> dict:
    """n, median, mean, 2.5 / 97.5 percentiles, abs95 (95th percentile of |dev|) and, with ``tolerance``,
    the fraction within +-tolerance (all as fractions, not per cent). NaNs are dropped."""
    d = np.asarray(dev, dtype=np.float64)
    d = d[np.isfinite(d)]
    if d.size == 0:
        out = {"n": 0, "median": None, "mean": None, "q025": None, "q975": None, "abs95": None}
        if tolerance is not None:
            out.update(tolerance=tolerance, within=None)
        return out
    q025, med, q975 = np.quantile(d, [0.025, 0.5, 0.975])
    out = {
        "n": int(d.size),
        "median": float(med),
        "mean": float(d.mean()),
        "q025": float(q025),
        "q975": float(q975),
        "abs95": float(np.quantile(np.abs(d), 0.95)),
    }
    if tolerance is not None:
        out.update(tolerance=float(tolerance), within=float(np.mean(np.abs(d) <= tolerance)))
    return out
