"""Neutron-skin data in inference: the shipped measurements (PREX-II, CREX), the run file's
``[data] neutron_skin``, the likelihood's skin term (the measurement's uncertainty as its width), an
analytic posterior, and the solver's skin in the likelihood."""

import json

import numpy as np
import pytest

import nucleiml
from _emulator_helpers import random_emulator
from nucleiml.experiment import experiment
from nucleiml.inference import Evaluation, Likelihood, RunConfigError, default_run_config, infer
from nucleiml.inference.models import ModelError
from nucleiml.inference.runfile import RunConfig
from nucleiml.parameters import NMP_NAMES
from nucleiml.presets import reference_result

PREX2 = (0.283, 0.071)  # Adhikari et al., PRL 126, 172502 (2021)
CREX = (0.121, np.hypot(0.026, 0.024))  # Adhikari et al., PRL 129, 042501 (2022): exp and model parts
SKIN_RUN = {"data": {"nuclei": ["40Ca", "208Pb"], "neutron_skin": ["Pb208"]}, "model": {"name": "rmf"}}


def test_the_package_ships_the_prex2_and_crex_skins():
    pb, ca48 = experiment("208Pb"), experiment("48Ca")
    assert (pb.neutron_skin, pb.neutron_skin_err, pb.neutron_skin_experiment) == (*PREX2, "PREX-II")
    assert ca48.neutron_skin == CREX[0] and ca48.neutron_skin_experiment == "CREX"
    assert ca48.neutron_skin_err == pytest.approx(CREX[1], abs=1e-4)
    assert experiment("40Ca").neutron_skin is None and experiment("40Ca").neutron_skin_err is None
    from importlib import resources

    data = resources.files("nucleiml").joinpath("data")
    sources = data.joinpath("SOURCES.md").read_text(encoding="utf-8")
    assert data.joinpath("neutron_skin.csv").is_file() and "172502" in sources and "042501" in sources


def test_run_file_takes_skins_of_listed_measured_nuclei_for_either_model():
    cfg = RunConfig.from_dict(SKIN_RUN)
    assert cfg.data.neutron_skin == ("208Pb",)
    assert cfg.data.likelihood_observables == ("binding_energy", "charge_radius", "neutron_skin")
    assert RunConfig.from_record(cfg.to_dict()).data == cfg.data
    assert default_run_config().data.neutron_skin == ()
    assert default_run_config().data.likelihood_observables == ("binding_energy", "charge_radius")
    assert cfg.replace(model={"name": "nml"}).data.neutron_skin == ("208Pb",)  # the emulator has skins too
    bad = [
        ({"neutron_skin": ["40Ca"]}, "nml", "40Ca has no measured neutron skin; measured: 48Ca, 208Pb"),
        ({"neutron_skin": ["48Ca"]}, "rmf", r"lists 48Ca, which is not in \[data\] nuclei"),
        ({"neutron_skin": ["208Pb", "Pb208"]}, "rmf", "lists 208Pb twice"),
        ({"neutron_skin": "208Pb"}, "rmf", "must be a list of strings"),
        ({"neutron_skin": ["Xx9"]}, "rmf", "unknown element symbol 'Xx'"),
    ]
    for data, model, message in bad:
        with pytest.raises(RunConfigError, match=message) as info:
            RunConfig.from_dict({"data": data, "model": {"name": model}})
        assert "[data] neutron_skin" in str(info.value)


def test_skin_term_uses_the_measured_uncertainty_and_unconstrained_skins_do_not_count():
    like = Likelihood.from_config(RunConfig.from_dict(SKIN_RUN))
    assert like.observables == ("binding_energy", "charge_radius", "neutron_skin")
    assert like.used.tolist() == [[True, True, False], [True, True, True]]
    assert like.width[1, 2] == PREX2[1] and like.experimental[1, 2] == PREX2[0]
    assert like.width[1, 0] == pytest.approx(0.02 * 1636.43)
    exp = np.nan_to_num(like.experimental)
    values = np.repeat(exp[None], 4, axis=0)
    values[:, 1, 2] = PREX2[0] + PREX2[1] * np.array([0.0, 1.0, -2.0, 0.5])
    values[:, 0, 2] = np.array([np.nan, 5.0, -3.0, 0.0])  # 40Ca's skin is not in the likelihood
    valid, badness = np.ones((4, 2), dtype=bool), np.zeros((4, 2))
    logl = like(values, valid, badness, np.tile(0.5 * (like.low + like.high), (4, 1)))
    assert logl == pytest.approx([0.0, -0.5, -2.0, -0.125], abs=1e-12)
    # a NaN skin where it is constrained is a failure (the floor), as for any observable
    values[0, 1, 2] = np.nan
    assert like(values, valid, badness, np.tile(like.low, (4, 1)))[0] < -1e8
    # the normalisation counts the five entries used, the skin with its own width
    w = np.array([0.02 * 342.0522, 0.02 * 3.4776, 0.02 * 1636.43, 0.02 * 5.5012, PREX2[1]])
    assert like.log_normalisation == pytest.approx(-np.sum(np.log(w * np.sqrt(2 * np.pi))), rel=1e-6)


def test_a_model_without_skins_is_refused_by_a_skin_likelihood():
    ev = Evaluation(
        ("40Ca", "208Pb"), np.ones((1, 2)), np.ones((1, 2)), np.ones((1, 2), bool), np.zeros((1, 2)),
        np.full((1, 2), "convergent"),
    )  # fmt: skip
    with pytest.raises(ModelError, match="the model gives no neutron_skin"):
        ev.values(("binding_energy", "neutron_skin"))


class _LinearSkin:
    """An analytic stand-in for the solver: B and Rch at experiment, the 208Pb skin linear in L0,
    ``skin = PREX-II value + PREX-II uncertainty * (L0 - 85 MeV) / 8 MeV``: the skin term alone makes
    the posterior of L0 a Gaussian of mean 85 MeV and width 8 MeV (four widths inside the prior's
    20-120 MeV, whose own mean is 70 MeV and standard deviation 29 MeV), the other NMPs their prior."""

    name = "rmf"
    nuclei = ("40Ca", "208Pb")

    def evaluate(self, nmp):
        n = len(nmp)
        exp = {
            o: np.array([getattr(experiment(k), o) for k in self.nuclei])
            for o in ("binding_energy", "charge_radius")
        }
        skin = np.zeros((n, 2))
        skin[:, 1] = PREX2[0] + PREX2[1] * (nmp[:, NMP_NAMES.index("L0")] - 85.0) / 8.0
        return Evaluation(
            self.nuclei,
            np.tile(exp["binding_energy"], (n, 1)),
            np.tile(exp["charge_radius"], (n, 1)),
            np.ones((n, 2), dtype=bool),
            np.zeros((n, 2)),
            np.full((n, 2), "convergent"),
            neutron_skin=skin,
        )

    def describe(self):
        return {"model": "rmf", "kind": "linear skin stand-in"}

    def close(self):
        pass


def test_the_skin_constraint_gives_the_analytic_posterior_of_l0(tmp_path):
    cfg = RunConfig.from_dict({**SKIN_RUN, "sampler": {"live_points": 200, "min_ess": 400, "seed": 3}})
    summary = infer(
        cfg, tmp_path / "run", model=_LinearSkin(), progress=False, plot=False, predictive_draws=100
    )
    l0 = np.asarray(nucleiml.inference.read_posterior(tmp_path / "run").samples)[:, NMP_NAMES.index("L0")]
    assert np.mean(l0) == pytest.approx(85.0, abs=1.5) and np.std(l0) == pytest.approx(8.0, rel=0.12)
    # the other NMPs keep their prior: J0 uniform in [24, 40] MeV
    j0 = np.asarray(nucleiml.inference.read_posterior(tmp_path / "run").samples)[:, NMP_NAMES.index("J0")]
    assert np.mean(j0) == pytest.approx(32.0, abs=0.8)
    # the check sets the skin beside PREX-II with its uncertainty as the width
    row = summary["posterior_predictive"]["nuclei"]["208Pb"]["neutron_skin"]
    assert row["experiment"] == PREX2[0] and row["width"] == PREX2[1] and abs(row["pull"]) < 0.3
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["run"]["data"]["neutron_skin"] == [
        "208Pb"
    ]


def test_the_solver_skin_enters_the_likelihood_as_the_measurement_says():
    """FSUGold2's NMPs through the real solver: its 208Pb skin, 0.286 fm as published, is 0.04 PREX-II
    widths from 0.283 fm; the skin term of the likelihood is exactly that z^2 / 2."""
    from nucleiml.inference.models.rmf import RMFModel

    cfg = RunConfig.from_dict(SKIN_RUN)
    like = Likelihood.from_config(cfg)
    nmp = nucleiml.nmp_from_couplings(nucleiml.get_preset("FSUGold2"))
    x = np.array([[getattr(nmp, k) for k in NMP_NAMES]])
    with RMFModel(like.nuclei, cfg.prior.masses, workers=1) as rmf:
        ev = rmf.evaluate(x)
    skin = ev.neutron_skin[0, 1]
    ref = reference_result("FSUGold2", "208Pb")
    assert skin == pytest.approx(ref.neutron_radius - ref.proton_radius, abs=5e-3)
    values = ev.values(like.observables)
    with_skin = like(values, ev.valid, ev.badness, x)[0]
    no_skin = Likelihood.from_config(default_run_config())
    without = no_skin(ev.values(no_skin.observables), ev.valid, ev.badness, x)[0]
    assert with_skin - without == pytest.approx(-0.5 * ((skin - PREX2[0]) / PREX2[1]) ** 2, abs=1e-12)


def test_cli_neutron_skin_option_is_checked_like_the_run_file(tmp_path, capsys):
    from nucleiml.cli import main

    out = str(tmp_path / "r")
    plain = tmp_path / "no-skin"  # an emulator without the skin regressor
    random_emulator(nuclei=("40Ca", "208Pb")).save(plain)
    assert main(["infer", "--neutron-skin", "208Pb", "--emulator", str(plain), "--out", out, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: [data] neutron_skin needs an emulator with the neutron-skin regressor")
    assert "--model rmf" in err and "\n" not in err
    assert main(["infer", "--model", "rmf", "--neutron-skin", "208Pb,40Ca", "--out", out, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "40Ca has no measured neutron skin; measured: 48Ca, 208Pb" in err and "\n" not in err
    assert not (tmp_path / "r").exists()


def test_posterior_predictive_of_a_skin_likelihood_sets_the_skin_beside_its_measurement():
    """The likelihood's own observables include neutron_skin: the check takes it from the model once and
    counts its pull in PREX-II's uncertainty (L0 = 85 + 8 MeV gives a skin one uncertainty above PREX-II)."""
    from nucleiml.inference.predictive import posterior_predictive

    like = Likelihood.from_config(RunConfig.from_dict(SKIN_RUN))
    x = np.tile(0.5 * (like.low + like.high), (3, 1))
    x[:, NMP_NAMES.index("L0")] = 93.0
    out = posterior_predictive(_LinearSkin(), x, like, draws=3, rng=np.random.default_rng(0))
    row = out["nuclei"]["208Pb"]["neutron_skin"]
    assert row["experiment"] == PREX2[0] and row["width"] == PREX2[1] and row["pull"] == pytest.approx(1.0)
    assert list(out["nuclei"]["208Pb"]) == ["binding_energy", "charge_radius", "neutron_skin"]
    assert np.isnan(out["nuclei"]["40Ca"]["neutron_skin"]["pull"])  # 40Ca's skin is not in this likelihood


class _LinearSkinEmulator:
    """An emulator stand-in with :class:`_LinearSkin`'s analytic skin (B and Rch at experiment, the 208Pb
    skin linear in L0), behind the real ``nml`` model (:class:`EmulatorModel`): the emulator's interface
    (``observables`` with ``neutron_skin``, ``predict``) carried into the likelihood."""

    nuclei = ("40Ca", "208Pb")
    class_names = ("convergent", "nc_a", "nc_b", "nc_c")
    observables = ("binding_energy", "charge_radius", "neutron_skin")

    def predict(self, nmp, nucleus, **kwargs):
        n = len(nmp)
        exp = experiment(nucleus)
        skin = PREX2[0] + PREX2[1] * (nmp[:, NMP_NAMES.index("L0")] - 85.0) / 8.0
        return {
            "label": np.full(n, "convergent"),
            "probabilities": np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)),
            "binding_energy": np.full(n, exp.binding_energy),
            "charge_radius": np.full(n, exp.charge_radius),
            "neutron_skin": skin if nucleus == "208Pb" else np.zeros(n),
            "in_domain": np.ones(n, dtype=bool),
        }


def test_the_skin_constraint_gives_the_analytic_posterior_of_l0_through_the_nml_model(tmp_path):
    """The analytic L0 posterior (mean 85 MeV, width 8 MeV) of the rmf stand-in, through the nml model."""
    from nucleiml.inference.models.nml import EmulatorModel

    run = {**SKIN_RUN, "model": {"name": "nml"}, "sampler": {"live_points": 200, "min_ess": 400, "seed": 3}}
    cfg = RunConfig.from_dict(run)
    model = EmulatorModel(_LinearSkinEmulator(), cfg.data.nuclei, needs_skin=True)
    summary = infer(cfg, tmp_path / "run", model=model, progress=False, plot=False, predictive_draws=100)
    l0 = np.asarray(nucleiml.inference.read_posterior(tmp_path / "run").samples)[:, NMP_NAMES.index("L0")]
    assert np.mean(l0) == pytest.approx(85.0, abs=1.5) and np.std(l0) == pytest.approx(8.0, rel=0.12)
    row = summary["posterior_predictive"]["nuclei"]["208Pb"]["neutron_skin"]
    assert row["experiment"] == PREX2[0] and abs(row["pull"]) < 0.3
    # an emulator without the skin regressor is refused by a skin likelihood, naming the way out
    plain = random_emulator(nuclei=("40Ca", "208Pb"))
    with pytest.raises(ModelError, match=r"needs an emulator with the neutron-skin regressor.*--model rmf"):
        EmulatorModel(plain, cfg.data.nuclei, needs_skin=True)
    assert EmulatorModel(plain, cfg.data.nuclei).evaluate(np.zeros((0, 7))).neutron_skin is None
