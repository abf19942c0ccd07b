"""Occupations of single-particle levels: particle-number conservation, the sharp limit, and a chemical
potential that does not depend on batch-mates (bit for bit), whatever they are."""

import numpy as np
import pytest

from nucleiml.solver import occupations as occ_mod
from nucleiml.solver.occupations import occupations, sharp_occupations


def _levels(rng, n_rows, n_levels, crossings=False):
    """Level schemes (energies in fm^-1, like the kernel's) with degeneracies 2j + 1."""
    deg = rng.choice([2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0], size=n_levels)
    e = np.sort(rng.uniform(-0.3, 0.05, size=(n_rows, n_levels)), axis=1)
    if crossings:  # pairs of levels a hair apart at many places, as at a level crossing
        k = e[:, 1::4].shape[1]
        e[:, 1::4] = e[:, ::4][:, :k] + rng.normal(0.0, 1e-6, size=(n_rows, k))
    n = rng.integers(1, int(deg.sum()), size=n_rows)
    return e, deg, n


def _mu_alone(e, deg, n, T):
    """The chemical potential of each row solved on its own."""
    out = []
    for i in range(e.shape[0]):
        lo, hi = occ_mod._bracket_mu(e[i : i + 1], deg, n[i : i + 1], T[i : i + 1])
        out.append(occ_mod._solve_mu(e[i : i + 1], deg, n[i : i + 1], T[i : i + 1], lo, hi)[0])
    return np.array(out)


@pytest.mark.parametrize("crossings", [False, True])
@pytest.mark.parametrize("width", [1e-4, 1e-3, 2e-2])
def test_chemical_potential_does_not_depend_on_batch_mates(crossings, width):
    """Members stop searching at different trials (compact live arrays): a row's result is the same bit for
    bit in a batch of 40 at mixed widths as alone."""
    rng = np.random.default_rng(7)
    e, deg, n = _levels(rng, 40, 60, crossings)
    T = np.full((40, 1), width)
    T[::2] *= 0.37  # members of one call at different widths
    lo, hi = occ_mod._bracket_mu(e, deg, n, T)
    assert np.array_equal(occ_mod._solve_mu(e, deg, n, T, lo, hi), _mu_alone(e, deg, n, T))


def test_unphysical_levels_do_not_touch_other_members():
    rng = np.random.default_rng(3)
    e, deg, n = _levels(rng, 12, 30)
    e[2] = np.nan
    e[5, 7] = np.nan
    T = np.full((12, 1), 1e-3)
    lo, hi = occ_mod._bracket_mu(e, deg, n, T)
    assert np.array_equal(occ_mod._solve_mu(e, deg, n, T, lo, hi), _mu_alone(e, deg, n, T), equal_nan=True)


def test_particle_number_is_exact_and_occupations_lie_in_0_1():
    rng = np.random.default_rng(11)
    e, deg, n = _levels(rng, 50, 80, crossings=True)
    v = occupations(e, deg, n, 2e-3)
    assert np.all((v >= 0.0) & (v <= 1.0))
    np.testing.assert_allclose((v * deg).sum(axis=1), n, rtol=1e-12)


def test_narrow_width_gives_the_sharp_filling():
    # levels 1 MeV apart (0.005 fm^-1), width 1e-3 MeV: the Fermi-Dirac tails vanish
    e = np.arange(12)[None, :] * 0.005 + np.zeros((3, 1))
    deg = np.array([2.0, 4.0, 2.0, 6.0, 4.0, 2.0, 8.0, 6.0, 4.0, 2.0, 10.0, 8.0])
    n = np.array([8, 11, 20])  # a closed shell, a partly filled level, another one
    sharp = sharp_occupations(e, deg, n)
    np.testing.assert_allclose(occupations(e, deg, n, 5e-6), sharp, atol=1e-12)
    assert sharp[1, 3] == pytest.approx(3.0 / 6.0)  # 11 = 2 + 4 + 2 + 3 of 6: half filled


def test_both_species_in_one_call_equal_separate_calls():
    rng = np.random.default_rng(5)
    e, deg, _ = _levels(rng, 8, 50)
    T = np.full(4, 1.5e-3)
    Z, N = 40, 62
    together = occupations(e, deg, np.repeat([Z, N], 4), np.tile(T, 2))
    assert np.array_equal(together[:4], occupations(e[:4], deg, Z, T))
    assert np.array_equal(together[4:], occupations(e[4:], deg, N, T))


def _mu_by_bisection(e, deg, n, T):
    """Reference chemical potential: plain bisection of the particle number to the last representable bit."""
    lo = np.full(e.shape[0], e.min() - 50.0 * T.max())
    hi = np.full(e.shape[0], e.max() + 50.0 * T.max())
    for _ in range(200):
        mu = 0.5 * (lo + hi)
        below = occ_mod._count(e, deg, mu, T) < n
        lo, hi = np.where(below, mu, lo), np.where(below, hi, mu)
    return 0.5 * (lo + hi)


def test_partly_filled_fermi_level_needs_few_trials(monkeypatch):
    """Where a level at the Fermi surface is partly filled, N(mu) rises steeply within a few widths: the
    safeguarded Newton search lands on the bisection's chemical potential in a fraction of its ~40 trials."""
    e = np.arange(12)[None, :] * 0.005 + np.zeros((4, 1))  # levels 1 MeV apart
    deg = np.array([2.0, 4.0, 2.0, 6.0, 4.0, 2.0, 8.0, 6.0, 4.0, 2.0, 10.0, 8.0])
    n = np.array([9, 11, 13, 25])  # a sixth, half, five sixths of one level; 25 = 24 + 1 of 10
    T = np.full((4, 1), 0.05 / 197.327)  # 0.05 MeV, the solver's default final width
    calls = []
    real = occ_mod._count_and_slope
    monkeypatch.setattr(occ_mod, "_count_and_slope", lambda *a: calls.append(a[3].size) or real(*a))
    lo, hi = occ_mod._bracket_mu(e, deg, n, T)
    mu = occ_mod._solve_mu(e, deg, n, T, lo, hi)
    assert len(calls) <= 12
    np.testing.assert_allclose(mu, _mu_by_bisection(e, deg, n, T), rtol=0, atol=1e-12)
    np.testing.assert_allclose(occ_mod._count(e, deg, mu, T), n, rtol=1e-12)


def test_a_wide_gap_ends_the_search_at_the_first_trial(monkeypatch):
    """A closed shell (gap of 1 MeV, width 1e-3 MeV): the midpoint of the bracket already holds the
    particle number exactly, so it is the answer after one trial."""
    e = np.arange(12)[None, :] * 0.005 + np.zeros((2, 1))
    deg = np.array([2.0, 4.0, 2.0, 6.0, 4.0, 2.0, 8.0, 6.0, 4.0, 2.0, 10.0, 8.0])
    n = np.array([8, 20])
    T = np.full((2, 1), 1e-3 / 197.327)
    calls = []
    real = occ_mod._count_and_slope
    monkeypatch.setattr(occ_mod, "_count_and_slope", lambda *a: calls.append(a[3].size) or real(*a))
    lo, hi = occ_mod._bracket_mu(e, deg, n, T)
    assert np.array_equal(occ_mod._solve_mu(e, deg, n, T, lo, hi), 0.5 * (lo + hi))
    assert len(calls) == 1
