"""Solver robustness: no false convergence on the runaway branch, few and cheap non-convergences on the
default prior, and the original iteration's results kept where it converges."""

import numpy as np
import pytest

from nucleiml.datasets.prior import default_prior
from nucleiml.nuclear_matter import couplings_from_nmp_array
from nucleiml.parameters import Couplings
from nucleiml.presets import get_preset
from nucleiml.solver import SolverConfig, SolverStatus, api, scf, solve, solve_batch
from nucleiml.solver.fixed_point import physical_fields

HBARC = 197.3269804

# A > 0, B < 0: the sigma self-interaction is unbounded below. An earlier version reported a false
# convergence at B = 1230 MeV for 208Pb with S ~ -2000 MeV at the centre; an independent coordinate-space
# code finds the ground state at B = 1597.1 MeV, Rp = 5.343 fm, Rn = 5.501 fm.
RUNAWAY_PRONE = Couplings(
    g_sigma=8.883671,
    g_omega=10.897349,
    g_rho=13.237323,
    A=10.658711,
    B=-18.507802,
    C=4.5e-05,
    Lambda_v=0.113437,
    m_sigma=500.0,
    m_omega=782.5,
    m_rho=763.0,
    M=939.0,
)


def test_unbounded_sigma_potential_finds_the_reference_ground_state():
    res = solve(RUNAWAY_PRONE, "208Pb", densities=True)
    assert res.converged, res.reason
    assert res.binding_energy == pytest.approx(1597.1, rel=3e-3)
    assert res.proton_radius == pytest.approx(5.343, abs=0.015)
    assert res.neutron_radius == pytest.approx(5.501, abs=0.015)
    S = res.densities["S"]
    assert S.min() > 0.0  # MeV: the scalar field is attractive everywhere
    assert S[0] == pytest.approx(S.max(), rel=0.05)  # ... and deepest near the centre


def _runaway_start(original):
    """Starting fields with the scalar field pushed across the barrier of the unbounded potential near the
    centre (S = -2000 MeV for r < 2 fm), as in the false convergence reported before."""

    def start(r, Z, N, p, from_matter):
        S, V, R, Vc = original(r, Z, N, p, from_matter)
        if not from_matter:
            S = S.copy()
            S[:, r < 2.0] = -2000.0 / HBARC
        return S, V, R, Vc

    return start


def _kernel(cols: dict, nucleus: str, scheme, max_iter: int):
    """run_scf on the members of ``cols`` (arrays, masses 500/782.5/763/939 MeV) with the default settings."""
    cfg = SolverConfig()
    nuc = api.parse_nucleus(nucleus)
    b = api._oscillator_length(nuc.A, 939.0)
    n_shells = api.default_shells(nuc.A)
    basis = api._basis(n_shells, b, cfg.grid_step, cfg.box_padding)
    green = api._green(n_shells, b, cfg.grid_step, cfg.box_padding, (500.0, 782.5, 763.0))
    kc = api._kernel_couplings(cols, np.arange(cols["g_sigma"].size), 939.0)
    out = scf.run_scf(
        basis,
        green,
        kc,
        nuc.Z,
        nuc.N,
        max_iter=max_iter,
        l_max=scf.max_occupied_l(nuc.Z, nuc.N),
        scheme=scheme,
        **api._kernel_settings(cfg),
    )
    return out, nuc.A * 939.0 - out.energy * HBARC - api.center_of_mass_correction(nuc.A)


def test_forced_runaway_is_never_reported_converged(monkeypatch):
    monkeypatch.setattr(scf, "initial_fields", _runaway_start(scf.initial_fields))
    # the primary iteration alone, started on the runaway branch, must not end CONVERGED ...
    cols = {
        k: np.array([getattr(RUNAWAY_PRONE, k)])
        for k in ("g_sigma", "g_omega", "g_rho", "A", "B", "C", "Lambda_v")
    }
    out, _ = _kernel(cols, "40Ca", scf.PRIMARY, 300)
    assert out.status[0] != SolverStatus.CONVERGED
    assert SolverStatus(int(out.status[0])).message
    # ... and with the stabilized fallback (which starts from nuclear-matter fields) it finds the ground state
    full = solve(RUNAWAY_PRONE, "40Ca", densities=True)
    assert full.converged, full.reason
    assert full.densities["S"].min() > 0.0
    assert full.binding_energy == pytest.approx(342.05, rel=0.05)  # AME2020 40Ca: 342.05 MeV


def test_wrong_sign_fields_are_unphysical():
    r = np.linspace(0.1, 10, 100)
    good = np.outer([1.0], 2.0 / (1 + np.exp(r - 5)))
    zero = np.zeros_like(good)
    assert physical_fields((good, good, zero, zero))[0]
    bad_s = good.copy()
    bad_s[0, :10] = -2.0 / HBARC  # -2 MeV near the centre
    assert not physical_fields((bad_s, good, zero, zero))[0]
    assert not physical_fields((good, -good, zero, zero))[0]
    assert "wrong sign" in SolverStatus.WRONG_SIGN.message
    assert "residual" in SolverStatus.STALLED.message


def _prior_couplings(n_draws: int, seed: int) -> dict:
    table = default_prior().sample(n_draws, np.random.default_rng(seed))
    inv = couplings_from_nmp_array(table)
    cols = {k: v[inv.ok] for k, v in inv.couplings.items()}
    cols.update(inv.masses)
    return cols


def test_primary_results_are_kept_bit_for_bit():
    """Members the original iteration converges within its budget get exactly its result: the stabilized
    phase only ever touches the others."""
    cols = _prior_couplings(120, 7)
    batch = solve_batch(cols, "16O")
    primary, be = _kernel(cols, "16O", scf.PRIMARY, SolverConfig().primary_iterations)
    kept = primary.status == SolverStatus.CONVERGED
    assert kept.sum() > 20
    np.testing.assert_array_equal(be[kept], batch.binding_energy[kept])
    np.testing.assert_array_equal(primary.iterations[kept], batch.iterations[kept])
    # the others were re-solved, and most of them converged
    assert np.mean(batch.converged[~kept]) > 0.5


def test_presets_still_converge_in_the_primary_iteration():
    for name in ("NL3", "FSUGold2"):
        res = solve(get_preset(name), "208Pb")
        assert res.converged
        assert res.iterations <= SolverConfig().primary_iterations


# A default-prior draw (m* = 0.514, K0 = 184 MeV) that the stabilized iteration leaves STALLED for 40Ca: its
# levels near the Fermi surface reorder from one sharp filling to the next. The annealed phase converges it.
COMPACT = {
    "g_sigma": 14.695343018171503,
    "g_omega": 18.427130617573752,
    "g_rho": 7.4830904542817205,
    "A": 43.53638044210926,
    "B": 53.262516997917785,
    "C": 0.012384201278254424,
    "Lambda_v": 0.00663029152930143,
}


def test_annealed_phase_reaches_a_sharp_filling_self_consistent_state():
    cols = {k: np.array([v]) for k, v in COMPACT.items()}
    stabilized, _ = _kernel(cols, "40Ca", scf.STABILIZED, 300)
    assert stabilized.status[0] != SolverStatus.CONVERGED
    res = solve(
        Couplings(**COMPACT, m_sigma=500.0, m_omega=782.5, m_rho=763.0, M=939.0), "40Ca", densities=True
    )
    assert res.converged, res.reason
    assert res.densities["S"].min() > 0.0
    # a strongly overbound, compact nucleus (the dataset labels it nc_c): AME2020 40Ca is 342.05 MeV
    assert res.binding_energy > 1.2 * 342.05
    # the fields are a fixed point of the plain (explicit, sharp-filling) map: one more map application
    # from them changes no field by more than a few times the tolerance
    cfg = SolverConfig()
    nuc = api.parse_nucleus("40Ca")
    b = api._oscillator_length(nuc.A, 939.0)
    n_shells = api.default_shells(nuc.A)
    basis = api._basis(n_shells, b, cfg.grid_step, cfg.box_padding)
    green = api._green(n_shells, b, cfg.grid_step, cfg.box_padding, (500.0, 782.5, 763.0))
    kc = api._kernel_couplings(cols, np.arange(1), 939.0)
    p = scf.make_problem(basis, green, kc, nuc.Z, nuc.N, True, None, False, False)
    x = np.concatenate(
        [np.interp(basis.r, res.densities["r"], res.densities[k]) for k in ("S", "V", "R", "Vc")]
    )
    x = x[None, :] / HBARC
    new = scf.fixed_point_map(p, x, np.arange(1), np.array([cfg.smearing / HBARC]))
    assert np.max(np.abs(new.x_new - x)) * HBARC < 10 * cfg.tolerance  # MeV


@pytest.mark.slow
def test_non_convergence_on_the_default_prior_is_rare():
    """Issue targets on default-prior draws with physical couplings: nc_b at most 5 % for 208Pb and 2 % for
    40Ca (measured on 572 such draws: 0.7 % and 1.4 %; the original iteration alone: 23 % and 8.7 %; without
    the annealed phase 1.9 % and 2.3 %)."""
    cols = _prior_couplings(1500, 12345)
    assert cols["g_sigma"].size > 500
    for nucleus, bound in (("208Pb", 0.05), ("40Ca", 0.02)):
        batch = solve_batch(cols, nucleus)
        assert np.mean(~batch.converged) <= bound, nucleus


def test_without_primary_phase_the_same_ground_states_of_published_sets():
    """primary_iterations=0 starts every member in the stabilized iteration: a different path to the same
    self-consistent state for published sets (B to 1e-6, radii to 1e-5 fm: the tolerance of 1e-4 MeV on the
    fields), in fewer iterations; the issue's runaway-prone example still reaches the reference."""
    fast = SolverConfig(primary_iterations=0)
    for name in ("NL3", "FSUGold2"):
        for nuc in ("16O", "208Pb"):
            ref, res = solve(get_preset(name), nuc), solve(get_preset(name), nuc, fast)
            assert res.converged
            assert res.binding_energy == pytest.approx(ref.binding_energy, rel=1e-6)
            assert res.proton_radius == pytest.approx(ref.proton_radius, abs=1e-5)
            assert res.neutron_radius == pytest.approx(ref.neutron_radius, abs=1e-5)
            assert res.iterations < ref.iterations
    res = solve(RUNAWAY_PRONE, "208Pb", fast)
    assert res.converged and res.binding_energy == pytest.approx(1597.1, rel=3e-3)
    sets = [get_preset("NL3"), RUNAWAY_PRONE, get_preset("NLZ")]
    batch = solve_batch(sets, "40Ca", fast)  # batch mates still do not change a result, bit for bit
    for i, c in enumerate(sets):
        assert batch.binding_energy[i] == solve_batch([c], "40Ca", fast).binding_energy[0]
    with pytest.raises(ValueError, match=r"primary_iterations.*\[0, 100000\]"):
        SolverConfig(primary_iterations=-1)
