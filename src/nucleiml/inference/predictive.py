"""Posterior predictive check: the run's model evaluated at posterior draws, beside experiment.

Does the posterior reproduce the data it was conditioned on? For ``draws`` equally weighted posterior
samples (drawn without replacement with the run's seed), the model gives every constraining nucleus'
observables; their median and 68 % interval are reported beside the experimental value, with the
deviation of the median in units of the likelihood's width and the fraction of draws for which the model
gives observables at all (a posterior draw can still fail for a nucleus: the likelihood's floor gives it
no weight, but it is a sample of the posterior's support). Pure numpy apart from the model call.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .likelihood import experimental_table, likelihood_widths
from .posterior import QUANTILES_68
from .runfile import NEUTRON_SKIN, OBSERVABLE_UNITS, OBSERVABLES

__all__ = [
    "PREDICTIVE_DRAWS",
    "PredictiveSample",
    "Reference",
    "check_draws",
    "compare_predictive",
    "posterior_predictive",
    "reference",
    "sample_predictive",
    "summarize_predictive",
]

PREDICTIVE_DRAWS = 200
"""Posterior draws evaluated by default: the 68 % bounds to about 5 % of the interval's width (binomial
error of a 16th percentile from 200 draws), for a few seconds of solver time with the ``rmf`` model (two
nuclei on two cores)."""


class Reference(NamedTuple):
    """What predictions are set beside: the attributes of a :class:`~nucleiml.inference.Likelihood` that
    :func:`posterior_predictive` reads, for nuclei that need not have data."""

    nuclei: tuple[str, ...]
    observables: tuple[str, ...]
    experimental: np.ndarray
    """(k, m) experimental values, MeV and fm; NaN where none is shipped."""
    width: np.ndarray
    """(k, m) widths in which pulls are counted (the likelihood's: a run's tolerance times the experimental
    value, the measurement's uncertainty for neutron skins)."""


def reference(nuclei, tolerance: float, observables=(*OBSERVABLES, NEUTRON_SKIN)) -> Reference:
    """Measured values of ``observables`` of ``nuclei`` (NaN where the package has none), with the
    likelihood's widths (:func:`~nucleiml.inference.likelihood.likelihood_widths`)."""
    exp = experimental_table(nuclei, observables)
    return Reference(
        tuple(nuclei), tuple(observables), exp, likelihood_widths(nuclei, observables, tolerance)
    )


class PredictiveSample(NamedTuple):
    """The model's predictions at posterior draws (see :func:`sample_predictive`)."""

    draws: int
    """Posterior draws evaluated."""
    values: dict
    """``{nucleus: {quantity: ndarray}}``: predictions (MeV, fm) at the draws valid for that nucleus."""
    valid_fraction: dict
    """``{nucleus: float}``: fraction of the draws for which the model gave observables."""


def sample_predictive(
    model, samples: np.ndarray, nuclei, observables, *, draws: int, rng
) -> PredictiveSample:
    """Evaluate ``model`` at ``draws`` posterior samples drawn without replacement by ``rng``.

    Quantities are ``observables`` and, from models that give it (``rmf``; ``nml`` with an emulator that has
    the skin regressor, as the shipped one), ``neutron_skin`` for every
    nucleus, whether ``observables`` names it or not. ``nuclei`` must be among ``model.nuclei``.

    Raises
    ------
    ValueError
        If ``draws`` is negative or ``samples`` is not (M, 7).
    ModelError
        If the model does not cover one of ``nuclei``.
    """
    from .models import ModelError

    covered = getattr(model, "nuclei", None)
    missing = [n for n in nuclei if covered is not None and n not in covered]
    if missing:
        raise ModelError(f"the model covers {', '.join(covered)}, not {', '.join(missing)}")
    samples = np.asarray(samples, dtype=float)
    if samples.ndim != 2 or samples.shape[1] != 7:
        raise ValueError(f"samples must have shape (M, 7), got {samples.shape}")
    n = min(check_draws(draws), len(samples))
    if n == 0:
        return PredictiveSample(0, {}, {})
    chosen = samples[np.sort(rng.choice(len(samples), size=n, replace=False))]
    ev = model.evaluate(chosen)
    index = {name: j for j, name in enumerate(ev.nuclei)}
    values, valid = {}, {}
    for nucleus in nuclei:
        j = index[nucleus]
        ok = ev.valid[:, j]
        values[nucleus] = {
            obs: np.asarray(getattr(ev, obs))[ok, j] for obs in observables if obs != NEUTRON_SKIN
        }
        if ev.neutron_skin is not None:
            values[nucleus]["neutron_skin"] = ev.neutron_skin[ok, j]
        valid[nucleus] = float(ok.mean())
    return PredictiveSample(n, values, valid)


def summarize_predictive(sample: PredictiveSample, likelihood) -> dict:
    """The table of a :class:`PredictiveSample`: see :func:`posterior_predictive` for its layout."""
    table = {}
    for i, nucleus in enumerate(likelihood.nuclei):
        if nucleus not in sample.values:
            continue
        rows = {}
        for quantity, values in sample.values[nucleus].items():
            if quantity in likelihood.observables:
                o = likelihood.observables.index(quantity)
                measured, width = likelihood.experimental[i, o], likelihood.width[i, o]
            else:
                measured = width = np.nan
            rows[quantity] = _row(values, measured, width, sample.valid_fraction[nucleus], quantity)
        table[nucleus] = rows
    return {"draws": sample.draws, "nuclei": table}


def posterior_predictive(model, samples: np.ndarray, likelihood, *, draws: int, rng) -> dict:
    """Observables of the likelihood's nuclei at posterior draws, beside experiment.

    Parameters
    ----------
    model : Model
        The run's model (:mod:`nucleiml.inference.models`), open.
    samples : ndarray, shape (M, 7)
        Equally weighted posterior samples (NMPs in the order of ``NMP_NAMES``).
    likelihood : Likelihood or Reference
        The run's likelihood, or a :class:`Reference`: its ``nuclei`` (each among ``model.nuclei``),
        ``observables``, ``experimental`` values and ``width`` (NaN: no experiment, the pull is NaN).
    draws : int
        Number of samples evaluated (all of them if there are fewer); 0 skips the check.
    rng : numpy.random.Generator
        Chooses the draws.

    Returns
    -------
    dict
        ``{"draws": n, "nuclei": {nucleus: {observable: {"median", "low_68", "high_68", "experiment",
        "width", "pull", "valid_fraction", "unit"}}}}`` with ``pull = (median - experiment) / width``;
        the quantiles are over the draws for which the model gave observables (NaN if none did). Models
        that give the neutron skin add a ``neutron_skin`` row per nucleus (units:
        :data:`~nucleiml.inference.runfile.OBSERVABLE_UNITS`).

    Raises
    ------
    ValueError
        If ``draws`` is negative or ``samples`` is not (M, 7).
    """
    sample = sample_predictive(
        model, samples, likelihood.nuclei, likelihood.observables, draws=draws, rng=rng
    )
    return summarize_predictive(sample, likelihood)


def check_draws(draws) -> int:
    """``draws`` as an int.

    Raises
    ------
    ValueError
        If it is not an integer >= 0 (booleans included).
    """
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 0:
        raise ValueError(f"predictive_draws must be an integer >= 0, got {draws!r}")
    return int(draws)


def _row(values: np.ndarray, measured: float, width: float, valid_fraction: float, observable: str) -> dict:
    lo, med, hi = np.quantile(values, QUANTILES_68) if values.size else (np.nan,) * 3
    return {
        "median": float(med),
        "low_68": float(lo),
        "high_68": float(hi),
        "experiment": float(measured),
        "width": float(width),
        "pull": float((med - measured) / width),
        "valid_fraction": float(valid_fraction),
        "unit": OBSERVABLE_UNITS[observable],
    }


def compare_predictive(a: dict | None, b: dict | None) -> dict:
    """Side by side: the posterior predictive checks of two runs (``summary["posterior_predictive"]``).

    Returns
    -------
    dict
        ``{nucleus: {observable: {"median_a", "median_b", "shift"}}}`` for the nuclei and observables both
        checks hold, with ``shift = (median_b - median_a) / width`` in run A's likelihood widths (None where
        a median or the width is not finite, e.g. the skin of a nucleus with no measured skin); empty
        if a run has no check (skipped, or written before checks existed).
    """
    na, nb = (x.get("nuclei", {}) if x else {} for x in (a, b))
    out: dict = {}
    for nucleus, rows in na.items():
        for obs, ra in rows.items():
            rb = nb.get(nucleus, {}).get(obs)
            if rb is None:
                continue
            ma, mb = ra.get("median"), rb.get("median")
            w = ra.get("width")
            finite = all(v is not None and np.isfinite(v) for v in (ma, mb, w))
            out.setdefault(nucleus, {})[obs] = {
                "median_a": ma,
                "median_b": mb,
                "shift": float((mb - ma) / w) if finite else None,
            }
    return out
