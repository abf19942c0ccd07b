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

MU_BISECTIONS = 100
MU_STEP_TOL = 1e-13
NUMBER_TOL = 1e-12
"""Bisection on mu stops after ``MU_BISECTIONS`` steps, when the bracket is below ``MU_STEP_TOL`` (fm^-1) or
where the particle number is exact to ``NUMBER_TOL`` (relative)."""

NEWTON_SIDE_STEPS = 8
SIDE_MARGIN = 2.0
SIDE_PROBE = 8.0
"""Points surely below and above the root are counted beyond ``SIDE_MARGIN`` number tolerances from the
particle number, after at most ``NEWTON_SIDE_STEPS`` Newton steps and a probe ``SIDE_PROBE`` tolerances
(divided by the slope) on each side. The rounding error of a count is ~1e-14 relative, far below the
tolerance of 1e-12, so a count beyond the margin decides the bisection step without doubt."""

FAST_FORWARD_SCALAR_ROWS = 8
"""Up to this many members the bisection steps known in advance are replayed in Python floats."""

NEWTON_POLISH_STEPS = 2


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
    mu = _bisect_mu(energies, degeneracy, n_particles, T, lo, hi)
    for _ in range(NEWTON_POLISH_STEPS):  # Newton polish of the particle number
        v = _fermi_dirac(energies, mu, T)
        dn = (degeneracy * v * (1.0 - v)).sum(axis=-1) / T[:, 0]
        miss = n_particles - (degeneracy * v).sum(axis=-1)
        mu = mu + np.where(dn > 1e-300, miss / np.maximum(dn, 1e-300), 0.0)
    return _fermi_dirac(energies, mu, T)


def _count(energies, degeneracy, mu, T):
    """Particle number at chemical potential ``mu`` (B,)."""
    return _count_into(np.empty_like(energies), energies, degeneracy, mu, T)


def _count_into(work, energies, degeneracy, mu, T):
    """:func:`_count` computed in the preallocated array ``work`` (same shape as ``energies``, overwritten):
    sum of degeneracy / (1 + exp(clip((e - mu) / T, -EXP_CLIP, EXP_CLIP))) over the levels."""
    np.subtract(energies, mu[:, None], out=work)
    np.divide(work, T, out=work)
    np.minimum(work, EXP_CLIP, out=work)  # = np.clip(work, -EXP_CLIP, EXP_CLIP), NaN kept
    np.maximum(work, -EXP_CLIP, out=work)
    np.exp(work, out=work)
    np.add(work, 1.0, out=work)
    np.divide(degeneracy, work, out=work)
    return work.sum(axis=-1)


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


def _bisect_mu(energies, degeneracy, n_particles, T, lo, hi):
    """Bisect each member's bracket [lo, hi] for the chemical potential (results never depend on
    batch-mates).

    The result is bit for bit that of the plain bisection (:func:`_bisect_plain` from [lo, hi]), found
    with fewer particle counts: safeguarded Newton steps first find points that are surely below and
    above the root (:func:`_sure_sides`); the levels of the bisection whose midpoint lies beyond them
    are then replayed without counting (:func:`_fast_forward`), because their outcome is known; only the
    last few levels, near the root, are counted."""
    number_tol = NUMBER_TOL * n_particles
    below, above = _sure_sides(energies, degeneracy, n_particles, T, lo, hi, number_tol)
    lo, hi, steps, done = _fast_forward(lo, hi, below, above)
    todo = np.flatnonzero(~done)
    if todo.size:
        lo[todo], hi[todo] = _bisect_plain(
            energies[todo],
            degeneracy,
            n_particles[todo],
            number_tol[todo],
            T[todo],
            lo[todo],
            hi[todo],
            MU_BISECTIONS - steps[todo],
        )
    return 0.5 * (lo + hi)


def _bisect_plain(energies, degeneracy, n_particles, number_tol, T, lo, hi, budget):
    """The plain bisection: final brackets (lo, hi) of each member after at most ``budget`` (B,) steps.

    A step halves [lo, hi] at mu = (lo + hi) / 2; a member stops at the step where the bracket is below
    ``MU_STEP_TOL`` or its particle number at mu is within ``number_tol`` (B,) of ``n_particles``.
    Only the members still bisecting are carried, in compact arrays, and each step reuses one work
    array (:func:`_count_into`), because at small batch sizes the cost is the per-call overhead."""
    lo_out, hi_out = lo.copy(), hi.copy()
    live = np.arange(lo.size)
    lo, hi, e, t, n, tol = lo.copy(), hi.copy(), energies, T, n_particles, number_tol
    work = np.empty_like(e)
    for step in range(int(budget.max(initial=0))):
        mu = 0.5 * (lo + hi)
        count = _count_into(work, e, degeneracy, mu, t)
        go = (step < budget) & (hi - lo >= MU_STEP_TOL) & (np.abs(count - n) > tol)
        if not go.all():  # members done: record their bracket, carry on with the rest
            done = ~go
            lo_out[live[done]], hi_out[live[done]] = lo[done], hi[done]
            live, lo, hi, mu, count = live[go], lo[go], hi[go], mu[go], count[go]
            e, t, n, tol, budget = e[go], t[go], n[go], tol[go], budget[go]
            work = work[: live.size]
            if live.size == 0:
                break
        below = count < n
        lo = np.where(below, mu, lo)
        hi = np.where(below, hi, mu)
    lo_out[live], hi_out[live] = lo, hi
    return lo_out, hi_out


def _sure_sides(energies, degeneracy, n_particles, T, lo, hi, number_tol):
    """Chemical potentials (B,) at which the particle number is surely below and surely above
    ``n_particles``: counted below n - SIDE_MARGIN tol and above n + SIDE_MARGIN tol (NaN where none was
    found). Only their existence matters for the result, their closeness to the root for the speed.

    Safeguarded Newton steps on the particle number (bisection of the working bracket where a step
    would leave it) until the count is within the margin, then one probe on each side of that point,
    SIDE_PROBE tol / slope away. Where levels are far from the root (a closed shell at a small width) the
    count is flat and no side is found; there the bisection's first midpoint is already exact."""
    below = np.full(lo.shape, np.nan)
    above = np.full(lo.shape, np.nan)
    margin = SIDE_MARGIN * number_tol
    work = np.empty_like(energies)
    w_lo, w_hi = lo, hi
    x = 0.5 * (lo + hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(NEWTON_SIDE_STEPS):
            count = _count_into(work, energies, degeneracy, x, T)
            slope = (work * (1.0 - work / degeneracy)).sum(axis=-1) / T[:, 0]
            _record_sides(below, above, x, count, n_particles, margin)
            w_lo = np.where(count < n_particles, x, w_lo)
            w_hi = np.where(count > n_particles, x, w_hi)
            near = np.abs(count - n_particles) <= margin
            if near.all():
                break
            step = x + (n_particles - count) / slope
            step = np.where((step > w_lo) & (step < w_hi), step, 0.5 * (w_lo + w_hi))
            x = np.where(near, x, step)  # members near the root stay there, for the probes
        delta = SIDE_PROBE * number_tol / slope
        for probe in (x - delta, x + delta):
            count = _count_into(work, energies, degeneracy, probe, T)
            _record_sides(below, above, probe, count, n_particles, margin)
    return below, above


def _record_sides(below, above, x, count, n_particles, margin):
    """Keep the highest point counted surely below and the lowest counted surely above (in place)."""
    np.copyto(below, np.fmax(below, x), where=count < n_particles - margin)
    np.copyto(above, np.fmin(above, x), where=count > n_particles + margin)


def _fast_forward(lo, hi, below, above):
    """Replay the bisection of [lo, hi] while its midpoints lie at or beyond the sure sides.

    A midpoint mu <= ``below`` has a particle number below n - SIDE_MARGIN tol (the count rises with mu;
    its rounding error is far below tol), so the plain bisection would move lo to mu without stopping;
    likewise mu >= ``above`` moves hi. Returns the brackets reached, the steps replayed and whether the
    bisection ended there (bracket below MU_STEP_TOL, or the step budget used up). The arithmetic is that
    of :func:`_bisect_plain`: in Python floats (IEEE doubles) for a few members, whose cost is the per-step
    overhead, and in arrays for many."""
    if lo.size <= FAST_FORWARD_SCALAR_ROWS:
        return _fast_forward_scalar(lo, hi, below, above)
    return _fast_forward_arrays(lo, hi, below, above)


def _fast_forward_scalar(lo, hi, below, above):
    lo_out, hi_out = lo.copy(), hi.copy()
    steps = np.zeros(lo.size, dtype=int)
    done = np.zeros(lo.size, dtype=bool)
    for i, (l, h, b, a) in enumerate(zip(lo.tolist(), hi.tolist(), below.tolist(), above.tolist())):
        k = 0
        while True:
            if k == MU_BISECTIONS or not h - l >= MU_STEP_TOL:
                done[i] = True
                break
            mu = 0.5 * (l + h)
            if mu <= b:
                l = mu
            elif mu >= a:
                h = mu
            else:
                break
            k += 1
        lo_out[i], hi_out[i], steps[i] = l, h, k
    return lo_out, hi_out, steps, done


def _fast_forward_arrays(lo, hi, below, above):
    lo_out, hi_out = lo.copy(), hi.copy()
    steps = np.zeros(lo.size, dtype=int)
    done = np.zeros(lo.size, dtype=bool)
    live = np.arange(lo.size)
    l, h, b, a = lo, hi, below, above
    for k in range(MU_BISECTIONS + 1):
        end = ~(h - l >= MU_STEP_TOL) | (k == MU_BISECTIONS)
        mu = 0.5 * (l + h)
        left = ~end & (mu <= b)
        move = left | (~end & (mu >= a))
        if not move.all():  # members that stop here: ended, or their next step must be counted
            stop = ~move
            lo_out[live[stop]], hi_out[live[stop]] = l[stop], h[stop]
            steps[live[stop]], done[live[stop]] = k, end[stop]
            live, l, h, b, a, mu, left = live[move], l[move], h[move], b[move], a[move], mu[move], left[move]
            if live.size == 0:
                break
        l = np.where(left, mu, l)
        h = np.where(left, h, mu)
    return lo_out, hi_out, steps, done
