"""Likelihood against hand computation, the floor of non-convergent points, and the models behind it."""

import numpy as np
import pytest

import nucleiml
from _inference_fakes import FakeEmulator, InvertingEmulator, install_emulator_loader
from nucleiml.experiment import experiment
from nucleiml.inference import Likelihood, ModelError, default_run_config
from nucleiml.inference.likelihood import (
    BOX_OUTSIDE,
    FLOOR_SPAN,
    LOGL_FLOOR,
    LOGL_MIN_VALID,
    box_loglike,
    floor_loglike,
    gaussian_loglike,
)
from nucleiml.inference.models import Evaluation, Model, make_model
from nucleiml.inference.models.nml import EmulatorModel
from nucleiml.inference.models.rmf import RMFModel
from nucleiml.parameters import MASS_NAMES, NMP_NAMES

CFG = default_run_config()
LIKE = Likelihood.from_config(CFG)
CENTRE = 0.5 * (LIKE.low + LIKE.high)


def test_experimental_table_and_widths():
    assert LIKE.nuclei == ("40Ca", "208Pb") and LIKE.observables == ("binding_energy", "charge_radius")
    ca, pb = experiment("40Ca"), experiment("208Pb")
    want = np.array([[ca.binding_energy, ca.charge_radius], [pb.binding_energy, pb.charge_radius]])
    np.testing.assert_array_equal(LIKE.experimental, want)
    np.testing.assert_allclose(LIKE.width, 0.02 * want)
    np.testing.assert_allclose(LIKE.log_normalisation, -np.sum(np.log(0.02 * want * np.sqrt(2 * np.pi))))


def _one(values, valid=None):
    values = np.asarray(values, dtype=float)[None]
    valid = np.ones((1, 2), bool) if valid is None else np.asarray(valid)[None]
    return LIKE(values, valid, np.zeros((1, 2)), CENTRE[None])[0]


def test_gaussian_by_hand():
    y = LIKE.experimental
    vals = y * np.array([[1.01, 0.995], [0.98, 1.0]])
    z = np.array([0.01, -0.005, -0.02, 0.0]) / 0.02
    assert _one(vals) == pytest.approx(-0.5 * np.sum(z**2), rel=1e-12)
    assert _one(y) == 0.0


def test_box_plateau_and_slope():
    like = Likelihood.from_config(CFG.replace(likelihood={"shape": "box", "tolerance": 0.02}))
    y = like.experimental
    inside = y * np.array([[1.019, 0.981], [1.0, 1.01]])
    out1 = y * np.array([[1.03, 1.0], [1.0, 1.0]])  # 0.5 half-widths outside
    out2 = y * np.array([[1.05, 1.0], [1.0, 1.0]])  # 1.5 half-widths outside
    v = np.stack([y, inside, out1, out2])
    ll = like(v, np.ones((4, 2), bool), np.zeros((4, 2)), np.tile(CENTRE, (4, 1)))
    assert ll[0] == 0.0 and ll[1] == 0.0
    assert ll[2] == pytest.approx(BOX_OUTSIDE - 0.5) and ll[3] == pytest.approx(BOX_OUTSIDE - 1.5)
    np.testing.assert_array_equal(box_loglike(v, y, like.width), ll)


def test_pure_functions_reduce_over_all_but_first_axis():
    v = np.array([[1.0, 2.0], [3.0, 5.0]])
    np.testing.assert_allclose(
        gaussian_loglike(v, np.array([1.0, 1.0]), np.array([1.0, 2.0])), [-0.125, -4.0]
    )


def test_floor_is_finite_far_below_valid_and_slopes():
    k = 2
    invalid = np.array([[True, True], [True, False], [True, True], [True, True], [True, True]])
    bad = np.array([[1.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0], [np.nan, 1.0]])
    nmp = np.tile(CENTRE, (5, 1))
    nmp[3] = LIKE.high  # corner of the prior
    f = floor_loglike(invalid, bad, nmp, LIKE.low, LIKE.high)
    assert np.all(np.isfinite(f))
    assert np.all(f < LOGL_MIN_VALID) and np.all(f < LOGL_FLOOR) and np.all(f >= LOGL_FLOOR - 3 * FLOOR_SPAN)
    assert f[1] > f[0]  # fewer failed nuclei
    assert f[2] > f[0]  # judged closer to convergent
    assert f[0] > f[3]  # nearer the centre of the prior
    assert f[4] == f[0]  # NaN badness counts as 1
    assert f[0] == pytest.approx(LOGL_FLOOR - FLOOR_SPAN * (1 + 1 + 0))
    assert f[3] == pytest.approx(LOGL_FLOOR - FLOOR_SPAN * (1 + 1 + 1))
    # continuous in the NMPs: neighbouring invalid points get different values (no plateau)
    x = CENTRE + np.linspace(0, 1, 50)[:, None] * 0.3 * (LIKE.high - CENTRE)
    g = floor_loglike(np.ones((50, k), bool), np.ones((50, k)), x, LIKE.low, LIKE.high)
    assert np.all(np.diff(g) < 0)


def test_likelihood_never_nan_and_valid_always_above_floor():
    n = 6
    vals = np.tile(LIKE.experimental, (n, 1, 1))
    vals[1, 0, 0] = np.nan  # a NaN prediction flagged valid: treated as failed
    vals[2] *= 1e4  # absurd but "valid": clipped above the floor
    vals[3, 1, 1] = np.inf
    valid = np.ones((n, 2), bool)
    valid[4] = False
    valid[5, 1] = False
    vals[4] = np.nan
    vals[5, 1] = np.nan
    ll = LIKE(vals, valid, np.full((n, 2), 0.3), np.tile(CENTRE, (n, 1)))
    assert np.all(np.isfinite(ll))
    assert ll[0] == 0.0 and ll[2] == LOGL_MIN_VALID
    assert np.all(ll[[1, 3, 4, 5]] < LOGL_FLOOR)
    assert ll[5] > ll[4]  # one nucleus failed rather than two
    with pytest.raises(ValueError, match="expected values"):
        LIKE(vals[:, :1], valid, np.zeros((n, 2)), np.tile(CENTRE, (n, 1)))


# ----------------------------------------------------------------------------------------------- rmf
def _nmp_row(nmp) -> np.ndarray:
    return np.array([[getattr(nmp, k) for k in NMP_NAMES]])


def test_rmf_likelihood_of_fsugold2_equals_hand_computation():
    """FSUGold2's NMPs with its own masses invert to its couplings; the model's likelihood must equal
    -1/2 sum z^2 computed by hand from nucleiml.solve, and agree with the published tables."""
    from nucleiml.presets import reference_result

    preset = nucleiml.get_preset("FSUGold2")
    x = _nmp_row(nucleiml.nmp_from_couplings(preset))
    masses = {m: getattr(preset, m) for m in MASS_NAMES}
    with RMFModel(("40Ca", "208Pb"), masses, workers=1) as model:
        assert isinstance(model, Model)
        ev = model.evaluate(x)
    assert ev.valid.all() and (ev.label == "convergent").all()
    logl = LIKE(ev.values(LIKE.observables), ev.valid, ev.badness, x)[0]
    hand = 0.0
    for j, name in enumerate(("40Ca", "208Pb")):
        res = nucleiml.solve(preset, name)
        exp = experiment(name)
        assert ev.binding_energy[0, j] == pytest.approx(res.binding_energy, rel=1e-7)
        assert ev.charge_radius[0, j] == pytest.approx(res.charge_radius, rel=1e-7)
        assert ev.neutron_skin[0, j] == pytest.approx(res.skin, rel=1e-7)
        ref = reference_result("FSUGold2", name)
        assert res.skin == pytest.approx(ref.neutron_radius - ref.proton_radius, abs=2e-3)
        assert res.binding_energy == pytest.approx(ref.binding_energy, rel=2e-4)
        assert res.charge_radius == pytest.approx(ref.charge_radius, abs=2e-3)
        for model_value, exp_value in (
            (res.binding_energy, exp.binding_energy),
            (res.charge_radius, exp.charge_radius),
        ):
            hand += -0.5 * ((model_value - exp_value) / (0.02 * exp_value)) ** 2
    assert logl == pytest.approx(hand, rel=1e-6)
    assert -1.0 < logl < 0.0  # FSUGold2 reproduces both nuclei to within a few tenths of a per cent


def test_rmf_model_on_prior_draws_gives_finite_likelihood_everywhere():
    prior = CFG.prior
    s = prior.sample(8, np.random.default_rng(0))
    x = np.column_stack([s[k] for k in NMP_NAMES])
    with RMFModel(CFG.data.nuclei, prior.masses, workers=1) as model:
        ev = model.evaluate(x)
        empty = model.evaluate(np.empty((0, 7)))
    assert empty.valid.shape == (0, 2)
    labels = set(ev.label.ravel())
    assert "nc_a" in labels and "convergent" in labels
    ll = LIKE(ev.values(LIKE.observables), ev.valid, ev.badness, x)
    assert np.all(np.isfinite(ll))
    bad = ~ev.valid.all(axis=1)
    assert np.all(ll[bad] < LOGL_FLOOR) and np.all(ll[~bad] > LOGL_MIN_VALID)
    np.testing.assert_array_equal(ev.badness[ev.label == "nc_a"], 1.0)
    assert np.all(np.isnan(ev.binding_energy[~ev.valid]))


def test_rmf_solver_failure_is_nc_b_with_half_badness():
    """An iteration budget of 1 makes every solve fail: those points are nc_b, invalid, on the floor."""
    preset = nucleiml.get_preset("NL3")
    x = _nmp_row(nucleiml.nmp_from_couplings(preset))
    masses = {m: getattr(preset, m) for m in MASS_NAMES}
    with RMFModel(("40Ca",), masses, workers=1, max_iterations=1) as model:
        ev = model.evaluate(x)
    assert ev.label[0, 0] == "nc_b" and not ev.valid[0, 0] and ev.badness[0, 0] == 0.5


def test_rmf_model_errors():
    with pytest.raises(ModelError, match="masses lack M"):
        RMFModel(("40Ca",), {"m_sigma": 500.0, "m_omega": 782.5, "m_rho": 763.0})
    with pytest.raises(ModelError, match="max_iterations"):
        RMFModel(("40Ca",), CFG.prior.masses, max_iterations=0)
    m = make_model(CFG.replace(model={"name": "rmf", "workers": 1}))
    assert isinstance(m, RMFModel) and m.describe()["parallel"] == "in process"


# ----------------------------------------------------------------------------------------------- nml
def _box(cfg=CFG):
    return {k: (d.low, d.high) for k, d in cfg.prior.nmp.items()}


def test_nml_model_labels_validity_and_badness():
    em = FakeEmulator()
    model = EmulatorModel(em, ("208Pb", "Ca40"), prior_box=_box(), source="fake")
    assert isinstance(model, Model) and model.nuclei == ("208Pb", "40Ca")
    x = np.tile(CENTRE, (4, 1))
    x[1, 3] = 500.0  # Q0 beyond the fake's convergent region: nc_b
    x[2, 0] = 0.20  # rho0 outside the training box
    x[3, 4] = 0.552  # just convergent
    ev = model.evaluate(x)
    assert isinstance(ev, Evaluation)
    assert ev.valid[:, 0].tolist() == [True, False, False, True]
    assert ev.label[:, 0].tolist() == ["convergent", "nc_b", "out_of_domain", "convergent"]
    assert ev.badness[0, 0] == 0.0 and ev.badness[2, 0] == 1.0
    p = em.predict(x[1:2], "208Pb")["probabilities"][0, 0]
    assert ev.badness[1, 0] == pytest.approx(1 - p)
    assert np.isnan(ev.binding_energy[1, 0]) and np.isfinite(ev.binding_energy[0, 0])
    ll = LIKE(ev.values(LIKE.observables)[:, ::-1], ev.valid[:, ::-1], ev.badness[:, ::-1], x)
    assert np.all(np.isfinite(ll)) and np.all(ll[1:3] < LOGL_FLOOR)
    assert model.describe()["emulator_version"] == "fake-1"
    assert model.evaluate(np.empty((0, 7))).valid.shape == (0, 2)


def test_nml_model_refuses_uncovered_nuclei_and_wider_priors():
    with pytest.raises(ModelError, match=r"not trained on 48Ca; it covers 40Ca, 208Pb"):
        EmulatorModel(FakeEmulator(), ("40Ca", "48Ca"))
    box = _box()
    box["K0"] = (150.0, 320.0)
    with pytest.raises(
        ModelError, match=r"prior of K0, \[150, 320\], leaves the emulator's training domain \[180, 320\]"
    ):
        EmulatorModel(FakeEmulator(), ("40Ca",), prior_box=box)


def test_nml_model_loads_through_the_emulator_interface(monkeypatch):
    loaded = []

    def load(path=None):
        loaded.append(path)
        return FakeEmulator()

    install_emulator_loader(monkeypatch, load)
    model = make_model(CFG)
    assert isinstance(model, EmulatorModel) and loaded == [None]
    make_model(CFG.replace(model={"emulator": "/some/where"}))
    assert loaded[-1] == "/some/where"


def _draws(n, seed=0):
    s = CFG.prior.sample(n, np.random.default_rng(seed))
    return np.column_stack([s[k] for k in NMP_NAMES])


def test_rmf_local_workers_give_the_in_process_results():
    x = _draws(6, seed=1)
    with RMFModel(("40Ca",), CFG.prior.masses, workers=1) as serial:
        a = serial.evaluate(x)
    with RMFModel(("40Ca",), CFG.prior.masses, workers=2) as pool:
        assert pool.describe()["parallel"] == "2 local worker processes"
        b = pool.evaluate(x)
        assert pool._executor is not None
    assert pool._executor is None  # closed
    np.testing.assert_array_equal(a.label, b.label)
    np.testing.assert_allclose(a.binding_energy, b.binding_energy, rtol=1e-10)


def test_rmf_on_a_dask_client_gives_the_in_process_results():
    distributed = pytest.importorskip("distributed")
    x = _draws(4, seed=2)
    with RMFModel(("40Ca",), CFG.prior.masses, workers=1) as serial:
        a = serial.evaluate(x)
    with distributed.Client(
        processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None
    ) as client:
        with RMFModel(("40Ca",), CFG.prior.masses, scheduler=client) as model:
            b = model.evaluate(x)
            assert model.parallel == 1
    np.testing.assert_array_equal(a.label, b.label)
    np.testing.assert_allclose(a.binding_energy, b.binding_energy, rtol=1e-12)


def test_nml_model_inverts_once_per_batch_and_checks_masses():
    em = InvertingEmulator()
    model = EmulatorModel(em, ("40Ca", "208Pb"), prior_box=_box(), masses=dict(CFG.prior.masses))
    x = _draws(20, seed=3)
    ev = model.evaluate(x)
    assert em.inversions == 1 and em.given == [True, True]
    ok = np.asarray(nucleiml.couplings_from_nmp_array(x, **CFG.prior.masses).ok)
    np.testing.assert_array_equal(ev.label[:, 0] == "nc_a", ~ok)
    masses = dict(CFG.prior.masses, m_sigma=510.0)
    with pytest.raises(ModelError, match=r"masses differ .*m_sigma = 510 \(emulator 500\) MeV"):
        EmulatorModel(InvertingEmulator(), ("40Ca",), masses=masses)


def test_nml_model_describes_the_shipped_emulator_well_enough_to_cite():
    """summary.json's model record names the emulator's version, training date and the hashes of its
    weights and training-data card (they were 'unknown' before: the shipped Emulator has no ``version``)."""
    from nucleiml.emulator import Emulator

    d = make_model(CFG).describe()
    meta = Emulator.load().metadata
    assert d["emulator_version"] == meta["package_version"] != "unknown"
    assert d["emulator_weights_sha256"] == meta["weights_sha256"] and len(d["emulator_weights_sha256"]) == 64
    assert d["emulator_dataset_card_sha256"] == meta["dataset"]["card_sha256"]
    assert d["emulator_created"] == meta["created"] and d["nuclei"] == ["40Ca", "208Pb"]
