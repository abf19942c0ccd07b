"""Constraint terms of the joint likelihood, each against a hand computation; the joint likelihood and
the reweighting against known answers."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import norm

import nucleiml
from nucleiml.inference.constraints import (
    ConstraintError,
    Context,
    get_constraints,
    parse_constraints,
    shipped_constraints,
)
from nucleiml.inference.constraints.base import log_split_normal
from nucleiml.inference.constraints.gw_tidal import GwTidal, component_masses, lambda_tilde
from nucleiml.inference.constraints.nicer import M_LO, Nicer, log_marginal_mass_radius
from nucleiml.inference.constraints.pulsar_mass import PulsarMass
from nucleiml.inference.reweight import ReweightError, kish_ess, reweight
from nucleiml.inference.runfile import RunConfig, RunConfigError
from nucleiml.inference.sampler import SamplerResult
from nucleiml.parameters import NMP_NAMES

MASSES = {"m_sigma": 500.0, "m_omega": 782.5, "m_rho": 763.0, "M": 939.0}


def _fake_stars(m_max, masses=None, radii=None, lambdas=None):
    """A Context whose star sequences are given (one row per set)."""
    m_max = np.atleast_1d(np.asarray(m_max, dtype=float))
    n = m_max.size
    seq = {
        "mass": np.atleast_2d(masses) if masses is not None else np.full((n, 2), np.nan),
        "radius": np.atleast_2d(radii) if radii is not None else np.full((n, 2), np.nan),
        "Lambda": np.atleast_2d(lambdas) if lambdas is not None else np.full((n, 2), np.nan),
    }
    ctx = Context(nmp=np.zeros((n, 7)), couplings={}, has_couplings=np.ones(n, dtype=bool))
    ctx._stars = SimpleNamespace(summary={"M_max": m_max}, sequence=seq)
    return ctx


def test_shipped_constraints_carry_references():
    shipped = shipped_constraints()
    assert {"PSR_J0740_mass", "NICER_J0030", "NICER_J0740", "GW170817", "HIC_flow_DLL2002"} <= set(shipped)
    for name, term in shipped.items():
        assert term.reference and term.summary() and term.name == name
    assert shipped["PSR_J0740_mass"].mass == 2.08 and shipped["PSR_J0740_mass"].sigma == 0.07
    assert shipped["NICER_J0740"].radius == 12.39
    assert shipped["GW170817"].lambda_tilde == 300.0


def test_pulsar_mass_is_a_gaussian_cdf():
    term = PulsarMass(name="x", mass=2.0, sigma=0.05, reference="r")
    logl, ok = term.loglike(_fake_stars([1.9, 2.0, 2.3, np.nan]))
    assert ok.tolist() == [True, True, True, False]
    assert logl[:3] == pytest.approx(np.log(norm.cdf([-2.0, 0.0, 6.0])), rel=1e-12)


def test_nicer_marginal_against_an_analytic_integral():
    """Constant radius R0 along the branch: the integral factorises into the radius density at R0 times
    the mass density's CDF over [M_LO, Mmax] (split normal, two Gaussian pieces)."""
    term = Nicer(name="x", mass=1.4, mass_minus=0.1, mass_plus=0.2, radius=12.0, radius_minus=1.0,
                 radius_plus=2.0, reference="r")  # fmt: skip
    m_max, R0 = 2.1, 12.5
    masses = np.linspace(0.5, 2.05, 30)
    logl, ok = term.loglike(_fake_stars([m_max], masses, np.full(30, R0)))
    # mass part: int_{1}^{2.1} of the split normal, times the radius density at R0, / (Mmax - 1)
    c = 2.0 / (math.sqrt(2 * math.pi) * (0.1 + 0.2))
    below = c * 0.1 * math.sqrt(2 * math.pi) * (norm.cdf(0) - norm.cdf((1.0 - 1.4) / 0.1))
    above = c * 0.2 * math.sqrt(2 * math.pi) * (norm.cdf((m_max - 1.4) / 0.2) - norm.cdf(0))
    expected = math.log((below + above) * math.exp(log_split_normal(R0, 12.0, 1.0, 2.0)) / (m_max - M_LO))
    assert ok[0] and logl[0] == pytest.approx(expected, abs=2e-5)


def test_nicer_marginal_along_a_sloping_branch_matches_quadrature():
    term = shipped_constraints()["NICER_J0030"]
    masses = np.linspace(0.6, 2.2, 40)
    radii = 13.5 - 0.8 * (masses - 0.6) ** 2
    got = log_marginal_mass_radius(masses, radii, 2.2, term.log_density)

    def f(m):
        return math.exp(term.log_density(np.array([m]), np.interp([m], masses, radii))[0])

    ref = math.log((quad(f, 1.0, 1.44, limit=200)[0] + quad(f, 1.44, 2.2, limit=200)[0]) / 1.2)
    assert got == pytest.approx(ref, abs=1e-5)
    assert (
        log_marginal_mass_radius(masses[masses > 1.1], radii[masses > 1.1], 2.2, term.log_density) == -np.inf
    )


def test_gw_lambda_tilde_and_marginal():
    m1, m2 = component_masses(1.186, np.array([1.0]))
    assert m1[0] == pytest.approx(m2[0]) and (m1 * m2) ** 0.6 / (m1 + m2) ** 0.2 == pytest.approx(1.186)
    assert lambda_tilde(1.4, 1.4, 400.0, 400.0) == pytest.approx(400.0)  # equal stars: Lambda-tilde = Lambda
    term = GwTidal(name="g", lambda_tilde=300, minus=230, plus=420, level=0.9, chirp_mass=1.186, q_min=0.73,
                   reference="r")  # fmt: skip
    # a constant Lambda(M) = L: Lambda-tilde(q) = L f(q) with the mass-weighting factor f; compare with an
    # independent quadrature over q
    masses = np.linspace(0.8, 2.2, 30)
    for lam in (150.0, 300.0, 900.0):
        logl, ok = term.loglike(_fake_stars([2.2], masses, np.full(30, 12.0), np.full(30, lam)))

        def f(q, lam=lam):
            a, b = component_masses(1.186, q)
            lt = (16 / 13) * ((a + 12 * b) * a**4 + (b + 12 * a) * b**4) / (a + b) ** 5 * lam
            return math.exp(float(term.log_density(lt)))

        ref = math.log(quad(f, 0.73, 1.0)[0] / 0.27)
        assert ok[0] and logl[0] == pytest.approx(ref, abs=1e-4)
    # an EoS whose maximum mass is below every possible heavier star is invalid, not NaN
    logl, ok = term.loglike(_fake_stars([1.2], masses, np.full(30, 12.0), np.full(30, 300.0)))
    assert not ok[0] and np.isfinite(logl[0])


def test_hic_terms_use_each_samples_own_rho0():
    """The density of a HIC point is rho0 times the given factor, rho0 of the sample: two samples with
    the same couplings but a different rho0 column evaluate S at different densities."""
    s_term, band = get_constraints(["HIC_Snp_Morfouace2019", "HIC_flow_DLL2002"])
    c = nucleiml.get_preset("FSUGold2")
    nmp = nucleiml.nmp_from_couplings(c)
    row = np.array([getattr(nmp, k) for k in NMP_NAMES])
    masses = {k: getattr(c, k) for k in ("m_sigma", "m_omega", "m_rho", "M")}
    ctx = Context.from_nmp(np.stack([row, row]), masses)
    ctx.nmp[1, 0] = 0.9 * row[0]  # same couplings, another rho0 for the density scale
    S = nucleiml.nuclear_matter.symmetry_energy(c, 0.43 * np.array([row[0], 0.9 * row[0]]))
    logl, ok = s_term.loglike(ctx)
    assert ok.all() and logl == pytest.approx(-0.5 * ((S - 16.8) / 1.2) ** 2, rel=1e-6)
    p2 = nucleiml.eos.pressure(c, 2.0 * row[0])
    blog, bok = band.loglike(ctx)
    assert bok.all() and np.isfinite(blog).all()
    assert ctx.symmetric_pressure(np.array([2 * row[0]] * 2))[0] == pytest.approx(p2, rel=1e-9)


def test_invalid_points_get_the_floor_never_nan():
    from nucleiml.inference.joint import JointLikelihood
    from nucleiml.inference.likelihood import LOGL_FLOOR, Likelihood

    like = Likelihood(("40Ca",), ("binding_energy",), np.array([[342.05]]), "gaussian", 0.02,
                      np.zeros(7), np.ones(7) * 1000)  # fmt: skip
    joint = JointLikelihood(like, get_constraints(["PSR_J0740_mass"]), MASSES)
    good = nucleiml.nmp_from_couplings(nucleiml.get_preset("FSUGold2"))
    row = np.array([getattr(good, k) for k in NMP_NAMES])
    bad = np.array([0.15, -16.0, 240.0, -400.0, 0.6, 30.0, 22.0])  # no physical couplings
    nmp = np.stack([row, bad])
    values = np.full((2, 1, 1), 342.05)
    out = joint(values, np.ones((2, 1), bool), np.zeros((2, 1)), nmp)
    assert np.all(np.isfinite(out))
    assert out[0] > -100 and out[1] < LOGL_FLOOR


def test_unknown_and_repeated_constraints_are_one_line_errors():
    with pytest.raises(ConstraintError, match="unknown constraint 'nope'; shipped: PSR_J0740_mass"):
        get_constraints(["nope"])
    with pytest.raises(ConstraintError, match="listed twice"):
        get_constraints(["GW170817", "GW170817"])
    with pytest.raises(RunConfigError, match=r"\[constraints\] use"):
        RunConfig.from_dict({"constraints": {"use": ["nope"]}})
    with pytest.raises(RunConfigError, match=r"\[constraints\] method"):
        RunConfig.from_dict({"constraints": {"use": [], "method": "mcmc"}})
    with pytest.raises(ConstraintError, match="constraint bad: sigma must be a number"):
        parse_constraints({"bad": {"kind": "pulsar_mass", "mass": 2.0, "sigma": "x"}}, "test")
    with pytest.raises(ConstraintError, match="kind must be one of"):
        parse_constraints({"bad": {"kind": "telepathy"}}, "test")


def test_reweighting_recovers_an_analytic_posterior():
    """Points from a wide Gaussian (the 'finite-nucleus posterior') reweighted by a narrow Gaussian term:
    the result is their product, mean and width as computed by hand, and Z multiplies by the term's mean."""
    rng = np.random.default_rng(5)
    x = rng.normal(0.0, 2.0, size=(40000, 7))
    res = SamplerResult("ultranest", NMP_NAMES, x, np.full(len(x), 1 / len(x)), np.zeros(len(x)), x[:2000],
                        -3.0, 0.1, len(x), 100)  # fmt: skip

    class Term:
        def terms_loglike(self, pts):
            return -0.5 * ((pts[:, 0] - 1.0) / 1.0) ** 2, np.ones(len(pts), bool), {}

    out, rec = reweight(res, Term(), np.random.default_rng(1))
    # product of N(0, 2) and N(1, 1): mean 0.8, sd sqrt(0.8)
    mean = np.sum(out.weights * out.points[:, 0])
    sd = math.sqrt(np.sum(out.weights * (out.points[:, 0] - mean) ** 2))
    assert mean == pytest.approx(0.8, abs=0.03) and sd == pytest.approx(math.sqrt(0.8), abs=0.02)
    assert out.samples[:, 0].mean() == pytest.approx(0.8, abs=0.06)
    # Z_joint / Z = E[exp(-(x-1)^2/2)] over N(0, 2) = sqrt(1/5) exp(-1/10)
    assert out.logz - res.logz == pytest.approx(math.log(math.sqrt(0.2) * math.exp(-0.1)), abs=0.02)
    assert rec["ess_joint"] == pytest.approx(kish_ess(out.weights), rel=1e-9) and rec["ess_joint"] > 5000

    class Harsh:
        def terms_loglike(self, pts):
            return -0.5 * ((pts[:, 0] - 9.0) / 0.01) ** 2, np.ones(len(pts), bool), {}

    with pytest.raises(ReweightError, match="effective samples remain"):
        reweight(res, Harsh(), np.random.default_rng(1))


def test_joint_run_end_to_end(tmp_path, capsys):
    """A small joint run with the shipped emulator: finite nuclei + a HIC point + a pulsar mass. The joint
    posterior is the finite-nucleus one reweighted; its summary lists the constraints, derived quantities
    with 68 % and 90 % intervals, the effective sample size; the bands are drawn."""
    import json

    from nucleiml.cli import main
    from nucleiml.inference import read_posterior

    run = tmp_path / "joint.toml"
    run.write_text(
        '[constraints]\nuse = ["HIC_Snp_Morfouace2019", "PSR_J0740_mass"]\n'
        "[sampler]\nlive_points = 60\nmin_ess = 60\nseed = 2\n"
    )
    code = main(
        ["infer", "--config", str(run), "--out", str(tmp_path / "out"), "--quiet", "--predictive-draws", "0"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "constraints: HIC_Snp_Morfouace2019, PSR_J0740_mass" in out and "M_max" in out
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert set(s["constraints"]) == {"HIC_Snp_Morfouace2019", "PSR_J0740_mass"}
    q = s["derived"]["quantities"]["M_max"]
    assert q["low_90"] <= q["low_68"] <= q["median"] <= q["high_68"] <= q["high_90"]
    assert s["constraints_method"]["ess_joint"] >= 100
    post = read_posterior(tmp_path / "out")
    assert post.samples.shape[1] == 7
    for name in ("mass_radius.png", "eos.png", "corner.png"):
        assert (tmp_path / "out" / name).stat().st_size > 10_000
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "out" / "posterior.parquet")
    assert {"M_max", "R_14", "Lambda_14", "S_2n0", "Ksym", "star_status"} <= set(table.column_names)
    # compare: a run against itself has zero JSD in the derived quantities too, and the M-R bands overlay
    from nucleiml.inference import compare

    rec = compare(tmp_path / "out", tmp_path / "out", tmp_path / "cmp", n_boot=0)
    assert rec["jsd_derived"] == {"M_max": 0.0, "R_14": 0.0, "Lambda_14": 0.0}
    for name in ("mass_radius_compare.png", "eos_compare.png"):
        assert (tmp_path / "cmp" / name).stat().st_size > 10_000


def test_constraints_command_lists_values_and_references(capsys):
    from nucleiml.cli import main

    assert main(["constraints"]) == 0
    out = capsys.readouterr().out
    assert "PSR_J0740_mass" in out and "Fonseca" in out and "2.08" in out and "GW170817" in out


def test_docs_list_the_shipped_constraints_from_the_data():
    from pathlib import Path

    from nucleiml.inference.constraints import constraints_table

    text = (Path(__file__).resolve().parents[1] / "docs" / "joint.md").read_text(encoding="utf-8")
    block = text.split("<!-- constraints-table -->\n", 1)[1].split("\n<!-- /constraints-table -->", 1)[0]
    assert block == constraints_table()


def test_kde_of_samples_matches_the_known_density(tmp_path):
    """Samples drawn from the split normals of NICER_J0030 (an M-R posterior of known density): the KDE term
    reproduces the analytic term's log L along real branches within the smoothing of the KDE."""
    rng = np.random.default_rng(3)
    term = shipped_constraints()["NICER_J0030"]

    def split(mode, minus, plus, n):
        side = rng.random(n) < minus / (minus + plus)
        return mode - np.abs(rng.normal(0, minus, n)) * side + np.abs(rng.normal(0, plus, n)) * ~side

    m, r = (
        split(term.mass, term.mass_minus, term.mass_plus, 20000),
        split(term.radius, term.radius_minus, term.radius_plus, 20000),
    )
    path = tmp_path / "mr.txt"
    path.write_text("# M R\n" + "\n".join(f"{a:.6f} {b:.6f}" for a, b in zip(m, r)))
    cfg = RunConfig.from_dict(
        {
            "constraints": {
                "use": ["mine", "NICER_J0030"],
                "extra": {"mine": {"kind": "mass_radius_samples", "file": str(path)}},
            }
        }
    )
    kde, exact = cfg.constraints.terms()
    nmp = np.array([[getattr(nucleiml.nmp_from_couplings(nucleiml.get_preset(n)), k) for k in NMP_NAMES]
                    for n in ("FSUGold2", "IUFSU", "FSUGold")])  # fmt: skip
    ctx = Context.from_nmp(nmp, MASSES)
    a, ok_a = kde.loglike(ctx)
    b, ok_b = exact.loglike(ctx)
    assert ok_a.all() and ok_b.all()
    # the two differ by the normalisation of the densities only up to the KDE's smoothing: compare
    # differences between EoS (the constant cancels)
    assert np.diff(a) == pytest.approx(np.diff(b), abs=0.1)


def test_tidal_samples_term_and_bad_files(tmp_path):
    rng = np.random.default_rng(4)
    q = rng.uniform(0.75, 1.0, 5000)
    m1, m2 = component_masses(1.186, q)
    lam = np.exp(rng.normal(np.log(400), 0.4, 5000))
    path = tmp_path / "gw.csv"
    path.write_text("\n".join(f"{a},{b},{c},{c}" for a, b, c in zip(m1, m2, lam)))
    (term,) = parse_constraints({"gw": {"kind": "tidal_samples", "file": str(path)}}, "test").values()
    assert term.chirp_mass == pytest.approx(1.186, rel=1e-6) and term.q_min == pytest.approx(q.min())
    masses = np.linspace(0.8, 2.2, 30)
    near, ok1 = term.loglike(_fake_stars([2.2], masses, np.full(30, 12.0), np.full(30, 400.0)))
    far, ok2 = term.loglike(_fake_stars([2.2], masses, np.full(30, 12.0), np.full(30, 1200.0)))
    assert ok1[0] and ok2[0] and near[0] > far[0] + 3  # Lambda 400 sits at the samples, 1200 far in the tail
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2 x 4\n")
    with pytest.raises(ConstraintError, match=r"bad\.txt: line 1 is not numbers"):
        parse_constraints({"gw": {"kind": "tidal_samples", "file": str(bad)}}, "test")
    bad.write_text("1 2 3 4\n" * 10)
    with pytest.raises(ConstraintError, match="10 samples; need at least 50"):
        parse_constraints({"gw": {"kind": "tidal_samples", "file": str(bad)}}, "test")
    with pytest.raises(RunConfigError, match="cannot read samples file"):
        RunConfig.from_dict(
            {"constraints": {"use": ["x"], "extra": {"x": {"kind": "tidal_samples", "file": "/none.txt"}}}}
        )


def test_rmf_derived_neutron_skins_are_the_solvers():
    """The rmf model's derived skins of 208Pb and 48Ca equal nucleiml.solve at the same couplings."""
    from nucleiml.inference import default_run_config
    from nucleiml.inference.derived import neutron_skins

    cfg = default_run_config().replace(model={"name": "rmf", "workers": 1})
    nmp = nucleiml.nmp_from_couplings(nucleiml.get_preset("FSUGold2"))
    row = np.array([[getattr(nmp, k) for k in NMP_NAMES]])
    skins = neutron_skins(cfg, row)
    c = nucleiml.couplings_from_nmp(nmp, **cfg.prior.masses).couplings
    for nucleus in ("208Pb", "48Ca"):
        ref = nucleiml.solve(c, nucleus)
        assert skins[f"skin_{nucleus}"][0] == pytest.approx(ref.neutron_radius - ref.proton_radius, abs=1e-6)


def test_terms_and_derived_spread_over_workers_equal_in_process():
    """The star chains of a joint run spread over worker processes (the rmf model's, or started for the
    run) give the in-process values bit for bit, no-coupling rows included."""
    from nucleiml._parallel import LocalExecutor
    from nucleiml.inference.derived import derived_quantities
    from nucleiml.inference.joint import MIN_TERMS_CHUNK, JointLikelihood
    from nucleiml.inference.likelihood import Likelihood

    rng = np.random.default_rng(11)
    low = np.array([0.14, -17.0, 180.0, -800.0, 0.5, 24.0, 20.0])
    high = np.array([0.17, -15.0, 320.0, 800.0, 0.8, 40.0, 120.0])
    nmp = low + (high - low) * rng.random((3 * MIN_TERMS_CHUNK, 7))
    like = Likelihood(("40Ca",), ("binding_energy",), np.array([[342.05]]), "gaussian", 0.02, low, high)
    names = ["PSR_J0740_mass", "NICER_J0030", "GW170817", "HIC_Snp_Morfouace2019", "HIC_flow_DLL2002"]
    serial = JointLikelihood(like, get_constraints(names), MASSES)
    total, valid, each = serial.terms_loglike(nmp)
    cols, status = derived_quantities(nmp, MASSES)
    assert 0 < np.count_nonzero(valid) < len(nmp)  # both kinds of rows are in the batch
    executor = LocalExecutor(2)
    try:
        spread = JointLikelihood(like, get_constraints(names), MASSES, executor=executor)
        total2, valid2, each2 = spread.terms_loglike(nmp)
        cols2, status2 = derived_quantities(nmp, MASSES, executor=executor)
    finally:
        executor.close(abort=False)
    np.testing.assert_array_equal(total2, total)
    np.testing.assert_array_equal(valid2, valid)
    for name in names:
        np.testing.assert_array_equal(each2[name], each[name])
    np.testing.assert_array_equal(status2, status)
    for key, col in cols.items():
        np.testing.assert_array_equal(cols2[key], col)


def test_symmetry_slope_at_saturation_is_the_nmp_l0_and_the_term_a_gaussian():
    """L(n) = 3 n dS/dn of the constraint context at each set's own rho0 is the NMP L0 (FSUGold2, NL3 and
    prior draws); the SpiRIT term is the Gaussian of the interval's centre and half-width; a reversed
    interval is a one-line error."""
    from nucleiml.inference.constraints.symmetry_slope import symmetry_slope

    rows = []
    for name in ("FSUGold2", "NL3"):
        nmp = nucleiml.nmp_from_couplings(nucleiml.get_preset(name))
        rows.append([getattr(nmp, k) for k in NMP_NAMES])
    rng = np.random.default_rng(5)
    low = np.array([0.14, -17.0, 180.0, -800.0, 0.5, 24.0, 20.0])
    high = np.array([0.17, -15.0, 320.0, 800.0, 0.8, 40.0, 120.0])
    rows = np.vstack([rows, low + (high - low) * rng.random((40, 7))])
    ctx = Context.from_nmp(rows, MASSES)
    ok = ctx.has_couplings
    assert ok[:2].all() and np.count_nonzero(ok) >= 10
    slope = symmetry_slope(ctx, ctx.rho0)
    np.testing.assert_allclose(slope[ok], rows[ok, 6], rtol=1e-6)
    assert np.all(np.isnan(slope[~ok]))
    (term,) = get_constraints(["HIC_L_SpiRIT2021"])
    assert (term.low, term.high, term.density_n0) == (42.0, 117.0, 1.0)
    logl, valid = term.loglike(ctx)
    np.testing.assert_array_equal(valid, ok)
    np.testing.assert_allclose(logl[ok], -0.5 * ((rows[ok, 6] - 79.5) / 37.5) ** 2, rtol=1e-6)
    bad = {"kind": "symmetry_slope", "density_n0": 1.0, "low": 90.0, "high": 40.0}
    with pytest.raises(ConstraintError, match=r"^constraint X: high must exceed low"):
        parse_constraints({"X": bad}, "run file")


def test_rmf_skins_on_the_runs_workers_equal_in_process_and_leave_them_running():
    """An rmf run's derived skins use the run's workers (no second pool): the values equal the in-process
    ones to round-off and the shared executor is still usable after the skins' model is closed."""
    from nucleiml._parallel import LocalExecutor
    from nucleiml.inference import default_run_config
    from nucleiml.inference.derived import neutron_skins
    from nucleiml.inference.models.rmf import MIN_CHUNK

    cfg = default_run_config().replace(model={"name": "rmf", "workers": 1})
    rows = []
    for name in ("FSUGold2", "NL3"):
        nmp = nucleiml.nmp_from_couplings(nucleiml.get_preset(name))
        rows.append([getattr(nmp, k) for k in NMP_NAMES])
    rows = np.repeat(np.array(rows), MIN_CHUNK, axis=0)  # two blocks: the workers do run
    alone = neutron_skins(cfg, rows)
    executor = LocalExecutor(2)
    try:
        shared = neutron_skins(cfg, rows, executor)
        assert executor.map(abs, [-1, -2]) == [1, 2]  # not closed by the skins' model
    finally:
        executor.close(abort=False)
    for key, col in alone.items():  # workers run single-threaded BLAS: equal to round-off, not bit for bit
        np.testing.assert_allclose(shared[key], col, rtol=1e-12, atol=0)
