"""Occupation probabilities of single-particle levels (pure numerical kernel, energies in fm^-1).

Levels are filled in energy order. With a Fermi-Dirac width T > 0 the chemical potential is found so that
the particle number is exact; for T far below the level spacing this is the sharp filling, and where two
levels cross at the Fermi surface the particles are shared between them (equal filling).
"""

from __future__ import annotations

import numpy as np

EXP_CLIP = 700.0
"""Arguments of exp in the Fermi-Dirac function are clipped to +-700 (no overflow)."""

BRACKET_WIDTHS = 40.0
"""The chemical potential is first bracketed within this many widths T of the sharp Fermi level."""

FALLBACK_WIDTHS = 50.0
"""Where that bracket fails: from the lowest to the highest level, widened by this many widths."""

MU_TRIALS = 100
MU_STEP_TOL = 1e-13
NUMBER_TOL = 1e-12
"""The search for mu (:func:`_solve_mu`) stops after ``MU_TRIALS`` trials, when the bracket is below
``MU_STEP_TOL`` (fm^-1) or where the particle number is exact to ``NUMBER_TOL`` (relative)."""

NEWTON_POLISH_STEPS = 2
"""Newton steps on the particle number after the search, with the exact slope dN/dmu (members whose slope
is zero, i.e. a gap much wider than T at the Fermi surface, keep their mu)."""


def _fermi_dirac(energies: np.ndarray, mu: np.ndarray, T: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(np.clip((energies - mu[:, None]) / T, -EXP_CLIP, EXP_CLIP)))


def sharp_occupations(
    energies: np.ndarray, degeneracy: np.ndarray, n_particles: int | np.ndarray
) -> np.ndarray:
    """Fill levels (``energies`` (B, L), ``degeneracy`` (L,)) in energy order with ``n_particles`` (an
    integer or (B,) integers); a partly filled last level is equally filled."""
    order = np.argsort(energies, axis=-1, kind="stable")
    d_sorted = degeneracy[order]
    before = np.cumsum(d_sorted, axis=-1) - d_sorted
    count = np.clip(np.reshape(n_particles, (-1, 1)) - before, 0, d_sorted)
    occ = np.empty_like(energies)
    np.put_along_axis(occ, order, count / d_sorted, axis=-1)
    return occ


def occupations(
    energies: np.ndarray,
    degeneracy: np.ndarray,
    n_particles: int | np.ndarray,
    smearing: float | np.ndarray = 0.0,
) -> np.ndarray:
    """Occupation probabilities v in [0, 1] of levels holding ``n_particles`` nucleons.

    ``energies``: (B, L) in fm^-1; ``degeneracy``: (L,); ``n_particles``: an integer or (B,) integers (one
    call for protons and neutrons: each row is computed on its own); ``smearing``: scalar or (B,). With 0 levels are filled in
    energy order and a partly filled last level is equally filled. With ``smearing`` = T > 0 (fm^-1) the
    occupations are Fermi-Dirac functions whose chemical potential conserves the particle number exactly;
    for T far below the level spacing this is the sharp filling, and at a level crossing it shares the
    particles between the (then degenerate) crossing levels: equal filling across the crossing.
    """
    smearing = np.asarray(smearing, dtype=float)
    if np.all(smearing <= 0.0):
        return sharp_occupations(energies, degeneracy, n_particles)
    T = np.broadcast_to(smearing, energies.shape[:1])[:, None]
    n_particles = np.broadcast_to(n_particles, energies.shape[:1])
    lo, hi = _bracket_mu(energies, degeneracy, n_particles, T)
    mu = _solve_mu(energies, degeneracy, n_particles, T, lo, hi)
    work = np.empty_like(energies)
    for _ in range(NEWTON_POLISH_STEPS):  # Newton polish of the particle number
        count, slope = _count_and_slope(work, energies, degeneracy, mu, T)
        mu = mu + np.where(slope > 1e-300, (n_particles - count) / np.maximum(slope, 1e-300), 0.0)
    return _fermi_dirac(energies, mu, T)


def _one_plus_exp_into(work, energies, mu, T):
    """1 + exp(clip((e - mu) / T, -EXP_CLIP, EXP_CLIP)) per level, computed in ``work`` (same shape as
    ``energies``, overwritten; NaN kept): the denominator of the Fermi-Dirac occupation."""
    np.subtract(energies, mu[:, None], out=work)
    np.divide(work, T, out=work)
    np.minimum(work, EXP_CLIP, out=work)  # = np.clip(work, -EXP_CLIP, EXP_CLIP), NaN kept
    np.maximum(work, -EXP_CLIP, out=work)
    np.exp(work, out=work)
    np.add(work, 1.0, out=work)
    return work


def _count_and_slope(work, energies, degeneracy, mu, T):
    """Particle number at ``mu`` (B,) and its derivative dN/dmu (fm), computed in ``work`` (overwritten):
    with occupations v, N = sum(degeneracy v) and dN/dmu = sum(degeneracy v (1 - v)) / T."""
    v = np.divide(1.0, _one_plus_exp_into(work, energies, mu, T), out=work)
    count = (degeneracy * v).sum(axis=-1)
    slope = (degeneracy * v * (1.0 - v)).sum(axis=-1) / T[:, 0]
    return count, slope


def _count(energies, degeneracy, mu, T):
    """Particle number at chemical potential ``mu`` (B,): sum of degeneracy / (1 + exp(clip((e - mu) / T)))."""
    work = _one_plus_exp_into(np.empty_like(energies), energies, mu, T)
    return np.divide(degeneracy, work, out=work).sum(axis=-1)


def _bracket_mu(energies, degeneracy, n_particles, T):
    """Bracket the chemical potential around the sharp Fermi level (the widest bracket where that fails)."""
    sharp = sharp_occupations(energies, degeneracy, n_particles)
    e_in = np.max(np.where(sharp > 0.0, energies, -np.inf), axis=-1)
    e_out = np.min(np.where(sharp < 1.0, energies, np.inf), axis=-1)
    e_out = np.where(np.isfinite(e_out), e_out, e_in)
    lo = np.minimum(e_in, e_out) - BRACKET_WIDTHS * T[:, 0]
    hi = np.maximum(e_in, e_out) + BRACKET_WIDTHS * T[:, 0]
    bad = ~(
        (_count(energies, degeneracy, lo, T) <= n_particles)
        & (_count(energies, degeneracy, hi, T) >= n_particles)
    )
    lo = np.where(bad, np.min(energies, axis=-1) - FALLBACK_WIDTHS * T[:, 0], lo)
    hi = np.where(bad, np.max(energies, axis=-1) + FALLBACK_WIDTHS * T[:, 0], hi)
    return lo, hi


def _solve_mu(energies, degeneracy, n_particles, T, lo, hi):
    """Find each member's chemical potential in its bracket [lo, hi] (results never depend on batch-mates).

    Safeguarded Newton on the particle number N(mu), which increases with mu: the first trial is the
    midpoint of the bracket (for a gap at the Fermi surface much wider than T it is already exact, and the
    search ends there); each later trial is the Newton step from the last one where that lies inside the
    bracket and at most halves the previous step, else the midpoint. Every trial shrinks the bracket. A member
    stops when its particle number is within ``NUMBER_TOL`` (relative) of ``n_particles``, when its bracket is
    below ``MU_STEP_TOL`` (fm^-1), or after ``MU_TRIALS`` trials, and returns its last trial (the
    midpoint of the final bracket after the last of those). Bisection alone needs ~40 trials where a level
    is partly filled at the Fermi surface; this needs ~5-10. Only the members still searching are carried,
    in compact arrays, because at small batch sizes the cost is the per-call overhead."""
    mu_out = 0.5 * (lo + hi)
    live = np.arange(lo.size)
    e, t, n = energies, T, n_particles
    tol = NUMBER_TOL * n_particles
    work = np.empty_like(e)
    mu = 0.5 * (lo + hi)
    step = hi - lo
    for _ in range(MU_TRIALS):
        count, slope = _count_and_slope(work, e, degeneracy, mu, t)
        go = (hi - lo >= MU_STEP_TOL) & (np.abs(count - n) > tol)
        if not go.all():  # members done: record their trial, carry on with the rest
            done = ~go
            mu_out[live[done]] = mu[done]
            live, lo, hi, mu, count, slope, step = (a[go] for a in (live, lo, hi, mu, count, slope, step))
            e, t, n, tol = e[go], t[go], n[go], tol[go]
            work = work[: live.size]
            if live.size == 0:
                return mu_out
        below = count < n
        lo = np.where(below, mu, lo)
        hi = np.where(below, hi, mu)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = mu + (n - count) / slope
        use = (newton > lo) & (newton < hi) & (2.0 * np.abs(newton - mu) <= step)
        trial = np.where(use, newton, 0.5 * (lo + hi))
        step = np.abs(trial - mu)
        mu = trial
    mu_out[live] = 0.5 * (lo + hi)
    return mu_out
