"""Jensen-Shannon divergence estimator, posterior files and `compare` of two runs."""

import json

import numpy as np
import pytest
from scipy.stats import norm

pytest.importorskip("pyarrow")

from nucleiml._atomic import atomic_write_json
from nucleiml.inference import PosteriorError, compare, jsd_bits, jsd_bootstrap, read_posterior
from nucleiml.inference.compare import binned_kde, self_jsd
from nucleiml.inference.posterior import (
    SUMMARY_FILE,
    marginal_summary,
    weighted_quantile,
    write_samples,
)
from nucleiml.inference.sampler import SamplerResult
from nucleiml.parameters import NMP_NAMES

RNG = np.random.default_rng(42)


def test_jsd_identical_sets_is_zero_and_disjoint_sets_one():
    a = RNG.normal(0.0, 1.0, 3000)
    assert jsd_bits(a, a) == 0.0
    assert jsd_bits(a, a.copy()[::-1]) == 0.0  # order does not matter
    assert jsd_bits(a, a + 100.0) == pytest.approx(1.0, abs=1e-12)
    assert jsd_bits(np.full(10, 3.0), np.full(10, 3.0)) == 0.0
    assert jsd_bits(np.full(10, 3.0), np.full(10, 4.0)) == pytest.approx(1.0)
    boot = jsd_bootstrap(a, a + 100.0, RNG, n_boot=20)
    assert boot["jsd"] == pytest.approx(1.0) and boot["median"] == pytest.approx(1.0)


def test_jsd_matches_the_exact_value_for_two_gaussians_and_is_symmetric():
    x = np.linspace(-12, 12, 240001)
    p, q = norm.pdf(x), norm.pdf(x, 0.8, 1.3)
    m = 0.5 * (p + q)
    exact = 0.5 * np.trapezoid(p * np.log2(p / m), x) + 0.5 * np.trapezoid(q * np.log2(q / m), x)
    a, b = RNG.normal(0.0, 1.0, 20000), RNG.normal(0.8, 1.3, 20000)
    assert jsd_bits(a, b) == pytest.approx(exact, abs=0.01)
    assert jsd_bits(a, b) == pytest.approx(jsd_bits(b, a), rel=1e-12)
    boot = jsd_bootstrap(a[:4000], b[:4000], RNG, n_boot=50)
    assert boot["low_68"] <= boot["median"] <= boot["high_68"]
    assert boot["median"] == pytest.approx(exact, abs=0.02)
    assert 0 < self_jsd(a, RNG) < 0.01  # estimator noise floor at n = 10000


def test_binned_kde_conserves_mass_and_matches_a_gaussian():
    grid = np.linspace(-6, 6, 1201)
    dens = binned_kde(np.zeros(1), grid, 1.0)
    assert dens.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(dens / (grid[1] - grid[0]), norm.pdf(grid), atol=1e-3)
    with pytest.raises(ValueError, match="non-empty and finite"):
        jsd_bits([], [1.0])
    with pytest.raises(ValueError, match="non-empty and finite"):
        jsd_bits([np.nan], [1.0])


def test_weighted_quantiles_and_marginal_summary():
    x = np.arange(1.0, 6.0)
    assert weighted_quantile(x, np.ones(5), 0.5) == 3.0
    assert weighted_quantile(x, np.array([0, 0, 0, 0, 1.0]), 0.5) == 5.0
    pts = RNG.normal(10.0, 2.0, (40000, 7))
    s = marginal_summary(pts, np.ones(len(pts)))
    assert s["K0"]["median"] == pytest.approx(10.0, abs=0.05)
    assert s["K0"]["low_68"] == pytest.approx(8.0, abs=0.06) and s["K0"]["high_68"] == pytest.approx(
        12.0, abs=0.06
    )
    assert s["K0"]["unit"] == "MeV" and s["mstar"]["unit"] == ""
    with pytest.raises(ValueError):
        weighted_quantile(x, np.zeros(5), 0.5)


def _fake_run(path, shift, wall, model="nml"):
    """A run directory written from synthetic samples (no sampling)."""
    path.mkdir(parents=True)
    centre = np.array([0.155, -16.0, 250.0, -100.0, 0.65, 32.0, 70.0])
    scale = np.array([0.005, 0.3, 20.0, 150.0, 0.03, 2.0, 15.0])
    pts = centre + scale * (RNG.normal(size=(3000, 7)) + shift)
    res = SamplerResult(
        backend="ultranest",
        names=NMP_NAMES,
        points=pts,
        weights=np.full(3000, 1 / 3000),
        logl=np.zeros(3000),
        samples=pts,
        logz=-1.0,
        logzerr=0.1,
        ncall=100,
        niter=10,
    )
    write_samples(path, res)
    atomic_write_json(path / SUMMARY_FILE, {"model": {"model": model}, "wall_seconds": wall})
    return pts


def test_compare_writes_jsd_json_plot_and_wall_ratio(tmp_path):
    pytest.importorskip("corner")
    a = _fake_run(tmp_path / "nml", 0.0, 10.0)
    _fake_run(tmp_path / "rmf", 0.0, 250.0, model="rmf")
    _fake_run(tmp_path / "far", 50.0, 5.0)
    post = read_posterior(tmp_path / "nml")
    np.testing.assert_array_equal(post.samples, a)
    assert post.label == "nml"  # the model name once when the directory has the same name
    assert read_posterior(tmp_path / "far").label == "nml (far)"
    res = compare(tmp_path / "nml", tmp_path / "rmf", tmp_path / "cmp", n_boot=20)
    data = json.loads((tmp_path / "cmp" / "jsd.json").read_text())
    assert data == res
    assert set(data["jsd"]) == set(NMP_NAMES) and data["max_jsd"] < 0.01
    assert data["wall_time_ratio_b_over_a"] == pytest.approx(25.0)
    assert "Gaussian KDE" in data["estimator"] and "bits" in data["estimator"]
    for v in data["per_nmp"].values():
        assert v["low_68"] <= v["median"] <= v["high_68"] and v["noise_floor_a"] > 0
    assert (tmp_path / "cmp" / "corner_compare.png").stat().st_size > 10000
    far = compare(tmp_path / "nml", tmp_path / "far", tmp_path / "cmp2", n_boot=0, plot=False)
    assert min(far["jsd"].values()) == pytest.approx(1.0) and far["per_nmp"]["K0"]["median"] is None


def test_compare_refuses_unfinished_runs(tmp_path):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "run.json").write_text("{}")
    with pytest.raises(PosteriorError, match=r"holds no finished inference run \(missing posterior.parquet"):
        compare(tmp_path / "half", tmp_path / "half", tmp_path / "cmp")
    with pytest.raises(PosteriorError, match="is not a directory"):
        read_posterior(tmp_path / "nothing")
