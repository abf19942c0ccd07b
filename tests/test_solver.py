"""The spherical RMF solver against published tables, conservation laws, symmetries and refinement."""

import dataclasses

import numpy as np
import pytest

from nucleiml.datasets.prior import default_prior
from nucleiml.experiment import experiment
from nucleiml.nuclear_matter import couplings_from_nmp_array
from nucleiml.parameters import ParameterError
from nucleiml.presets import get_preset, reference_result
from nucleiml.solver import SolverConfig, SolverStatus, solve, solve_batch

REFERENCE_NUCLEI = ["16O", "40Ca", "48Ca", "56Ni", "90Zr", "100Sn", "132Sn", "208Pb"]
EXTRA_NUCLEI = ["34Si", "52Ca", "54Ca", "48Ni", "78Ni"]


@pytest.mark.parametrize("preset", ["NL3", "FSUGold2"])
@pytest.mark.parametrize(
    "nucleus", [*REFERENCE_NUCLEI, *(pytest.param(n, marks=pytest.mark.slow) for n in EXTRA_NUCLEI)]
)
def test_matches_published_coordinate_space_results(preset, nucleus):
    """Carlson, Dutra, Lourenco, Margueron (arXiv:2209.03257): B within 0.2 %, Rp and Rn within 0.01 fm."""
    ref = reference_result(preset, nucleus)
    res = solve(get_preset(preset), nucleus)
    assert res.converged, res.reason
    assert res.binding_energy == pytest.approx(ref.binding_energy, rel=2e-3)
    assert res.proton_radius == pytest.approx(ref.proton_radius, abs=0.01)
    assert res.neutron_radius == pytest.approx(ref.neutron_radius, abs=0.01)
    assert res.charge_radius == pytest.approx(np.sqrt(ref.proton_radius**2 + 0.64), abs=0.01)


def test_nl3_lead_is_close_to_experiment():
    """A physics sanity check independent of the reference code: NL3 was fitted to 208Pb."""
    res = solve(get_preset("NL3"), "208Pb")
    exp = experiment("208Pb")
    assert res.binding_energy == pytest.approx(exp.binding_energy, rel=5e-3)
    assert res.charge_radius == pytest.approx(exp.charge_radius, abs=0.03)


@pytest.mark.parametrize("nucleus", ["16O", "48Ca", "90Zr"])
def test_particle_numbers_are_exact(nucleus):
    res = solve(get_preset("FSUGold2"), nucleus, densities=True)
    d = res.densities
    r, h = d["r"], d["r"][1] - d["r"][0]
    Z = 4 * np.pi * h * np.sum(d["rho_p"] * r**2)
    N = 4 * np.pi * h * np.sum(d["rho_n"] * r**2)
    assert Z == pytest.approx(res.nucleus.Z, abs=1e-9)
    assert N == pytest.approx(res.nucleus.N, abs=1e-9)


@pytest.mark.parametrize("nucleus", ["16O", "40Ca"])
def test_isospin_symmetry_without_coulomb(nucleus):
    """N = Z without Coulomb: proton and neutron densities coincide and the rho field vanishes."""
    res = solve(get_preset("NL3"), nucleus, SolverConfig(coulomb=False), densities=True)
    d = res.densities
    assert res.converged
    np.testing.assert_allclose(d["rho_p"], d["rho_n"], atol=1e-10)
    assert np.max(np.abs(d["R"])) < 1e-6
    assert res.proton_radius == pytest.approx(res.neutron_radius, abs=1e-9)
    # with Coulomb the protons are pushed out and less bound
    with_c = solve(get_preset("NL3"), nucleus)
    assert with_c.proton_radius > with_c.neutron_radius
    assert with_c.binding_energy < res.binding_energy


def test_converged_under_basis_and_grid_refinement():
    cp = get_preset("FSUGold2")
    base = solve(cp, "40Ca")
    more_shells = solve(cp, "40Ca", SolverConfig(n_shells=16))
    finer_grid = solve(cp, "40Ca", SolverConfig(grid_step=0.05, box_padding=5.0))
    assert more_shells.binding_energy == pytest.approx(base.binding_energy, rel=3e-4)
    assert more_shells.charge_radius == pytest.approx(base.charge_radius, abs=3e-3)
    # the trapezoidal rule is spectrally accurate for these even integrands: halving the step and
    # enlarging the box change B only at the level of the self-consistency tolerance
    assert finer_grid.binding_energy == pytest.approx(base.binding_energy, rel=1e-6)
    assert finer_grid.charge_radius == pytest.approx(base.charge_radius, abs=1e-6)


def test_lead_converges_in_the_number_of_shells():
    """Basis convergence study for 208Pb: 10 shells are far off; from 16 to 22 shells B moves by less
    than 0.3 MeV (2e-4) and the radii by less than 2 mfm."""
    cp = get_preset("NL3")
    coarse = solve(cp, "208Pb", SolverConfig(n_shells=10))
    runs = [solve(cp, "208Pb", SolverConfig(n_shells=n)) for n in (16, 18, 20, 22)]
    be = np.array([r.binding_energy for r in runs])
    rp = np.array([r.proton_radius for r in runs])
    rn = np.array([r.neutron_radius for r in runs])
    assert abs(coarse.binding_energy - be[-1]) > 5.0
    assert np.ptp(be) < 0.3
    assert np.ptp(rp) < 2e-3
    assert np.ptp(rn) < 2e-3


def test_batched_equals_single():
    cps = [get_preset("FSUGold2")]
    cps.append(dataclasses.replace(cps[0], g_sigma=cps[0].g_sigma * 1.002))
    cps.append(dataclasses.replace(cps[0], Lambda_v=0.01))
    batch = solve_batch(cps, "48Ca")
    for i, cp in enumerate(cps):
        single = solve(cp, "48Ca")
        assert batch.result(i).binding_energy == pytest.approx(single.binding_energy, rel=1e-9)
        assert batch.result(i).charge_radius == pytest.approx(single.charge_radius, abs=1e-9)


def test_batch_mates_do_not_change_a_result():
    """A member's result is bitwise the same alone and in a batch, also for hard prior draws, so labels
    (converged or not) belong to the parameter set and not to the chunk it was solved in."""
    rng = np.random.default_rng(3)
    n = 60
    table = default_prior().sample(n, rng)
    inv = couplings_from_nmp_array(table)
    cols = {k: v[inv.ok][:12] for k, v in inv.couplings.items()}
    cols.update(inv.masses)
    batch = solve_batch(cols, "16O")
    order = np.arange(12)[::-1]
    reordered = solve_batch({k: (v[order] if np.ndim(v) else v) for k, v in cols.items()}, "16O")
    for i in range(12):
        alone = solve_batch({k: (v[i : i + 1] if np.ndim(v) else v) for k, v in cols.items()}, "16O")
        j = int(np.flatnonzero(order == i)[0])
        for other, k in ((alone, 0), (reordered, j)):
            assert other.status[k] == batch.status[i]
            assert other.iterations[k] == batch.iterations[i]
            np.testing.assert_array_equal(other.binding_energy[k], batch.binding_energy[i])
            np.testing.assert_array_equal(other.charge_radius[k], batch.charge_radius[i])


def test_mixed_masses_in_one_batch():
    batch = solve_batch([get_preset("NL3"), get_preset("FSUGold2")], "16O")
    assert batch.converged.all()
    assert batch.binding_energy[0] == pytest.approx(reference_result("NL3", "16O").binding_energy, rel=2e-3)
    assert batch.binding_energy[1] == pytest.approx(
        reference_result("FSUGold2", "16O").binding_energy, rel=2e-3
    )


def test_partly_filled_last_level_uses_equal_filling():
    """58Ca: N = 38 leaves four neutrons in the 1f5/2 level (degeneracy 6)."""
    res = solve(get_preset("FSUGold2"), "58Ca")
    assert res.converged
    assert res.partially_filled == ("n:1f5/2",)
    (lv,) = [lv for lv in res.levels if lv.species == "n" and lv.label == "1f5/2"]
    assert lv.occupation == pytest.approx(4 / 6)
    assert sum(lv.occupation * lv.degeneracy for lv in res.levels if lv.species == "n") == pytest.approx(38)


def test_single_particle_spectrum_of_lead():
    res = solve(get_preset("NL3"), "208Pb")
    occupied = {(lv.species, lv.label): lv for lv in res.levels if lv.occupation > 0}
    # magic numbers: the last occupied levels of 208Pb
    assert ("p", "3s1/2") in occupied and ("n", "3p1/2") in occupied
    # spin-orbit splitting: j = l + 1/2 below j = l - 1/2
    assert occupied[("n", "1p3/2")].energy < occupied[("n", "1p1/2")].energy
    assert occupied[("p", "1h11/2")].energy < occupied[("p", "2d3/2")].energy + 5.0
    # Fermi energies of 208Pb are -7 to -8 MeV (experiment: -7.4 MeV neutron, -8.0 MeV proton)
    assert -9.5 < occupied[("n", "3p1/2")].energy < -6.0
    assert -9.5 < occupied[("p", "3s1/2")].energy < -6.0


def test_iteration_and_time_budgets_are_results():
    res = solve(get_preset("NL3"), "40Ca", SolverConfig(max_iterations=3))
    assert not res.converged
    assert res.status == SolverStatus.MAX_ITERATIONS
    assert np.isnan(res.binding_energy)
    assert res.reason
    res = solve(get_preset("NL3"), "208Pb", SolverConfig(time_budget=1e-4))
    assert res.status == SolverStatus.TIME_BUDGET


def test_random_prior_draws_never_raise_or_return_nan():
    """A few hundred solver runs on draws from the default prior (800 NMP draws, about 300 with physical
    couplings): every member converges or carries a status, never an exception or a NaN observable."""
    rng = np.random.default_rng(12345)
    n = 800
    table = default_prior().sample(n, rng)
    inv = couplings_from_nmp_array(table)
    cols = {k: v[inv.ok] for k, v in inv.couplings.items()}
    assert cols["g_sigma"].size > 250
    cols.update(inv.masses)
    for nucleus in ("16O", "40Ca"):
        batch = solve_batch(cols, nucleus, SolverConfig(max_iterations=200))
        conv = batch.converged
        assert set(np.unique(batch.status)) <= {int(s) for s in SolverStatus}
        assert conv.mean() > 0.5
        for key in ("binding_energy", "charge_radius", "proton_radius", "neutron_radius"):
            values = getattr(batch, key)
            assert np.all(np.isfinite(values[conv]))
            assert np.all(np.isnan(values[~conv]))
        assert np.all(batch.iterations <= 200)


def test_bad_input_gives_clear_errors():
    with pytest.raises(ParameterError, match="n_shells"):
        SolverConfig(n_shells=2)
    with pytest.raises(ParameterError, match="tolerance"):
        SolverConfig(tolerance=float("nan"))
    with pytest.raises(ParameterError, match="Couplings"):
        solve({"g_sigma": 10}, "16O")
    with pytest.raises(ValueError, match="Xx"):
        solve(get_preset("NL3"), "16Xx")


REQUIRED_NUCLEI = "16O 24O 34Si 40Ca 48Ca 52Ca 54Ca 56Ni 58Ca 68Ni 78Ni 90Zr 100Sn 132Sn 208Pb".split()


@pytest.mark.parametrize("preset", ["NL3", "FSUGold2"])
def test_all_required_nuclei_converge_near_experiment(preset):
    """Every nucleus the project needs converges; both fitted models bind them within 2 % of AME2020."""
    cp = get_preset(preset)
    for name in REQUIRED_NUCLEI:
        res = solve(cp, name)
        assert res.converged, (name, res.reason)
        assert res.binding_energy == pytest.approx(experiment(name).binding_energy, rel=0.02), name


def test_restricted_kappa_blocks_fall_back_to_all_blocks(monkeypatch):
    """Only blocks with l <= max_occupied_l are diagonalised in the loop; when that bound is wrong (here forced
    to 0 for 40Ca, whose p and d levels are occupied) the members are re-solved with all blocks and give the
    same ground state as the default solve."""
    import nucleiml.solver.api as api

    cps = [get_preset("NL3"), get_preset("FSUGold2")]
    default = [solve(cp, "40Ca") for cp in cps]
    monkeypatch.setattr(api, "max_occupied_l", lambda Z, N: 0)
    forced = [solve(cp, "40Ca") for cp in cps]
    for d, f in zip(default, forced, strict=True):
        assert f.converged
        assert f.binding_energy == pytest.approx(d.binding_energy, rel=1e-9)
        assert f.charge_radius == pytest.approx(d.charge_radius, abs=1e-9)
        assert [lv.label for lv in f.levels] == [lv.label for lv in d.levels]
