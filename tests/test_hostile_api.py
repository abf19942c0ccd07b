"""Hostile tests of the public Python API: seeded generators of bad numbers, wrong types and odd shapes.

Every call either returns or raises one of NucleiML's errors in one line naming the argument or field
(see tests/_hostile.py); no result holds an infinity or a silent NaN where the API promises a number.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

import nucleiml
from _hostile import HOSTILE_SCALARS, hostile_value, outcome
from nucleiml import NMP, Couplings, get_preset
from nucleiml.nuclear_matter import NoSaturationError, couplings_from_nmp_array, saturation_properties
from nucleiml.parameters import COUPLING_NAMES, MASS_NAMES, NMP_NAMES, ParameterError, as_nmp_matrix
from nucleiml.solver import SolverConfig

GOOD_NMP = {"rho0": 0.15, "E0": -16.0, "K0": 240.0, "Q0": -400.0, "mstar": 0.6, "J0": 35.0, "L0": 90.0}
NL3 = get_preset("NL3")
CHEAP = SolverConfig(n_shells=4, max_iterations=1, primary_iterations=0)  # a solve that returns at once


# --------------------------------------------------------------------------- parameter sets
@pytest.mark.parametrize("cls, good", [(NMP, GOOD_NMP), (Couplings, NL3.to_dict())])
@pytest.mark.parametrize("seed", range(4))
def test_parameter_sets_refuse_hostile_fields_naming_them(cls, good, seed):
    rng = random.Random(seed)
    for _ in range(150):  # 2 classes x 4 seeds x 150 = 1,200 cases
        name = rng.choice(sorted(good))
        value = hostile_value(rng)
        kind, res = outcome(cls, **{**good, name: value})
        if kind == "error":
            assert name in res, res
        else:
            assert np.isfinite(getattr(res, name))


def test_huge_integers_are_refused_with_the_field_and_range():
    with pytest.raises(
        ParameterError, match=r"rho0 = a number beyond the float range .*allowed range \(0.05, 0.4\]"
    ):
        NMP(rho0=10**400, E0=-16.3, K0=240, Q0=-400, mstar=0.6, J0=35, L0=90)
    with pytest.raises(ParameterError, match=r"^B = "):
        Couplings(**{**NL3.to_dict(), "B": -(10**5000)})


@pytest.mark.parametrize("seed", range(3))
def test_nmp_arrays_refuse_complex_huge_and_non_numbers(seed):
    rng = np.random.default_rng(seed)
    good = np.array([[GOOD_NMP[k] for k in NMP_NAMES]] * 3)
    bad_entries = (1 + 1j, 10**400, "x", None, float("nan"), np.inf, [1.0, 2.0])
    for _ in range(100):  # 300 cases
        arr = good.astype(object)
        i, j = rng.integers(3), rng.integers(7)
        arr[i, j] = bad_entries[rng.integers(len(bad_entries))]
        table = arr if rng.random() < 0.5 else {k: list(arr[:, m]) for m, k in enumerate(NMP_NAMES)}
        kind, msg = outcome(as_nmp_matrix, table)
        assert kind == "error", (arr[i, j], msg)
    with pytest.raises(ParameterError, match="complex"):
        as_nmp_matrix(good + 1j)
    with pytest.raises(ParameterError, match="complex"):
        couplings_from_nmp_array(good.astype(complex))


# --------------------------------------------------------------------------- nuclear matter
def test_public_functions_refuse_wrong_argument_types():
    for func in (nucleiml.nmp_from_couplings, nucleiml.ksym, saturation_properties):
        for bad in ({"g_sigma": 10.0}, 3, None, "NL3", [NL3]):
            with pytest.raises(ParameterError, match="expects Couplings"):
                func(bad)
    good = np.array([[GOOD_NMP[k] for k in NMP_NAMES]])
    for n_scan in (1.5, "48", None, True, 0, -3, 10**9):
        with pytest.raises(ParameterError, match="n_scan"):
            couplings_from_nmp_array(good, n_scan=n_scan)
    assert couplings_from_nmp_array(good, n_scan=np.int64(48)).ok.all()
    for bad in ({"rho0": 0.15}, 0.15, "NMP", None):
        with pytest.raises(ParameterError, match="expects an NMP"):
            nucleiml.couplings_from_nmp(bad)
    for name in ("g_sigma", "g_omega", "g_rho"):  # inside (0, 100] but their powers underflow
        with pytest.raises(ParameterError, match=f"{name} = 1e-300 is too small"):
            nucleiml.nmp_from_couplings(Couplings(**{**NL3.to_dict(), name: 1e-300}))


# g_sigma 8.68012, ...: from issue 29, the scalar field reaches M* = 0 at 0.227 fm^-3 while E/A still falls
ISSUE_29_COLLAPSING = Couplings(
    g_sigma=8.68012,
    g_omega=10.9144,
    g_rho=13.756,
    A=11.0083,
    B=-43.9918,
    C=0.0,
    Lambda_v=-0.0127038,
    m_sigma=508.194,
    m_omega=782.501,
    m_rho=763.0,
    M=939.0,
)


def test_a_set_that_collapses_before_saturating_is_reported_clearly():
    for func in (nucleiml.nmp_from_couplings, nucleiml.ksym):
        with pytest.raises(NoSaturationError, match=r"no saturation point .*M\* reaches 0"):
            func(ISSUE_29_COLLAPSING)


def test_perturbed_published_sets_saturate_or_say_why():
    """A seeded sample of NL3 / FSUGold2 couplings perturbed by up to 30 % (masses kept): each gives the
    NMPs at a true minimum of E/A (zero pressure) or a one-line NoSaturationError / ParameterError."""
    rng = np.random.default_rng(29)
    counts = {"ok": 0, "error": 0}
    for name in ("NL3", "FSUGold2"):
        base = get_preset(name).to_dict()
        for _ in range(40):  # 80 cases
            d = {k: v * (1 + rng.uniform(-0.3, 0.3)) if k in COUPLING_NAMES else v for k, v in base.items()}
            d["C"] = min(d["C"], 1.0)
            kind, res = outcome(saturation_properties, Couplings(**d))
            counts[kind] += 1
            if kind == "ok":
                assert abs(res.pressure) < 1e-6 and np.isfinite(res.Ksym)
            else:
                assert "saturation point" in res, res
    assert counts["ok"] >= 10 and counts["error"] >= 10, counts


# --------------------------------------------------------------------------- solver
@pytest.mark.parametrize("seed", range(3))
def test_solve_batch_names_the_bad_column(seed):
    rng = random.Random(seed)
    good = NL3.to_dict()
    refused = 0
    for _ in range(80):  # 240 cases
        name = rng.choice((*COUPLING_NAMES, *MASS_NAMES))
        value = rng.choice((*HOSTILE_SCALARS, "abc", ["10", "x"], np.ones((2, 2)), np.ones(3), [1 + 2j]))
        cols = {**good, name: value}
        if rng.random() < 0.3:
            cols["g_omega"] = np.full(2, good["g_omega"])  # a second length next to the bad column
        kind, res = outcome(nucleiml.solve_batch, cols, "16O", CHEAP)
        if kind == "error":
            refused += 1
            assert name in res or "one length" in res, res
    assert refused > 40


def test_solve_refuses_a_config_that_is_not_a_solver_config():
    for bad in ({"n_shells": 8}, "fast", 3):
        with pytest.raises(ParameterError, match="config must be a SolverConfig"):
            nucleiml.solve(NL3, "16O", config=bad)
    for bad in (5, "NL3", None, [{"g_sigma": 1}]):
        kind, msg = outcome(nucleiml.solve_batch, bad, "16O", CHEAP)
        assert kind == "error" and "couplings" in msg


# --------------------------------------------------------------------------- one hostile argument at a time
X = np.array([[0.155, -16.0, 250.0, -300.0, 0.65, 32.0, 60.0]])
EXTRA = (-1, 0, 10**30, "208Pb", ("a", "b"), (82, 126.5), (82, -1), (1000, 1000), "paper", "Pb", "208Pb,xx")
EXTRA += (["208Pb", None], 1.5, np.int64(5), np.ones(3), Path("/nonexistent/x"))


def _calls(em):
    from nucleiml.datasets import default_prior, load_prior
    from nucleiml.datasets.summary import info, split, split_of
    from nucleiml.inference import default_run_config, load_run_config, read_posterior

    cfg, prior = default_run_config(), default_prior()
    return {
        "parse_nucleus": nucleiml.parse_nucleus,
        "parse_nuclei": nucleiml.parse_nuclei,
        "experiment": nucleiml.experiment,
        "get_preset": get_preset,
        "predict nucleus": lambda v: em.predict(X, v),
        "predict nmp": lambda v: em.predict(v, "208Pb"),
        "predict couplings_ok": lambda v: em.predict(X, "208Pb", couplings_ok=v),
        "predict inversion": lambda v: em.predict(X, "208Pb", inversion=v),
        "predict out_of_domain": lambda v: em.predict(X, "208Pb", out_of_domain=v),
        "predict unseen_method": lambda v: em.predict(X, "208Pb", unseen_method=v),
        "predict nc_b_threshold": lambda v: em.predict(X, "208Pb", nc_b_threshold=v),
        "predict mask_nonconvergent": lambda v: em.predict(X, "208Pb", mask_nonconvergent=v),
        "predict allow_unseen": lambda v: em.predict(X, "208Pb", allow_unseen=v),
        "predict_nuclei": lambda v: em.predict_nuclei(X, v),
        "invert": em.invert,
        "in_domain": em.in_domain,
        "Emulator.load": nucleiml.Emulator.load,
        "load_run_config": load_run_config,
        "load_prior": load_prior,
        "read_posterior": read_posterior,
        "dataset info": info,
        "dataset split": split,
        "split_of fractions": lambda v: split_of(np.arange(5), v),
        "split_of seed": lambda v: split_of(np.arange(5), seed=v),
        "split_of sample_id": split_of,
        "run live_points": lambda v: cfg.replace(sampler={"live_points": v}),
        "run tolerance": lambda v: cfg.replace(likelihood={"tolerance": v}),
        "run nuclei": lambda v: cfg.replace(data={"nuclei": v}),
        "run observables": lambda v: cfg.replace(data={"observables": v}),
        "inversion mass": lambda v: nucleiml.couplings_from_nmp_array(X, m_sigma=v),
        "couplings_from_nmp M": lambda v: nucleiml.couplings_from_nmp(NMP(*X[0]), M=v),
        "prior.sample n": lambda v: prior.sample(v, np.random.default_rng(0)),
        "prior.sample rng": lambda v: prior.sample(3, v),
        "SolverConfig n_shells": lambda v: SolverConfig(n_shells=v),
        "SolverConfig time_budget": lambda v: SolverConfig(time_budget=v),
        "SolverConfig max_iterations": lambda v: SolverConfig(max_iterations=v),
        "Couplings.from_dict": Couplings.from_dict,
        "NMP.from_dict": NMP.from_dict,
    }


def test_every_public_call_refuses_one_hostile_argument_in_one_line():
    em = nucleiml.Emulator.load()
    for name, call in _calls(em).items():  # 38 calls x 39 values = 1,482 cases
        for value in (*HOSTILE_SCALARS, *EXTRA):
            try:
                outcome(call, value)
            except AssertionError as exc:
                raise AssertionError(f"{name}({value!r:.60}): {exc}") from None


def test_jobs_refuse_arguments_of_the_wrong_type_before_any_work(tmp_path):
    from nucleiml.datasets import generate
    from nucleiml.inference import compare, default_run_config, infer, predict_posterior

    cfg, d = default_run_config(), str(tmp_path / "x")
    cases = {
        "config must be a RunConfig": lambda: infer("run.toml", d, progress=False),
        "run directory must be a path": lambda: infer(cfg, 123, progress=False),
        "comparison directory must be a path": lambda: compare(d, d, 5),
        "run must be a directory path": lambda: predict_posterior(5),
        "dataset directory must be a path": lambda: generate(None, 4, "16O"),
        "samples must be an integer": lambda: generate(d, 10**5000, "16O"),
        "threshold must be a fraction": lambda: generate(d, 4, "16O", threshold=-(10**5000)),
        "prior file must be a path": lambda: generate(d, 4, "16O", prior=5),
    }
    for message, call in cases.items():
        kind, msg = outcome(call)
        assert kind == "error" and message in msg, msg
    assert not (tmp_path / "x").exists()
