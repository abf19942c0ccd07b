"""Corner plots of NMP posteriors (the only module that imports matplotlib and corner).

- :func:`corner_plot`: one run, with the median and 68 % interval of each marginal;
- :func:`compare_corner_plot`: two runs overlaid (seed paper, Fig. 8): both medians and 68 % intervals
  above each diagonal panel, dashed lines at the intervals, and the Jensen-Shannon divergence written
  vertically beside each marginal.

Figures are drawn with the non-interactive Agg backend and written to PNG.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..parameters import NMP_INFO, NMP_NAMES
from ._deps import require
from .posterior import QUANTILES_68, weighted_quantile

__all__ = ["LABELS", "compare_corner_plot", "corner_plot"]

SYMBOLS = {
    "rho0": r"\rho_0",
    "E0": "E_0",
    "K0": "K_0",
    "Q0": "Q_0",
    "mstar": "M^*/M",
    "J0": "J_0",
    "L0": "L_0",
}


def _tex_unit(unit: str) -> str:
    """A unit of :data:`nucleiml.parameters.NMP_INFO` in mathtext, e.g. fm^-3 -> fm$^{-3}$."""
    return re.sub(r"\^(-?\d+)", r"$^{\1}$", unit)


LABELS = {
    name: f"${SYMBOLS[name]}$" + (f" ({_tex_unit(NMP_INFO[name][0])})" if NMP_INFO[name][0] else "")
    for name in NMP_NAMES
}
"""Axis label of each NMP: symbol and unit."""
COLORS = ("#1f5fa8", "#d2561b")
_CONTOURS = (0.393, 0.865)  # 1 and 2 sigma of a 2-D Gaussian
_STYLE = {
    "bins": 30,
    "smooth": 1.0,
    "smooth1d": 1.0,
    "plot_datapoints": False,
    "levels": _CONTOURS,
    "max_n_ticks": 4,
    "label_kwargs": {"fontsize": 12},
}
"""corner.corner settings shared by both plots."""


def _save(plt, fig, path) -> Path:
    out = Path(path)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return out


def _libs():
    mpl = require("matplotlib", "plots")
    mpl.use("Agg", force=True)
    plt = require("matplotlib.pyplot", "plots")
    corner = require("corner", "plots")
    return plt, corner


def _decimals(name: str) -> int:
    return {"rho0": 4, "mstar": 3, "E0": 2}.get(name, 1)


def _fmt(name: str, lo: float, med: float, hi: float) -> str:
    d = _decimals(name)
    return f"{med:.{d}f}$^{{+{hi - med:.{d}f}}}_{{-{med - lo:.{d}f}}}$"


def _ranges(sets: list[np.ndarray]) -> list[tuple[float, float]]:
    out = []
    for i in range(sets[0].shape[1]):
        lo = min(np.percentile(s[:, i], 0.2) for s in sets)
        hi = max(np.percentile(s[:, i], 99.8) for s in sets)
        pad = 0.08 * (hi - lo) if hi > lo else max(abs(lo), 1e-3) * 0.01
        out.append((lo - pad, hi + pad))
    return out


def corner_plot(
    samples: np.ndarray,
    path: str | Path,
    *,
    names=NMP_NAMES,
    title: str = "",
    weights: np.ndarray | None = None,
) -> Path:
    """Corner plot of posterior samples (n, 7) with the median and 68 % interval of each NMP; saved as PNG.

    Parameters
    ----------
    samples : ndarray, shape (n, d)
    path : path of the PNG file
    names : column names (NMP names give labels with units)
    title : figure title (e.g. model and evidence)
    weights : optional sample weights

    Returns
    -------
    Path

    Raises
    ------
    MissingInferExtraError
        If matplotlib or corner is not installed.
    """
    plt, corner = _libs()
    samples = np.asarray(samples, dtype=float)
    labels = [LABELS.get(n, n) for n in names]
    fig = corner.corner(
        samples,
        weights=weights,
        labels=labels,
        range=_ranges([samples]),
        quantiles=list(QUANTILES_68),
        color=COLORS[0],
        fill_contours=True,
        **_STYLE,
    )
    d = samples.shape[1]
    axes = np.asarray(fig.axes).reshape(d, d)
    w = np.ones(len(samples)) if weights is None else np.asarray(weights, dtype=float)
    for i, name in enumerate(names):
        lo, med, hi = weighted_quantile(samples[:, i], w, list(QUANTILES_68))
        sym = SYMBOLS.get(name, name)
        axes[i, i].set_title(f"${sym}$ = {_fmt(name, lo, med, hi)}", fontsize=10)
    if title:
        fig.suptitle(title, fontsize=13, y=1.0)
    fig.text(
        0.98,
        0.98,
        "contours: 39 % and 86 % (1 and 2 sigma in 2-D)\ndashed: median and 68 % interval",
        ha="right",
        va="top",
        fontsize=10,
    )
    return _save(plt, fig, path)


def _overlay(corner, runs, common: dict):
    """Both runs' corner plots in one figure, each weighted 1/n so that both marginals are probabilities
    per bin, comparable whatever the sample sizes (corner writes the colour into hist_kwargs: each call
    gets its own dict)."""
    fig = None
    for s, color in zip(runs, COLORS, strict=False):
        fig = corner.corner(
            s,
            fig=fig,
            color=color,
            weights=np.full(len(s), 1.0 / len(s)),
            hist_kwargs={"color": color, "linewidth": 1.5},
            **common,
        )
    return fig


def _annotate_marginal(ax, name: str, columns, span, bins, jsd) -> None:
    """One diagonal panel of :func:`compare_corner_plot`: common y-scale, each run's 16/50/84th percentiles
    as lines and as text above the panel, and the JSD (bits) to its right."""
    top = max(np.histogram(c, bins=bins, range=span)[0].max() / len(c) for c in columns)
    ax.set_ylim(0.0, 1.1 * top)  # corner scales the diagonal to the last set drawn only
    texts = []
    for c, color in zip(columns, COLORS, strict=False):
        lo, med, hi = weighted_quantile(c, np.ones(len(c)), list(QUANTILES_68))
        for v, ls in ((lo, "--"), (med, "-"), (hi, "--")):
            ax.axvline(v, color=color, ls=ls, lw=1.0)
        texts.append((_fmt(name, lo, med, hi), color))
    sym = SYMBOLS.get(name, name)
    ax.set_title("")
    ax.text(0.5, 1.30, f"${sym}$", transform=ax.transAxes, ha="center", va="bottom", fontsize=11)
    for y, (text, color) in zip((1.16, 1.02), texts, strict=True):
        ax.text(0.5, y, text, color=color, transform=ax.transAxes, ha="center", va="bottom", fontsize=9)
    if jsd is not None and name in jsd:
        ax.text(
            1.04,
            0.5,
            f"JSD = {jsd[name]:.3f}",
            transform=ax.transAxes,
            rotation=90,
            ha="left",
            va="center",
            fontsize=9,
        )


def _compare_legend(plt, fig, labels, title: str) -> None:
    """The runs' legend and a key to the panels, top right."""
    handles = [plt.Line2D([], [], color=c, lw=2, label=lab) for c, lab in zip(COLORS, labels, strict=False)]
    fig.legend(
        handles=handles,
        loc="upper right",
        bbox_to_anchor=(0.98, 0.98),
        fontsize=12,
        title=(title or None),
        title_fontsize=12,
        frameon=False,
    )
    fig.text(
        0.98,
        0.80,
        "diagonal: marginals, solid = median, dashed = 68 % interval\n"
        "JSD: Jensen-Shannon divergence (bits), Gaussian KDE\n"
        "contours: 39 % and 86 % (1 and 2 sigma in 2-D)",
        ha="right",
        va="top",
        fontsize=10,
    )


def compare_corner_plot(
    samples_a: np.ndarray,
    samples_b: np.ndarray,
    path: str | Path,
    *,
    labels: tuple[str, str] = ("A", "B"),
    jsd: dict[str, float] | None = None,
    names=NMP_NAMES,
    title: str = "",
) -> Path:
    """Two posteriors overlaid (seed paper, Fig. 8), saved as PNG.

    Above each diagonal panel: the median and 68 % interval of both runs (in their colours); dashed lines
    in the panel at each run's 16th, 50th and 84th percentile; the JSD (bits) written vertically to the
    right of the panel.

    Parameters
    ----------
    samples_a, samples_b : ndarray, shape (n, d)
        Equally weighted samples.
    path : path of the PNG file
    labels : legend labels of the two runs
    jsd : per-name JSD in bits (optional)
    names : column names
    title : figure title

    Returns
    -------
    Path

    Raises
    ------
    MissingInferExtraError
        If matplotlib or corner is not installed.
    """
    plt, corner = _libs()
    runs = (np.asarray(samples_a, dtype=float), np.asarray(samples_b, dtype=float))
    d = runs[0].shape[1]
    rng = _ranges(list(runs))
    common = {"labels": [LABELS.get(n, n) for n in names], "range": rng, "plot_density": False, **_STYLE}
    fig = _overlay(corner, runs, common)
    axes = np.asarray(fig.axes).reshape(d, d)
    for i, name in enumerate(names):
        _annotate_marginal(axes[i, i], name, [s[:, i] for s in runs], rng[i], common["bins"], jsd)
    _compare_legend(plt, fig, labels, title)
    return _save(plt, fig, path)
