"""Neutron stars: beta-equilibrium matter, crust junction, TOV + tidal Love number, sequences.

Known answers: thermodynamic consistency P = n^2 d(eps/n)/dn; beta equilibrium against the independent
uniform-matter kernels of nucleiml.eos; the Newtonian k2 of an n = 1 polytrope, (15 - pi^2) / (2 pi^2),
and its radius pi sqrt(K / 2 pi); the Schwarzschild constant-density star (radius, central pressure) and
its Newtonian k2 = 3/4 with the surface-discontinuity correction; published maximum masses of RMF sets;
convergence under refinement; the fast path against a tight DOP853 integration.
"""

from __future__ import annotations

import numpy as np
import pytest

import nucleiml
from nucleiml.constants import HBARC_MEV_FM, MEV_FM3_TO_KM2, MSUN_KM
from nucleiml.eos import ScaledCouplings, kinetic_energy_density_species, matter_state
from nucleiml.nuclear_matter import rho_meson_instability_density
from nucleiml.parameters import Couplings, ParameterError
from nucleiml.stars import (
    PointStatus,
    StarConfig,
    StarStatus,
    beta_equilibrium,
    star,
    star_batch,
    star_from_table,
)
from nucleiml.stars.crust import find_junction, glue_core, load_crust
from nucleiml.stars.matter import M_E, M_MU, beta_equilibrium_kernel, scaled_couplings_arrays
from nucleiml.stars.tov import EnthalpyTable, integrate_stars, love_number_k2, node_grid, reference_star

# A set with Lambda_v < 0 (from the NMP -> couplings map): its rho meson becomes unstable at 4.05 rho0.
NEG_LV = nucleiml.NMP(rho0=0.15, E0=-16.0, K0=240.0, Q0=-100.0, mstar=0.6, J0=32.0, L0=110.0)
# A low-L0 set of the default prior: its uniform core is unstable at 0.08 fm^-3.
LOW_L = nucleiml.NMP(rho0=0.144, E0=-16.0902, K0=228.0305, Q0=-373.9784, mstar=0.6408, J0=37.6275, L0=22.0418)
SETS = ["NL3", "FSUGold2", "IUFSU", "FSUGold"]


def _couplings(name):
    if isinstance(name, nucleiml.NMP):
        return nucleiml.couplings_from_nmp(name).couplings
    return nucleiml.get_preset(name)


def _columns(cs):
    return {k: np.array([getattr(c, k) for c in cs]) for k in Couplings.RANGES}


# --------------------------------------------------------------------------- matter
@pytest.mark.parametrize("name", [*SETS, NEG_LV])
def test_pressure_is_n2_derivative_of_energy_per_baryon_on_the_whole_grid(name):
    """P = n^2 d(eps/n)/dn to 1e-6 relative at every grid point (central differences, h = 2e-5: near the fold
    of a Lambda_v < 0 set, where c_s^2 diverges, the truncation error is 1e-7 at h = 1e-4), for sets with
    C != 0 and Lambda_v != 0 (where the omega^4 and omega-rho terms enter eps and P differently)."""
    c = _couplings(name)
    grid = StarConfig().density_grid()
    h = 2e-5
    mid = beta_equilibrium(c, grid)
    lo, hi = beta_equilibrium(c, grid * (1 - h)), beta_equilibrium(c, grid * (1 + h))
    ok = (mid.status == PointStatus.OK) & (lo.status == PointStatus.OK) & (hi.status == PointStatus.OK)
    assert ok.sum() > 60
    d = (hi.energy_density / hi.n - lo.energy_density / lo.n) / (hi.n - lo.n)
    p_fd = mid.n**2 * d
    assert np.max(np.abs(p_fd[ok] / mid.pressure[ok] - 1)) < 1e-6
    cs2_fd = (hi.pressure - lo.pressure) / (hi.energy_density - lo.energy_density)
    # c_s^2 has a square-root onset at the muon threshold: leave out the points just above it
    smooth = ok & ((lo.muon_fraction == 0) | (lo.muon_fraction > 1e-3))
    assert np.max(np.abs(cs2_fd[smooth] / mid.cs2[smooth] - 1)) < 1e-6


@pytest.mark.parametrize("name", ["FSUGold2", NEG_LV])
def test_beta_equilibrium_against_the_uniform_matter_kernels(name):
    """The nucleon energy density equals nucleiml.eos at the same asymmetry, and d eps_N / d n_p at fixed n
    (from nucleiml.eos, by central differences) is -(mu_n - mu_p) = -mu_e; charge neutrality holds and muons
    appear exactly above mu_e = m_mu."""
    c = _couplings(name)
    b = beta_equilibrium(c, np.geomspace(0.08, 0.8, 12))
    # near the fold of a Lambda_v < 0 set the omega-rho equations have a second root, which the bisection of
    # nucleiml.eos may pick: compare where the in-medium rho mass is still well away from zero
    keep = (b.status == PointStatus.OK) & (b.rho_mass_ratio > 0.3)
    b = type(b)(**{k: v[keep] for k, v in vars(b).items()})
    n = b.n
    sc = ScaledCouplings.from_couplings(c)
    x = b.proton_fraction
    mu = b.mu_e / HBARC_MEV_FM
    ke = np.sqrt(mu**2 - M_E**2)
    kmu = np.sqrt(np.maximum(mu**2 - M_MU**2, 0))
    lept = kinetic_energy_density_species(ke, M_E) + kinetic_energy_density_species(kmu, M_MU)
    nucleon = matter_state(sc, n, 1 - 2 * x).energy_density
    assert np.allclose((nucleon + lept) * HBARC_MEV_FM, b.energy_density, rtol=1e-10)
    dx = 1e-6
    up, dn = (
        matter_state(sc, n, 1 - 2 * (x + dx)).energy_density,
        matter_state(sc, n, 1 - 2 * (x - dx)).energy_density,
    )
    deps_dnp = (up - dn) / (2 * dx * n) * HBARC_MEV_FM  # d eps / d n_p at fixed n = mu_p - mu_n
    assert np.allclose(deps_dnp, -b.mu_e, rtol=2e-6)
    assert np.allclose(b.proton_fraction, b.electron_fraction + b.muon_fraction, rtol=1e-12, atol=0)
    assert np.all((b.muon_fraction > 0) == (b.mu_e > 105.6583755))


def test_rho_meson_instability_is_found_and_reported():
    """Lambda_v < 0: the in-medium rho mass falls towards zero near rho_c of symmetric matter; the chain stops
    there (never integrates through) and says so, or stops earlier where c_s^2 reaches 1."""
    c = _couplings(NEG_LV)
    rho_c = rho_meson_instability_density(c)
    b = beta_equilibrium(c, np.geomspace(0.05, 1.5, 300))
    bad = b.status != PointStatus.OK
    first = int(np.argmax(bad))
    assert bad.any() and b.n[first] < 1.05 * rho_c
    assert PointStatus(b.status[first]) in (PointStatus.RHO_UNSTABLE, PointStatus.ACAUSAL)
    assert np.all(b.rho_mass_ratio[:first] > 0) and b.rho_mass_ratio[first - 1] < b.rho_mass_ratio[0]
    res = star(NEG_LV)
    if not res.summary.ok:
        assert res.summary.status in (StarStatus.RHO_UNSTABLE, StarStatus.ACAUSAL) and res.summary.reason
        assert np.isnan(res.summary.M_max)
    assert np.all(res.sequence["n_c"] < b.n[first])


def test_acausal_sets_are_cut_and_reported():
    """On default-prior draws: every OK sequence is causal up to its maximum mass, and every sequence cut
    by acausality ends below the first acausal density of its core."""
    from nucleiml.datasets.prior import default_prior

    x = default_prior().sample(400, np.random.default_rng(7))
    batch = star_batch(x)
    s = batch.summary
    status = s["status"]
    assert np.any(status == StarStatus.ACAUSAL) and np.any(status == StarStatus.OK)
    assert np.all(s["cs2_max"][status == StarStatus.OK] < 1.0)
    assert np.all(np.isnan(s["M_max"][status == StarStatus.ACAUSAL]))
    assert not np.any(np.isnan(s["M_max"][status == StarStatus.OK]))


# --------------------------------------------------------------------------- crust and junction
def test_crust_table_is_the_published_sly4_table():
    crust = load_crust()
    assert crust.n.size == 77
    assert crust.n[-1] == pytest.approx(7.596e-2)
    assert crust.pressure[-1] == pytest.approx(5.371e32 / 1.602176634e33)  # dyn cm^-2 -> MeV fm^-3
    assert crust.energy_density[-1] == pytest.approx(1.284e14 * 2.99792458e10**2 / 1.602176634e33)
    # thermodynamics of the table: h from int dP/(eps+P) against ln of the chemical potential (eps+P)/n,
    # within the table's 4 significant figures (mu from rho and n_b is good to ~1e-3 only)
    mu = (crust.energy_density + crust.pressure) / crust.n
    # (the source's second row is off by 0.7 % in mu: n_b or rho; at P ~ 1e-17 MeV fm^-3 it does not matter)
    assert np.allclose(crust.h[2:] - crust.h[2], np.log(mu[2:] / mu[2]), atol=1.5e-3)


def test_low_l_set_is_glued_where_its_core_is_stable():
    """L0 = 22 MeV: the core pressure at 0.08 fm^-3 is below the crust's (or falls with density); the junction
    moves up, is reported, and the glued P(eps) is continuous and strictly increasing."""
    c = _couplings(LOW_L)
    cfg = StarConfig()
    core = beta_equilibrium_kernel(scaled_couplings_arrays(_columns([c])), cfg.density_grid())
    crust = load_crust().upto(cfg.crust_end)
    at_008 = int(np.argmin(np.abs(core.n[0] - 0.08)))
    assert core.pressure[0, at_008] < crust.pressure[-1] or core.cs2[0, at_008] <= 0
    j = find_junction(core, np.array([0.08]), float(crust.pressure[-1]), cfg.max_junction)
    assert j.moved[0] and 0.08 < j.density[0] < 0.12
    table, _ = glue_core(core, crust, j)
    eps, p = table.energy_density[0], table.pressure[0]
    keep = np.isfinite(eps)
    assert np.all(np.diff(eps[keep]) > 0) and np.all(np.diff(p[keep]) > 0)
    assert np.all(np.diff(table.h[0][keep]) > 0)
    res = star(LOW_L)
    assert res.summary.ok and res.summary.junction_moved
    assert res.summary.junction_density == pytest.approx(j.density[0])
    no = star(LOW_L, StarConfig(max_junction=0.085))
    assert no.summary.status == StarStatus.NO_JUNCTION and no.summary.reason
    assert no.sequence["mass"].size == 0


def test_junction_choices_move_radius_little_and_are_documented():
    """Two reasonable junctions (0.08 fm^-3 and half of rho0) move FSUGold2's R1.4 by < 0.1 km and Lambda1.4 by
    < 2 %; the docs report the spread over the default prior."""
    a, b = star("FSUGold2"), star("FSUGold2", StarConfig(junction="half_rho0"))
    assert b.summary.junction_density == pytest.approx(0.5 * 0.1505, rel=0.03)
    assert abs(a.summary.R_14 - b.summary.R_14) < 0.1
    assert abs(a.summary.Lambda_14 / b.summary.Lambda_14 - 1) < 0.02
    assert a.summary.M_max == pytest.approx(b.summary.M_max, rel=1e-3)


# --------------------------------------------------------------------------- TOV: analytic limits
def _polytrope_n1(K, h_top, k=600):
    """n = 1 polytrope P = K rho^2, eps = rho + P (MeV fm^-3), exactly as functions of h:
    rho = (e^h - 1) / (2K)."""
    h = np.linspace(0, h_top, k)
    rho = np.expm1(h) / (2 * K)
    P = K * rho**2
    deps = np.exp(2 * h) / (2 * K)  # d(rho + P)/dh = e^h d rho / dh
    return EnthalpyTable(
        h=h[None], energy_density=(rho + P)[None], pressure=P[None], deps_dh=deps[None], n=rho[None]
    )


def test_polytrope_newtonian_limit():
    """Low compactness: k2 -> (15 - pi^2) / (2 pi^2) = 0.2599 and R -> pi sqrt(K / (2 pi)) (Lane-Emden n = 1)."""
    K = 10.0  # MeV^-1 fm^3
    table = _polytrope_n1(K, 1e-5)
    grid = node_grid(table, 200, 0.0)
    s = integrate_stars(grid, np.array([0]), np.array([200]))
    assert s.compactness[0] < 2e-5
    assert s.k2[0] == pytest.approx((15 - np.pi**2) / (2 * np.pi**2), abs=1e-4)
    K_geom = K / MEV_FM3_TO_KM2
    assert s.radius[0] == pytest.approx(np.pi * np.sqrt(K_geom / (2 * np.pi)), rel=1e-4)
    # relativistic corrections are first order in C: k2 falls with compactness
    k2 = [integrate_stars(node_grid(_polytrope_n1(K, hc), 200, 0.0), np.array([0]), np.array([200])).k2[0]
          for hc in (1e-4, 1e-3, 1e-2)]  # fmt: skip
    assert k2[0] > k2[1] > k2[2]


def _constant_density(eps0, h_top, k=400):
    h = np.linspace(0, h_top, k)
    return EnthalpyTable(
        h=h[None],
        energy_density=np.full((1, k), eps0),
        pressure=(eps0 * np.expm1(h))[None],
        deps_dh=np.zeros((1, k)),
        n=np.full((1, k), np.nan),
    )


@pytest.mark.parametrize("h_c", [0.01, 0.1, 0.3])
def test_constant_density_star_is_the_schwarzschild_interior_solution(h_c):
    """eps = eps0: M = (4 pi / 3) eps0 R^3 and P_c = eps0 (1 - sqrt(1 - 2C)) / (3 sqrt(1 - 2C) - 1)."""
    eps0 = 500.0
    table = _constant_density(eps0, h_c)
    s = integrate_stars(node_grid(table, 96, 0.0), np.array([0]), np.array([96]))
    e = eps0 * MEV_FM3_TO_KM2
    R = s.radius[0]
    M = s.mass[0] * MSUN_KM
    assert M == pytest.approx(4 * np.pi / 3 * e * R**3, rel=1e-8)
    C = M / R
    root = np.sqrt(1 - 2 * C)
    assert eps0 * np.expm1(h_c) == pytest.approx(eps0 * (1 - root) / (3 * root - 1), rel=1e-7)


def test_constant_density_love_number():
    """With the surface-discontinuity correction y_R -> y_R - 3 (Newtonian), k2 -> 3/4 as C -> 0; the fast
    path agrees with a tight DOP853 integration at finite compactness."""
    low = integrate_stars(node_grid(_constant_density(500.0, 1e-6), 64, 0.0), np.array([0]), np.array([64]))
    assert low.k2[0] == pytest.approx(0.75, abs=1e-4)
    table = _constant_density(500.0, 0.2)
    fast = integrate_stars(node_grid(table, 96, 0.0), np.array([0]), np.array([96]))
    ref = reference_star(table, 0, 0.2)
    assert fast.k2[0] == pytest.approx(ref.k2[0], rel=1e-6)
    assert 0.0 < fast.k2[0] < 0.75


def test_love_number_series_matches_closed_form():
    C = np.array([0.019, 0.0199, 0.02, 0.021])
    y = np.full(4, 1.3)
    series = love_number_k2(C - 1e-12, y)
    assert np.allclose(love_number_k2(C, y), series, rtol=1e-8)


# --------------------------------------------------------------------------- published maximum masses
# Published maximum masses (data/SOURCES.md, "Neutron-star maximum masses"): given to 0.01 Msun, so the
# tolerance is half of that plus the crust's effect on Mmax (< 1e-3 Msun here).
PUBLISHED_MMAX = {"NL3": 2.77, "FSUGold2": 2.07, "IUFSU": 1.94, "FSUGold": 1.72}


@pytest.mark.parametrize("name", sorted(PUBLISHED_MMAX))
def test_published_maximum_masses(name):
    res = star(name)
    assert res.summary.ok
    assert res.summary.M_max == pytest.approx(PUBLISHED_MMAX[name], abs=0.006)


def test_fsugold_family_nuclear_matter():
    """The FSUGold and IUFSU presets (converted from the FSUGold convention) give their published NMPs."""
    fsu = nucleiml.nmp_from_couplings(nucleiml.get_preset("FSUGold"))
    iu = nucleiml.nmp_from_couplings(nucleiml.get_preset("IUFSU"))
    assert (fsu.rho0, fsu.K0, fsu.J0, fsu.L0) == pytest.approx((0.148, 230.0, 32.59, 60.5), rel=3e-3)
    assert (iu.rho0, iu.K0, iu.J0, iu.L0) == pytest.approx((0.155, 231.2, 31.30, 47.2), rel=3e-3)


# --------------------------------------------------------------------------- accuracy and batches
def test_convergence_under_refinement():
    """Doubling the core grid and the TOV nodes moves Mmax by < 1e-4, R1.4 by < 5 m, Lambda1.4 by < 0.3 %."""
    base = star("FSUGold2").summary
    fine = star("FSUGold2", StarConfig(points_per_octave=56, n_intervals=192)).summary
    assert fine.M_max == pytest.approx(base.M_max, rel=1e-4)
    assert abs(fine.R_14 - base.R_14) < 0.005
    assert fine.Lambda_14 == pytest.approx(base.Lambda_14, rel=3e-3)


def test_fast_path_against_tight_reference_integration():
    cfg = StarConfig()
    c = _couplings("NL3")
    core = beta_equilibrium_kernel(scaled_couplings_arrays(_columns([c])), cfg.density_grid())
    crust = load_crust().upto(cfg.crust_end)
    table, _ = glue_core(core, crust, find_junction(core, np.array([0.08]), float(crust.pressure[-1]), 0.16))
    grid = node_grid(table, cfg.n_intervals, cfg.stretch)
    for i in (40, 60, 80):
        fast = integrate_stars(grid, np.array([0]), np.array([i]))
        ref = reference_star(table, 0, grid.H[0, i])
        assert fast.mass[0] == pytest.approx(ref.mass[0], rel=1e-3)
        assert abs(fast.radius[0] - ref.radius[0]) < 0.01
        assert fast.Lambda[0] == pytest.approx(ref.Lambda[0], rel=5e-3)


def test_batch_results_equal_single_results_bit_for_bit():
    names = ["NL3", "FSUGold2", "IUFSU"]
    batch = star_batch([nucleiml.get_preset(n) for n in names] + [_couplings(LOW_L)])
    for i, name in enumerate([*names, LOW_L]):
        one = star(name if isinstance(name, str) else _couplings(name))
        a, b = batch.result(i).summary.to_dict(), one.summary.to_dict()
        assert all(a[k] == b[k] or (np.isnan(a[k]) and np.isnan(b[k])) for k in a)
        for k, v in one.sequence.items():
            assert np.array_equal(batch.result(i).sequence[k], v)


def test_nmp_input_and_no_couplings():
    bad = nucleiml.NMP(rho0=0.15, E0=-16, K0=240, Q0=-400, mstar=0.6, J0=30, L0=22)
    nmp = nucleiml.nmp_from_couplings(nucleiml.get_preset("FSUGold2"))
    b = star_batch([nmp, bad])
    assert b.summary["status"][1] == StarStatus.NO_COUPLINGS and np.isnan(b.summary["M_max"][1])
    assert b.summary["M_max"][0] == pytest.approx(star("FSUGold2").summary.M_max, rel=1e-6)


# --------------------------------------------------------------------------- tabulated EoS
def test_tabulated_eos_reproduces_the_couplings_chain():
    c = nucleiml.get_preset("NL3")
    b = beta_equilibrium(c, np.geomspace(0.08, 1.6, 300))
    tab = star_from_table(b.n, b.energy_density, b.pressure).summary
    direct = star("NL3").summary
    assert tab.ok and tab.junction_density == pytest.approx(0.08)
    assert tab.M_max == pytest.approx(direct.M_max, rel=1e-4)
    assert abs(tab.R_14 - direct.R_14) < 0.01
    assert tab.Lambda_14 == pytest.approx(direct.Lambda_14, rel=5e-3)


@pytest.mark.parametrize(
    ("column", "mutate", "words"),
    [
        ("P", lambda n, e, p: (n, e, np.r_[p[:5], p[4], p[6:]]), "P must increase strictly"),
        ("eps", lambda n, e, p: (n, np.r_[e[:3], np.nan, e[4:]], p), "eps[3]"),
        ("P", lambda n, e, p: (n, e, -p), "P[0]"),
        ("n_b", lambda n, e, p: (n[:-1], e, p), "different lengths"),
        ("eps", lambda n, e, p: (n, e.astype(str), p), "eps must be a 1-D array of real numbers"),
    ],
)
def test_bad_tables_are_one_line_errors(column, mutate, words):
    b = beta_equilibrium(nucleiml.get_preset("NL3"), np.geomspace(0.08, 1.0, 40))
    with pytest.raises(ParameterError, match="EoS table") as err:
        star_from_table(*mutate(b.n, b.energy_density, b.pressure))
    assert words in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("junction", 0.5),
        ("junction", "rho0"),
        ("crust_end", 0.1),
        ("n_intervals", 3),
        ("n_max", float("nan")),
    ],
)
def test_config_validation(field, value):
    with pytest.raises(ParameterError, match=f"StarConfig.{field}"):
        StarConfig(**{field: value})


def test_tabulated_eos_without_baryon_density():
    """eps and P alone: the sequence is the same (the TOV needs P(eps) only); n follows from thermodynamics
    up to one factor."""
    b = beta_equilibrium(nucleiml.get_preset("NL3"), np.geomspace(0.08, 1.6, 300))
    with_n = star_from_table(b.n, b.energy_density, b.pressure).summary
    without = star_from_table(None, b.energy_density, b.pressure).summary
    assert without.M_max == pytest.approx(with_n.M_max, rel=1e-6)
    assert without.R_14 == pytest.approx(with_n.R_14, abs=1e-3)
    assert without.n_c_M_max == pytest.approx(with_n.n_c_M_max, rel=0.03)
