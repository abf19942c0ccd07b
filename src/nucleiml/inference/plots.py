"""Corner plots of NMP posteriors (the only module that imports matplotlib and corner).

- :func:`corner_plot`: one run, with the median and 68 % interval of each marginal;
- :func:`compare_corner_plot`: two runs overlaid (seed paper, Fig. 8): both medians and 68 % intervals
  above each diagonal panel, dashed lines at the intervals, and the Jensen-Shannon divergence written
  vertically beside each marginal;
- :func:`predictive_plot`: the posterior predictive check, one panel per nucleus and quantity.

Figures are drawn with the non-interactive Agg backend and written to PNG.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..parameters import NMP_INFO, NMP_NAMES
from ._deps import require
from .posterior import QUANTILES_68, weighted_quantile
from .runfile import OBSERVABLE_UNITS

__all__ = ["LABELS", "compare_corner_plot", "corner_plot", "predictive_plot"]

SYMBOLS = {
    "rho0": r"\rho_0",
    "E0": "E_0",
    "K0": "K_0",
    "Q0": "Q_0",
    "mstar": "M^*/M",
    "J0": "J_0",
    "L0": "L_0",
    "M_max": r"M_{\rm max}",
    "R_14": "R_{1.4}",
    "Lambda_14": r"\Lambda_{1.4}",
}


def _tex_unit(unit: str) -> str:
    """A unit of :data:`nucleiml.parameters.NMP_INFO` in mathtext, e.g. fm^-3 -> fm$^{-3}$."""
    return re.sub(r"\^(-?\d+)", r"$^{\1}$", unit)


LABELS = {
    name: f"${SYMBOLS[name]}$" + (f" ({_tex_unit(NMP_INFO[name][0])})" if NMP_INFO[name][0] else "")
    for name in NMP_NAMES
}
LABELS.update(
    {"M_max": r"$M_{\rm max}$ ($M_\odot$)", "R_14": r"$R_{1.4}$ (km)", "Lambda_14": r"$\Lambda_{1.4}$"}
)
"""Axis label of each NMP and derived star quantity: symbol and unit."""
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
    return {"rho0": 4, "mstar": 3, "E0": 2, "M_max": 2, "R_14": 2}.get(name, 1)


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


_QUANTITY_SYMBOLS = {"binding_energy": "B", "charge_radius": r"$R_{ch}$", "neutron_skin": r"$R_n - R_p$"}


def _width_label(quantities) -> str:
    """Legend of the grey band: the likelihood width, and for skins (shown for every run, conditioned on
    or not) the measurement's uncertainty."""
    if "neutron_skin" in quantities:
        return "± likelihood width (skins: ± measurement uncertainty)"
    return "± likelihood width"


def _quantity_label(quantity: str) -> str:
    """Axis label of a predicted quantity: its symbol and its unit (:data:`OBSERVABLE_UNITS`)."""
    return f"{_QUANTITY_SYMBOLS.get(quantity, quantity)} ({OBSERVABLE_UNITS[quantity]})"


def predictive_plot(sample, reference, path, *, title: str = "") -> Path:
    """Histograms of the predictions at posterior draws, one panel per nucleus (row) and quantity
    (column), with the median and 68 % interval (lines), and experiment with the likelihood's width
    (a line on a shaded band) where the reference has it.

    Parameters
    ----------
    sample : PredictiveSample
        From :func:`nucleiml.inference.predictive.sample_predictive`.
    reference : Likelihood or Reference
        Experimental values and widths (``nuclei``, ``observables``, ``experimental``, ``width``).
    path : path of the PNG file
    title : figure title

    Returns
    -------
    Path

    Raises
    ------
    MissingInferExtraError
        If matplotlib is not installed.
    """
    plt, _ = _libs()
    nuclei = [n for n in reference.nuclei if n in sample.values]
    quantities = list(dict.fromkeys(q for n in nuclei for q in sample.values[n]))
    fig, axes = plt.subplots(
        len(nuclei), len(quantities), figsize=(3.3 * len(quantities), 0.75 + 2.2 * len(nuclei)), squeeze=False
    )
    for i, nucleus in enumerate(nuclei):
        k = reference.nuclei.index(nucleus)
        for j, quantity in enumerate(quantities):
            ax = axes[i, j]
            values = sample.values[nucleus].get(quantity, np.empty(0))
            exp = width = np.nan
            if quantity in reference.observables:
                o = reference.observables.index(quantity)
                exp, width = reference.experimental[k, o], reference.width[k, o]
            _predictive_panel(ax, values, exp, width)
            ax.set_title(f"{nucleus}  ({100 * sample.valid_fraction[nucleus]:.0f} % valid)", fontsize=9)
            ax.set_xlabel(_quantity_label(quantity), fontsize=9)
            ax.tick_params(labelsize=8)
            ax.set_yticks([])
    handles = [
        plt.Line2D([], [], color=COLORS[0], lw=1.2, label="median, 68 % interval"),
        plt.Line2D([], [], color="k", lw=1.2, label="experiment"),
        plt.Rectangle((0, 0), 1, 1, color="0.85", label=_width_label(quantities)),
    ]
    height = fig.get_figheight()  # inches: title and legend take the top 0.75 inch
    fig.subplots_adjust(top=1 - 0.95 / height, bottom=0.55 / height, hspace=0.6, wspace=0.12)
    fig.legend(
        handles=handles,
        loc="upper center",
        ncol=3,
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, 1 - 0.3 / height),
    )
    if title:
        fig.suptitle(title, fontsize=10, y=1 - 0.05 / height, va="top")
    return _save(plt, fig, path)


def _predictive_panel(ax, values: np.ndarray, exp: float, width: float) -> None:
    if np.isfinite(exp) and np.isfinite(width):
        ax.axvspan(exp - width, exp + width, color="0.85", zorder=0)
        ax.axvline(exp, color="k", lw=1.2, zorder=2)
    if values.size == 0:
        ax.text(0.5, 0.5, "no valid draw", transform=ax.transAxes, ha="center", va="center", fontsize=8)
        return
    ax.hist(values, bins=min(30, max(5, values.size // 8)), color=COLORS[0], alpha=0.55, zorder=1)
    lo, med, hi = np.quantile(values, QUANTILES_68)
    ax.axvline(med, color=COLORS[0], lw=1.2, zorder=3)
    for q in (lo, hi):
        ax.axvline(q, color=COLORS[0], lw=1.0, ls="--", zorder=3)
