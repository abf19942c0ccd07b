"""Nested sampling on analytic likelihoods: known mean, width and evidence; box plateau; interrupt and
resume; the prior transform; dynesty as a cross-check."""

import numpy as np
import pytest
from scipy.special import ndtr

pytest.importorskip("ultranest")

from nucleiml.datasets import Prior, default_prior
from nucleiml.inference.runfile import SamplerConfig
from nucleiml.inference.sampler import POINTS_FILE, prior_transform, run_sampler
from nucleiml.parameters import NMP_NAMES

PRIOR = default_prior()
LOW = np.array([PRIOR.nmp[k].low for k in NMP_NAMES])
HIGH = np.array([PRIOR.nmp[k].high for k in NMP_NAMES])
MU = LOW + np.array([0.4, 0.5, 0.6, 0.45, 0.55, 0.5, 0.35]) * (HIGH - LOW)
SIGMA = 0.04 * (HIGH - LOW)
FAST = SamplerConfig(live_points=100, min_ess=100, seed=3)


def gaussian(x):
    return -0.5 * np.sum(((x - MU) / SIGMA) ** 2, axis=1)


def test_gaussian_posterior_mean_width_and_evidence():
    res = run_sampler(gaussian, PRIOR, FAST, progress=False)
    assert res.backend == "ultranest" and res.samples.shape[1] == 7
    mean = np.sum(res.weights[:, None] * res.points, axis=0)
    std = np.sqrt(np.sum(res.weights[:, None] * (res.points - mean) ** 2, axis=0))
    np.testing.assert_allclose((mean - MU) / SIGMA, 0.0, atol=0.2)
    np.testing.assert_allclose(std / SIGMA, 1.0, atol=0.15)
    eq = res.samples
    np.testing.assert_allclose((eq.mean(axis=0) - MU) / SIGMA, 0.0, atol=0.25)
    logz_exact = np.sum(np.log(SIGMA * np.sqrt(2 * np.pi) / (HIGH - LOW)))
    assert abs(res.logz - logz_exact) < 3 * res.logzerr + 0.1
    assert res.weights.sum() == pytest.approx(1.0)
    assert res.ncall > 1000 and res.info["ess"] > 100


def test_box_plateau_ends_with_the_prior_volume_as_evidence():
    """log L = 0 inside a box, a finite sloping value outside: the evidence is the box's prior volume."""
    centre, half = np.array([0.4, 0.55, 0.5]), 0.1

    def box(u):
        excess = np.sum(np.maximum(np.abs(u - centre) / half - 1.0, 0.0), axis=1)
        return np.where(excess > 0, -1e6 - excess, 0.0)

    cfg = SamplerConfig(live_points=100, min_ess=100, seed=1)
    res = run_sampler(box, lambda u: u, cfg, progress=False, names=("a", "b", "c"))
    volume = (2 * half) ** 3
    err = np.hypot(res.info["logzerr_bootstrap"], res.info["logzerr_single"])
    assert abs(res.logz - np.log(volume)) < 3 * err + 0.05
    inside = np.all(np.abs(res.samples - centre) <= half + 1e-12, axis=1)
    assert inside.all()
    np.testing.assert_allclose(res.samples.std(axis=0), 2 * half / np.sqrt(12), rtol=0.15)


def test_interrupted_run_resumes_and_completes(tmp_path):
    calls = {"n": 0}

    def flaky(x):
        calls["n"] += len(x)
        if calls["n"] > 1500:
            raise KeyboardInterrupt
        return gaussian(x)

    log_dir = tmp_path / "sampler"
    with pytest.raises(KeyboardInterrupt):
        run_sampler(flaky, PRIOR, FAST, log_dir=log_dir, progress=False)
    stored = sum(1 for _ in open(log_dir / "results" / POINTS_FILE))
    assert stored > 500
    fresh = run_sampler(gaussian, PRIOR, FAST, progress=False)
    calls["n"] = -(10**9)  # no more interruptions
    res = run_sampler(flaky, PRIOR, FAST, log_dir=log_dir, resume=True, progress=False)
    new_calls = calls["n"] + 10**9
    assert new_calls < fresh.ncall - 500  # the stored points were replayed, not recomputed
    mean = np.sum(res.weights[:, None] * res.points, axis=0)
    np.testing.assert_allclose((mean - MU) / SIGMA, 0.0, atol=0.25)
    assert (log_dir / "debug.log").exists()


def test_budget_stop_then_resume_with_larger_budget(tmp_path):
    log_dir = tmp_path / "sampler"
    short = run_sampler(
        gaussian,
        PRIOR,
        SamplerConfig(live_points=100, min_ess=100, max_ncalls=800),
        log_dir=log_dir,
        progress=False,
    )
    assert short.ncall <= 800 + 4 * FAST.batch_max
    full = run_sampler(gaussian, PRIOR, FAST, log_dir=log_dir, resume=True, progress=False)
    assert full.ncall > short.ncall
    assert abs(full.logz - np.sum(np.log(SIGMA * np.sqrt(2 * np.pi) / (HIGH - LOW)))) < 3 * full.logzerr + 0.1
    # starting afresh (resume=False) deletes the stored points
    again = run_sampler(
        gaussian,
        PRIOR,
        SamplerConfig(live_points=100, min_ess=100, max_ncalls=300),
        log_dir=log_dir,
        progress=False,
    )
    assert again.ncall < full.ncall


def test_prior_transform_uniform_and_truncated_gaussian():
    data = PRIOR.to_dict()
    data["nmp"]["K0"] = {"distribution": "gaussian", "mean": 240.0, "std": 20.0, "low": 180.0, "high": 320.0}
    prior = Prior.from_dict(data)
    tr = prior_transform(prior)
    u = np.array([[0.5] * 7, [0.0] * 7, [1.0 - 1e-12] * 7])
    x = tr(u)
    np.testing.assert_allclose(x[0, 0], 0.155)
    np.testing.assert_allclose(x[1], LOW)
    np.testing.assert_allclose(x[2], HIGH, rtol=1e-9)
    a, b = ndtr(-3.0), ndtr(4.0)  # K0: median of the truncated Gaussian
    np.testing.assert_allclose(ndtr((x[0, 2] - 240) / 20), 0.5 * (a + b), rtol=1e-12)
    assert tr(u[0]).shape == (7,)


def test_dynesty_cross_check_and_no_resume():
    pytest.importorskip("dynesty")
    mu, sig = np.array([0.3, 0.6]), np.array([0.05, 0.08])

    def like(x):
        return -0.5 * np.sum(((x - mu) / sig) ** 2, axis=1)

    cfg = SamplerConfig(backend="dynesty", live_points=100, seed=1)
    res = run_sampler(like, lambda u: u, cfg, progress=False, names=("a", "b"))
    mean = np.sum(res.weights[:, None] * res.points, axis=0)
    np.testing.assert_allclose((mean - mu) / sig, 0.0, atol=0.25)
    assert abs(res.logz - np.sum(np.log(sig * np.sqrt(2 * np.pi)))) < 3 * res.logzerr + 0.1
    assert res.samples.shape[1] == 2
    with pytest.raises(ValueError, match="resume needs the ultranest backend"):
        run_sampler(like, lambda u: u, cfg, resume=True, names=("a", "b"))


def test_missing_sampler_names_the_extra(monkeypatch):
    import sys

    from nucleiml.inference._deps import MissingInferExtraError

    monkeypatch.setitem(sys.modules, "ultranest", None)
    with pytest.raises(MissingInferExtraError, match=r'pip install "nucleiml\[infer\]"'):
        run_sampler(gaussian, PRIOR, FAST, progress=False)
