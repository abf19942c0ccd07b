"""Extrapolation of B and Rch to nuclei the emulator was not trained on (nucleiml.emulator.extrapolation)."""

import numpy as np
import pytest

from nucleiml.emulator.extrapolation import BINDING_TERMS, _binding_terms, can_extrapolate, extrapolate
from nucleiml.emulator.features import spin_orbit_sum
from nucleiml.emulator.references import ReferenceValues, select_references
from nucleiml.emulator.tables import Rows
from nucleiml.experiment import experiment
from nucleiml.nuclei import parse_nuclei
from nucleiml.parameters import ParameterError

SET2 = np.array([(n.Z, n.N) for n in parse_nuclei("set2")], dtype=float)


def _liquid_drop(Z, N, c):
    """B (MeV) of a liquid drop with a spin-orbit term: coefficients c (n, 5), one row per parameter set."""
    A = Z + N
    t = np.array(
        [
            A,
            -(A ** (2 / 3)),
            -Z * (Z - 1) / A ** (1 / 3),
            -((N - Z) ** 2) / A,
            spin_orbit_sum(Z) + spin_orbit_sum(N),
        ]
    )
    return c @ t


def _radius(Z, N, d):
    A = Z + N
    return d @ np.array([A ** (1 / 3), 1.0, (N - Z) / A, (spin_orbit_sum(Z) + spin_orbit_sum(N)) / A])


@pytest.fixture
def coefficients():
    rng = np.random.default_rng(7)
    c = np.column_stack(
        [
            rng.uniform(15, 17, 6),
            rng.uniform(16, 19, 6),
            rng.uniform(0.6, 0.8, 6),
            rng.uniform(20, 26, 6),
            rng.uniform(-0.3, 0.3, 6),
        ]
    )
    d = np.column_stack(
        [
            rng.uniform(0.9, 1.0, 6),
            rng.uniform(0.6, 1.0, 6),
            rng.uniform(-0.3, 0.0, 6),
            rng.uniform(-0.2, 0.2, 6),
        ]
    )
    return c, d


def test_values_that_follow_the_systematics_are_carried_over_exactly(coefficients):
    c, d = coefficients
    b = np.stack([_liquid_drop(Z, N, c) for Z, N in SET2], 1)
    r = np.stack([_radius(Z, N, d) for Z, N in SET2], 1)
    for Z, N in [(28, 28), (50, 50), (14, 20), (20, 40)]:
        out = extrapolate(b, r, SET2, (Z, N))
        np.testing.assert_allclose(out.binding_energy, _liquid_drop(Z, N, c), rtol=1e-10)
        np.testing.assert_allclose(out.charge_radius, _radius(Z, N, d), rtol=1e-10)


def test_radius_residuals_are_interpolated_to_nearby_nuclei(coefficients):
    """A radius off the systematics at one training nucleus (a shell effect) moves the prediction at that
    nucleus almost fully, at a neighbour by a similar amount (the kernel is 16 nucleons long) and far away
    hardly at all."""
    c, d = coefficients
    b = np.stack([_liquid_drop(Z, N, c) for Z, N in SET2], 1)
    r = np.stack([_radius(Z, N, d) for Z, N in SET2], 1)
    j = int(np.flatnonzero((SET2[:, 0] == 28) & (SET2[:, 1] == 40))[0])  # 68Ni
    bumped = r.copy()
    bumped[:, j] *= 1.01
    shift = [
        extrapolate(b, bumped, SET2, nuc).charge_radius / extrapolate(b, r, SET2, nuc).charge_radius - 1
        for nuc in [(28, 40), (28, 36), (82, 126)]
    ]
    assert np.all(shift[0] > 0.009) and np.all(shift[0] <= 0.0101)
    assert np.all(shift[1] > 0.005) and np.all(shift[1] < 0.015)
    assert np.all(np.abs(shift[2]) < 0.001)


def test_rows_are_independent(coefficients):
    c, d = coefficients
    b = np.stack([_liquid_drop(Z, N, c) for Z, N in SET2], 1) * (1 + 0.01 * np.sin(np.arange(10)))
    r = np.stack([_radius(Z, N, d) for Z, N in SET2], 1)
    whole = extrapolate(b, r, SET2, (28, 28))
    one = extrapolate(b[2:3], r[2:3], SET2, (28, 28))
    np.testing.assert_allclose(one.binding_energy, whole.binding_energy[2:3], rtol=1e-13)


def test_too_few_nuclei_or_wrong_shapes():
    assert can_extrapolate(7) and not can_extrapolate(6)
    assert _binding_terms(SET2[:, 0], SET2[:, 1]).shape[1] == BINDING_TERMS
    b = np.ones((3, 5))
    with pytest.raises(ParameterError, match="at least 7 training nuclei, got 5"):
        extrapolate(b, b, SET2[:5], (28, 28))
    with pytest.raises(ParameterError, match=r"\(n, 10\) arrays"):
        extrapolate(np.ones((3, 9)), np.ones((3, 10)), SET2, (28, 28))


def _shell(Z, N, scale):
    """A non-smooth 'shell' term (MeV or fm) that no systematics formula reproduces: the same for every
    parameter set, as shell structure nearly is between realistic sets."""
    return scale * np.sin(1.7 * Z) * np.cos(0.9 * N)


def test_reference_sets_carry_the_shell_structure_of_the_unseen_nucleus(coefficients):
    """Rows = shell term + their own systematics; references = the same shell term + other systematics.
    Through the references the rows' values at unseen nuclei come out exactly; the plain fit misses by about
    the shell term."""
    c, d = coefficients
    rows_b = np.stack([_liquid_drop(Z, N, c) + _shell(Z, N, 5.0) for Z, N in SET2], 1)
    rows_r = np.stack([_radius(Z, N, d) + _shell(Z, N, 0.02) for Z, N in SET2], 1)
    c_ref, d_ref = c[:2] * 1.01, d[:2] * 0.99  # two reference sets
    for Z, N in [(28, 28), (50, 50), (14, 20)]:
        refs = ReferenceValues(
            binding_training=np.stack([_liquid_drop(z, n, c_ref) + _shell(z, n, 5.0) for z, n in SET2], 1),
            radius_training=np.stack([_radius(z, n, d_ref) + _shell(z, n, 0.02) for z, n in SET2], 1),
            binding=_liquid_drop(Z, N, c_ref) + _shell(Z, N, 5.0),
            radius=_radius(Z, N, d_ref) + _shell(Z, N, 0.02),
        )
        true_b, true_r = _liquid_drop(Z, N, c) + _shell(Z, N, 5.0), _radius(Z, N, d) + _shell(Z, N, 0.02)
        out = extrapolate(rows_b, rows_r, SET2, (Z, N), refs)
        np.testing.assert_allclose(out.binding_energy, true_b, rtol=1e-10)
        np.testing.assert_allclose(out.charge_radius, true_r, rtol=1e-10)
        plain = extrapolate(rows_b, rows_r, SET2, (Z, N))
        assert np.max(np.abs(plain.binding_energy - true_b)) > 0.1  # MeV: the shell term is missed
    with pytest.raises(ParameterError, match=r"\(n, 10\) arrays"):
        extrapolate(rows_b, rows_r, SET2, (28, 28), refs._replace(binding_training=np.ones((2, 9))))


def _rows_near_experiment(nuclei, offsets, not_convergent=()):
    """Rows of samples s = 0, 1, ... (NMPs all equal to s) whose B and Rch deviate from experiment by
    ``offsets[s]`` (relative) in every nucleus; (sample, nucleus) pairs in ``not_convergent`` are nc_b."""
    exp = {n: experiment(n) for n in nuclei}
    sid, nuc, lab, b, r = [], [], [], [], []
    for s, off in enumerate(offsets):
        for n in nuclei:
            sid.append(s)
            nuc.append(n)
            lab.append("nc_b" if (s, n) in not_convergent else "convergent")
            b.append(exp[n].binding_energy * (1 + off))
            r.append(np.nan if exp[n].charge_radius is None else exp[n].charge_radius * (1 - off))
    n_rows = len(sid)
    return Rows(
        sample_id=np.array(sid),
        nmp=np.repeat(np.arange(float(len(offsets)))[:, None], 7, 1).repeat(len(nuclei), 0),
        Z=np.zeros(n_rows, int),
        N=np.zeros(n_rows, int),
        nucleus=np.array(list(nuclei) * len(offsets)),
        label=np.array(lab),
        binding_energy=np.array(b),
        charge_radius=np.array(r),
        neutron_skin=np.full(n_rows, np.nan),
        neutron_radius=np.full(n_rows, np.nan),
    )


def test_reference_sets_are_the_samples_closest_to_experiment():
    nuclei = ["16O", "40Ca", "208Pb"]
    offsets = [0.03, 0.001, 0.01, 0.002, 0.0]  # relative deviation of each sample from experiment
    rows = _rows_near_experiment(nuclei, offsets, not_convergent={(4, "40Ca")})  # sample 4: not convergent
    np.testing.assert_array_equal(select_references(rows, nuclei, 3)[:, 0], [1, 3, 2])
    assert select_references(rows, nuclei, 10).shape == (4, 7)  # sample 4 is left out
    assert select_references(rows, ["16O", "40Ca", "48Ca"], 3).shape == (0, 7)  # no 48Ca rows


def test_training_stores_reference_sets_only_where_it_can_extrapolate():
    """``nucleiml train`` keeps REFERENCE_COUNT references for a model of >= 7 nuclei, none for fewer."""
    from types import SimpleNamespace

    from nucleiml.emulator.references import REFERENCE_COUNT
    from nucleiml.emulator.training import _reference_nmp

    names = [n.name for n in parse_nuclei("set2")]
    offsets = np.linspace(0.05, 0.0, REFERENCE_COUNT + 3)  # the last samples are the closest
    for k in (6, 7, len(names)):
        rows = _rows_near_experiment(names[:k], offsets)
        refs = _reference_nmp(SimpleNamespace(train=rows, nuclei=tuple(names[:k])))
        if k < 7:
            assert refs == []
        else:
            expected = np.arange(len(offsets))[::-1][:REFERENCE_COUNT]
            np.testing.assert_array_equal(np.array(refs)[:, 0], expected)


def _skin(Z, N, e):
    """Droplet-model-like skins (fm) of rows with coefficients ``e`` (n, 4): a + b I + c I A^(-1/3) + d Z A^(-1/3)."""
    A = Z + N
    iso = (N - Z) / A
    return e[:, 0] + e[:, 1] * iso + e[:, 2] * iso / np.cbrt(A) + e[:, 3] * Z / np.cbrt(A)


def test_skins_of_unseen_nuclei_through_the_training_nuclei_and_the_references(coefficients):
    """Skins following the droplet-model terms plus a shell term common to all sets come out exactly at
    unseen nuclei through the references; the plain fit misses by about the shell term; without skins given,
    none come out."""
    c, d = coefficients
    rng = np.random.default_rng(5)
    e = np.column_stack(
        [
            rng.normal(0, 0.02, 6),
            rng.uniform(0.6, 1.2, 6),
            rng.normal(0, 0.5, 6),
            rng.normal(-0.004, 0.001, 6),
        ]
    )
    rows_b = np.stack([_liquid_drop(Z, N, c) for Z, N in SET2], 1)
    rows_r = np.stack([_radius(Z, N, d) for Z, N in SET2], 1)
    rows_s = np.stack([_skin(Z, N, e) + _shell(Z, N, 0.01) for Z, N in SET2], 1)
    e_ref = e[:2] * 1.05
    for Z, N in [(28, 28), (20, 34), (14, 20)]:
        refs = ReferenceValues(
            binding_training=rows_b[:2],
            radius_training=rows_r[:2],
            binding=_liquid_drop(Z, N, c[:2]),
            radius=_radius(Z, N, d[:2]),
            skin_training=np.stack([_skin(z, n, e_ref) + _shell(z, n, 0.01) for z, n in SET2], 1),
            skin=_skin(Z, N, e_ref) + _shell(Z, N, 0.01),
        )
        true = _skin(Z, N, e) + _shell(Z, N, 0.01)
        out = extrapolate(rows_b, rows_r, SET2, (Z, N), refs, neutron_skin=rows_s)
        np.testing.assert_allclose(out.neutron_skin, true, rtol=0, atol=1e-12)
        plain = extrapolate(rows_b, rows_r, SET2, (Z, N), neutron_skin=rows_s)
        assert np.max(np.abs(plain.neutron_skin - true)) > 1e-3  # fm: the shell term is missed
        assert extrapolate(rows_b, rows_r, SET2, (Z, N), refs).neutron_skin is None
    with pytest.raises(ParameterError, match=r"neutron_skin must be an \(n, 10\) array"):
        extrapolate(rows_b, rows_r, SET2, (28, 28), neutron_skin=rows_s[:, :9])
