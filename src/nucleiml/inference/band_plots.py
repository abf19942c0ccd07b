"""Posterior bands of neutron stars and of the EoS (matplotlib; the ``infer`` extra).

``mass_radius.png``: the radius at each mass, 68 % and 95 % of the posterior draws whose stable branch
reaches that mass, with the pulsar-mass and NICER intervals shipped in ``data/constraints.toml``.
``eos.png``: the pressure of beta-equilibrated matter against its energy density, the pressure of
symmetric matter and the symmetry energy against n/rho0 (each draw at its own rho0), as 68 % and 95 %
bands, with the shipped heavy-ion constraints drawn where they apply.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ._deps import require

__all__ = ["band_figures", "compare_bands", "eos_bands", "mass_radius_band"]

BAND_DRAWS = 400
LEVELS = ((2.5, 97.5, 0.25, "95 %"), (16.0, 84.0, 0.5, "68 %"))


def _draws(samples: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if len(samples) <= BAND_DRAWS:
        return samples
    return samples[rng.choice(len(samples), BAND_DRAWS, replace=False)]


def mass_radius_band(stars, masses: np.ndarray) -> dict:
    """Percentiles of R at each of ``masses`` (Msun) over the stable branches of a StarBatch that reach it;
    keys (lo, hi) percentile pairs of :data:`LEVELS` and ``"median"``; also ``"fraction"`` reaching."""
    mass, radius = stars.sequence["mass"], stars.sequence["radius"]
    R = np.full((mass.shape[0], masses.size), np.nan)
    for i in range(mass.shape[0]):
        keep = np.isfinite(mass[i])
        if np.count_nonzero(keep) >= 2:
            m, r = mass[i][keep], radius[i][keep]
            inside = (masses >= m[0]) & (masses <= m[-1])
            R[i, inside] = np.interp(masses[inside], m, r)
    with warnings.catch_warnings():  # masses no draw reaches: NaN, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        out = {"fraction": np.mean(np.isfinite(R), axis=0), "median": np.nanpercentile(R, 50, axis=0)}
        for lo, hi, _, _ in LEVELS:
            out[(lo, hi)] = np.nanpercentile(R, [lo, hi], axis=0)
    return out


def eos_bands(ctx, eps_grid: np.ndarray, x_grid: np.ndarray) -> dict:
    """P(eps) of beta-equilibrated matter (at ``eps_grid``, MeV fm^-3), P_SNM and S at n = x rho0
    (``x_grid``) for the draws of Context ``ctx``: arrays (draws, points), NaN where undefined."""
    from ..stars import StarConfig
    from ..stars.matter import PointStatus, beta_equilibrium_kernel, scaled_couplings_arrays

    n = len(ctx)
    idx = np.nonzero(ctx.has_couplings)[0]
    P_eps = np.full((n, eps_grid.size), np.nan)
    if idx.size:
        core = beta_equilibrium_kernel(
            scaled_couplings_arrays({k: v[idx] for k, v in ctx.couplings.items()}),
            StarConfig().density_grid(),
        )
        for j, i in enumerate(idx):
            ok = core.status[j] == PointStatus.OK
            e, p = core.energy_density[j][ok], core.pressure[j][ok]
            if e.size >= 2:
                inside = (eps_grid >= e[0]) & (eps_grid <= e[-1])
                P_eps[i, inside] = np.interp(eps_grid[inside], e, p)
    P_snm = np.stack([ctx.symmetric_pressure(x * ctx.rho0) for x in x_grid], axis=1)
    S = np.stack([ctx.symmetry_energy(x * ctx.rho0) for x in x_grid], axis=1)
    return {"P_eps": P_eps, "P_snm": P_snm, "S": S}


def _shade(ax, x, values, color, label_prefix="", filled=True):
    """68 % and 95 % bands of ``values`` (draws, points) at ``x``: filled, or outlined (68 % solid, 95 %
    dashed) for a second run on the same axes."""
    for lo, hi, alpha, name in LEVELS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            a, b = np.nanpercentile(values, [lo, hi], axis=0)
        label = f"{label_prefix}{name} of the posterior"
        if filled:
            ax.fill_between(x, a, b, color=color, alpha=alpha, lw=0, label=label)
        else:
            style = "-" if name == "68 %" else "--"
            ax.plot(x, a, style, color=color, lw=1.3, label=label)
            ax.plot(x, b, style, color=color, lw=1.3)


def _constraint(name: str):
    from .constraints import shipped_constraints

    return shipped_constraints().get(name)


def _pyplot():
    require("matplotlib", "posterior bands")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def band_figures(samples, config, mr_path: Path, eos_path: Path, title: str = "") -> None:
    """Write the M-R band and the EoS bands of a run's equally weighted ``samples`` (NMPs)."""
    from .constraints import Context

    plt = _pyplot()
    ctx = Context.from_nmp(_draws(np.asarray(samples), config.sampler.seed), config.prior.masses)
    _mass_radius_figure(plt, [(ctx, "")], mr_path, title)
    _eos_figure(plt, [(ctx, "")], eos_path, title)


def _mass_radius_figure(plt, runs, path: Path, title: str) -> None:
    """R at each mass, 68 % and 95 % of the draws reaching it, for ``runs`` (a list of (Context, label)):
    the first filled (with its median), the others outlined (68 % solid, 95 % dashed); with the shipped
    pulsar-mass and NICER intervals."""
    from ..stars.plots import _measurements

    colours = ("#1f77b4", "#d62728", "#2ca02c")
    masses = np.linspace(0.8, 2.8, 81)
    fig, ax = plt.subplots(figsize=(6.2, 5.8))
    _measurements(ax)
    for i, ((ctx, label), colour) in enumerate(zip(runs, colours)):
        band = mass_radius_band(ctx.stars(), masses)
        prefix = f"{label}: " if label else ""
        for lo, hi, alpha, name in LEVELS:
            a, b = band[(lo, hi)]
            if i == 0:
                ax.fill_betweenx(
                    masses, a, b, color=colour, alpha=alpha, lw=0, label=f"{prefix}{name} of the draws"
                )
            else:
                style = "-" if name == "68 %" else "--"
                ax.plot(a, masses, style, color=colour, lw=1.4, label=f"{prefix}{name} of the draws")
                ax.plot(b, masses, style, color=colour, lw=1.4)
        if i == 0:
            ax.plot(band["median"], masses, color=colour, lw=1.5, label=f"{prefix}median radius")
    ax.set_xlabel("radius R [km]")
    ax.set_ylabel("gravitational mass M [Msun]")
    ax.set_xlim(9, 16)
    ax.set_ylim(0.8, 2.8)
    draws = ", ".join(str(len(ctx)) for ctx, _ in runs)
    ax.set_title(
        f"radius at each mass ({draws} draws; band over the draws reaching that mass)\n{title}", fontsize=8
    )
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=130, bbox_inches="tight")  # the legend below the axes stays in the file
    plt.close(fig)


def _eos_figure(plt, runs, path: Path, title: str) -> None:
    """The three EoS panels for ``runs``, a list of (Context, label): the first run filled, others outlined."""
    eps = np.geomspace(100.0, 1500.0, 60)
    x = np.linspace(0.3, 4.6, 60)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.6))
    colours = (("#d62728", "#2ca02c", "#9467bd"), ("#1f77b4", "#ff7f0e", "#8c564b"))
    for i, (ctx, label) in enumerate(runs):
        b = eos_bands(ctx, eps, x)
        prefix = f"{label}: " if label else ""
        for ax, key, grid, colour in zip(axes, ("P_eps", "P_snm", "S"), (eps, x, x), colours[min(i, 1)]):
            _shade(ax, grid, b[key], colour, prefix, filled=i == 0)
    _eos_axes(axes)
    draws = ", ".join(str(len(ctx)) for ctx, _ in runs)
    fig.suptitle(f"EoS of {draws} posterior draws: {title}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def _eos_axes(axes) -> None:
    """Scales, labels and the shipped heavy-ion constraints of the three EoS panels."""
    ax = axes[0]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("energy density eps [MeV fm^-3]")
    ax.set_ylabel("pressure P [MeV fm^-3]")
    ax.set_title("beta-equilibrated n, p, e, mu matter", fontsize=9)
    ax = axes[1]
    flow = _constraint("HIC_flow_DLL2002")
    if flow is not None:
        ax.errorbar(
            flow.density_n0,
            0.5 * (np.array(flow.lower) + np.array(flow.upper)),
            yerr=0.5 * (np.array(flow.upper) - np.array(flow.lower)),
            fmt="none",
            ecolor="k",
            capsize=4,
            lw=1.5,
            label="flow (Danielewicz et al. 2002), band edges",
        )
    ax.set_yscale("log")
    ax.set_ylim(0.5, 400)
    ax.set_xlabel("n / rho0 (each draw's own rho0)")
    ax.set_ylabel("pressure of symmetric matter [MeV fm^-3]")
    ax.set_title("symmetric matter", fontsize=9)
    ax = axes[2]
    point = _constraint("HIC_Snp_Morfouace2019")
    if point is not None:
        ax.errorbar([point.density_n0], [point.value], yerr=[point.sigma], fmt="ks", ms=4, capsize=3,
                    label="n/p ratios (Morfouace et al. 2019), 1 sigma")  # fmt: skip
    ax.set_xlabel("n / rho0 (each draw's own rho0)")
    ax.set_ylabel("symmetry energy S [MeV]")
    ax.set_title("symmetry energy", fontsize=9)
    for ax in axes:
        ax.legend(fontsize=7, loc="upper left")


def _posterior_runs(posteriors, seed: int):
    """(Context of the draws, label) of finished runs, each inverted with its own run's masses."""
    from .constraints import Context

    return [
        (Context.from_nmp(_draws(p.samples, seed), p.summary["run"]["prior"]["masses"]), p.label)
        for p in posteriors
    ]


def compare_bands(posteriors, mr_path: Path, eos_path: Path, seed: int = 0) -> None:
    """The M-R and EoS bands of finished runs (:class:`~nucleiml.inference.Posterior`) on the same axes: the
    first run filled, the others outlined."""
    plt, runs = _pyplot(), _posterior_runs(posteriors, seed)
    title = "comparison (first run filled, others outlined)"
    _mass_radius_figure(plt, runs, mr_path, title)
    _eos_figure(plt, runs, eos_path, title)
