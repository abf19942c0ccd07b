"""Figures of star sequences (the only module of :mod:`nucleiml.stars` that imports matplotlib)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._extras import require
from .observations import load_measurements

__all__ = ["mass_radius_plot"]

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _measurements(ax) -> None:
    """Pulsar-mass bands (68 %) and NICER 68 % intervals as error crosses on an M-R axis."""
    grey = ("#fdae6b", "#a1d99b", "#c6dbef")
    k = 0
    for m in load_measurements():
        if m.kind == "mass":
            ax.axhspan(m.mass - m.mass_minus, m.mass + m.mass_plus, color=grey[k % len(grey)], alpha=0.45, lw=0,
                       label=f"{m.name} mass, 68 %")  # fmt: skip
            k += 1
    for i, m in enumerate(x for x in load_measurements() if x.kind == "mass_radius"):
        ax.errorbar(
            m.radius,
            m.mass,
            xerr=[[m.radius_minus], [m.radius_plus]],
            yerr=[[m.mass_minus], [m.mass_plus]],
            fmt="s",
            ms=4,
            color=("#555555", "#000000", "#8c564b", "#6a3d9a")[i % 4],
            capsize=3,
            label=f"{m.name} NICER, 68 %",
        )


def mass_radius_plot(results, path: str | Path, title: str = "", labels=None) -> Path:
    """Mass-radius (left) and tidal deformability (right) of one or more :class:`StarResult`, with the 1.4
    and 2.0 Msun lines and the shipped measurements; written to ``path`` (PNG).

    Raises
    ------
    MissingExtraError
        If matplotlib is not installed (the ``infer`` extra).
    """
    require("matplotlib", "infer", "star figures")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = results if isinstance(results, list | tuple) else [results]
    labels = labels or [title or "EoS"] * len(results)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10.5, 5.6))
    _measurements(ax)
    for i, (res, lab) in enumerate(zip(results, labels)):
        seq, c = res.sequence, _COLOURS[i % len(_COLOURS)]
        status = "" if res.summary.ok else f" [{res.summary.status.name}]"
        ax.plot(seq["radius"], seq["mass"], color=c, lw=2, label=f"{lab}{status}")
        bx.semilogy(seq["mass"], seq["Lambda"], color=c, lw=2, label=lab)
        if np.isfinite(res.summary.M_max):
            ax.plot(res.summary.R_M_max, res.summary.M_max, "o", color=c, ms=5)
    for a in (ax,):
        for mline in (1.4, 2.0):
            a.axhline(mline, color="0.4", ls=":", lw=1)
    bx.axvline(1.4, color="0.4", ls=":", lw=1)
    ax.set_xlabel("radius R [km]")
    ax.set_ylabel("gravitational mass M [Msun]")
    ax.set_xlim(9, 17)
    ax.set_ylim(
        0.5, max(3.0, *(np.nanmax(r.sequence["mass"]) + 0.1 for r in results if r.sequence["mass"].size))
    )
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False)
    ax.set_title("mass-radius (dot: maximum mass; dotted: 1.4, 2.0 Msun)", fontsize=9)
    bx.set_xlabel("gravitational mass M [Msun]")
    bx.set_ylabel("tidal deformability Lambda (dimensionless)")
    bx.set_xlim(
        0.5, max(2.9, *(np.nanmax(r.sequence["mass"]) + 0.05 for r in results if r.sequence["mass"].size))
    )
    bx.set_ylim(1, 2e4)
    bx.legend(fontsize=7)
    bx.set_title("tidal deformability (dotted: 1.4 Msun)", fontsize=9)
    if title:
        fig.suptitle(f"Neutron stars: {title}", fontsize=11)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=130, bbox_inches="tight")  # the legend below the axes stays in the file
    plt.close(fig)
    return path
