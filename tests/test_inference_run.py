"""`nucleiml infer` and `nucleiml compare` end to end with a fake emulator: outputs, resume, errors."""

import json

import numpy as np
import pytest

from _inference_fakes import FakeEmulator, install_emulator_loader

pytest.importorskip("ultranest")
pytest.importorskip("pyarrow")
pytest.importorskip("corner")

from nucleiml.cli import main
from nucleiml.inference import InferenceError, default_run_config, infer, read_posterior
from nucleiml.inference.models.nml import EmulatorModel
from nucleiml.parameters import NMP_NAMES

FAST = "[sampler]\nlive_points = 60\nmin_ess = 60\nseed = 2\n"


@pytest.fixture
def fake_emulator(monkeypatch):
    """``Emulator.load`` returns a FakeEmulator (list of those made)."""
    made = []

    def load(path=None):
        made.append(FakeEmulator())
        return made[-1]

    install_emulator_loader(monkeypatch, load)
    return made


@pytest.fixture
def run_file(tmp_path):
    p = tmp_path / "run.toml"
    p.write_text(FAST)
    return p


def test_infer_cli_writes_posterior_summary_and_plot(tmp_path, run_file, fake_emulator, capsys):
    out = tmp_path / "nml"
    assert main(["infer", "--model", "nml", "--config", str(run_file), "--out", str(out), "--quiet"]) == 0
    table = capsys.readouterr().out
    assert "posterior of the NMPs (nml" in table and "log Z" in table
    for name in (
        "posterior.parquet",
        "weighted.parquet",
        "summary.json",
        "corner.png",
        "predictive.png",
        "run.json",
    ):
        assert (out / name).is_file(), name
    assert "summary.json, corner.png, predictive.png" in table
    s = json.loads((out / "summary.json").read_text())
    assert s["model"]["model"] == "nml" and s["model"]["emulator_version"] == "fake-1"
    assert set(s["nmp"]) == set(NMP_NAMES)
    for v in s["nmp"].values():
        assert v["low_68"] < v["median"] < v["high_68"]
    assert (
        s["nmp"]["Q0"]["high_68"] < 400 and s["nmp"]["mstar"]["low_68"] > 0.55
    )  # the fake's convergent region
    assert np.isfinite(s["log_evidence"]) and s["log_evidence_err"] > 0
    assert s["likelihood_calls"] > 500 and s["wall_seconds"] > 0 and s["sessions"] == 1
    assert 0 < s["invalid_fraction_this_session"] < 1
    assert s["versions"]["nucleiml"] and s["versions"]["ultranest"]
    assert s["run"]["sampler"]["live_points"] == 60 and s["run_file_text"] == FAST
    assert s["run"]["likelihood"] == {"shape": "gaussian", "tolerance": 0.02}
    assert s["experiment"]["208Pb"]["charge_radius"] == 5.5012
    # posterior predictive: the fake reproduces experiment at the prior's centre, so the posterior's
    # predictions centre on it (pull well inside one 2 % width) and every draw is convergent
    check = s["posterior_predictive"]
    assert check["draws"] == min(200, s["samples"]["equally_weighted"]) and check["seconds"] >= 0
    for nucleus in ("40Ca", "208Pb"):
        for obs in ("binding_energy", "charge_radius"):
            row = check["nuclei"][nucleus][obs]
            assert row["experiment"] == s["experiment"][nucleus][obs] and row["valid_fraction"] == 1.0
            assert row["low_68"] < row["median"] < row["high_68"] and abs(row["pull"]) < 0.5
    assert "posterior predictive (200 draws)" in table
    assert [ln.split()[:2] for ln in table.splitlines() if ln.split()[-1:] in (["MeV"], ["fm"])][-4:] == [
        ["40Ca", "binding_energy"],
        ["40Ca", "charge_radius"],
        ["208Pb", "binding_energy"],
        ["208Pb", "charge_radius"],
    ]
    post = read_posterior(out)
    assert post.samples.shape[1] == 7 and post.weights.sum() == pytest.approx(1.0)
    assert np.all(post.samples[:, 3] < 400)
    # the weighted set holds every dead point; non-convergent ones (on the floor) have weight 0
    assert np.all(post.weights[post.log_likelihood < -1e8] == 0) and np.any(post.log_likelihood < -1e8)
    # the same again without --resume / --overwrite is refused; --overwrite starts afresh
    assert main(["infer", "--config", str(run_file), "--out", str(out), "--quiet"]) == 2
    assert "already holds an inference run; use --resume" in capsys.readouterr().err
    assert (
        main(["infer", "--config", str(run_file), "--out", str(out), "--quiet", "--overwrite", "--json"]) == 0
    )
    assert json.loads(capsys.readouterr().out)["sessions"] == 1


def test_compare_cli(tmp_path, run_file, fake_emulator, capsys):
    for name, seed in (("a", 1), ("b", 2)):
        run_file.write_text(FAST.replace("seed = 2", f"seed = {seed}"))
        argv = ["infer", "--config", str(run_file), "--out", str(tmp_path / name), "--quiet"]
        assert main([*argv, "--predictive-draws", "0"] if name == "a" else argv) == 0
    assert "posterior predictive" not in capsys.readouterr().out.split("posterior of the NMPs")[1]
    skipped = json.loads((tmp_path / "a" / "summary.json").read_text())["posterior_predictive"]
    assert skipped["draws"] == 0 and skipped["nuclei"] == {}
    assert not (tmp_path / "a" / "predictive.png").exists() and (tmp_path / "b" / "predictive.png").is_file()
    cmp = tmp_path / "cmp"
    assert (
        main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(cmp), "--bootstrap", "10"])
        == 0
    )
    out = capsys.readouterr().out
    assert "Jensen-Shannon divergence" in out and "wall time B / A" in out
    data = json.loads((cmp / "jsd.json").read_text())
    assert data["max_jsd"] < 0.1  # two seeds of the same posterior
    assert (cmp / "corner_compare.png").is_file()
    assert data["posterior_predictive"] == {}  # run a skipped its check
    # a run against itself: the same predictive medians, shifted by exactly zero widths
    assert (
        main(["compare", str(tmp_path / "b"), str(tmp_path / "b"), "--out", str(cmp), "--bootstrap", "0"])
        == 0
    )
    out = capsys.readouterr().out
    assert "posterior predictive medians: A, B" in out
    same = json.loads((cmp / "jsd.json").read_text())["posterior_predictive"]
    assert set(same) == {"40Ca", "208Pb"} and all(
        r["shift"] == 0.0 and r["median_a"] == r["median_b"] for rows in same.values() for r in rows.values()
    )
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "zz"), "--out", str(cmp)]) == 2
    assert "is not a directory" in capsys.readouterr().err


class Interrupting(FakeEmulator):
    """Raises KeyboardInterrupt after ``limit`` predict calls (Ctrl-C in the middle of a run)."""

    def __init__(self, limit):
        super().__init__()
        self.limit = limit

    def predict(self, nmp, nucleus):
        if self.calls >= self.limit:
            raise KeyboardInterrupt
        return super().predict(nmp, nucleus)


def test_interrupted_infer_resumes_and_completes(tmp_path):
    cfg = default_run_config().replace(sampler={"live_points": 60, "min_ess": 60, "frac_remain": 0.01})
    box = {k: (d.low, d.high) for k, d in cfg.prior.nmp.items()}
    em = Interrupting(limit=12)
    model = EmulatorModel(em, cfg.data.nuclei, prior_box=box)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        infer(cfg, out, model=model, progress=False, plot=False)
    state = json.loads((out / "run.json").read_text())
    assert len(state["sessions"]) == 1 and not state["sessions"][0]["completed"]
    assert state["sessions"][0]["points_evaluated"] > 0
    assert not (out / "summary.json").exists()
    with pytest.raises(InferenceError, match="already holds an inference run"):
        infer(cfg, out, model=model, progress=False)
    with pytest.raises(
        InferenceError, match=r"other settings \(\[likelihood\] tolerance: run has 0.02, asked 0.05"
    ):
        infer(cfg.replace(likelihood={"tolerance": 0.05}), out, model=model, resume=True, progress=False)
    em.limit = 10**9
    s = infer(
        cfg.replace(sampler={"max_ncalls": 10**6}), out, model=model, resume=True, progress=False, plot=False
    )
    assert s["sessions"] == 2 and s["likelihood_calls"] > s["likelihood_calls_this_session"]
    assert read_posterior(out).samples.shape[1] == 7
    state = json.loads((out / "run.json").read_text())
    assert [x["completed"] for x in state["sessions"]] == [False, True]
    # the calls of both sessions are counted (the sampler's own count restarts from the stored points)
    first, second = (x["points_evaluated"] for x in state["sessions"])
    assert s["likelihood_calls"] == first + second and second == s["likelihood_calls_this_session"]


def test_infer_errors(tmp_path, fake_emulator, capsys):
    assert main(["infer", "--out", str(tmp_path / "none"), "--resume", "--quiet"]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "file.txt").write_text("x")
    assert main(["infer", "--out", str(junk), "--quiet"]) == 2
    assert "is not empty and holds no inference run" in capsys.readouterr().err
    assert main(["infer", "--out", str(tmp_path / "x"), "--resume", "--overwrite"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert main(["infer", "--out", str(tmp_path / "y"), "--live-points", "3"]) == 2
    assert "--live-points = 3 is outside the allowed range [10, 100000]" in capsys.readouterr().err
    assert main(["infer", "--out", str(tmp_path / "z"), "--predictive-draws", "-1"]) == 2
    assert "--predictive-draws = -1 is outside the allowed range [0, 1000000]" in capsys.readouterr().err
    with pytest.raises(ValueError, match="predictive_draws must be an integer >= 0, got -1"):
        infer(default_run_config(), tmp_path / "w", predictive_draws=-1)
    assert not (tmp_path / "w").exists()  # refused before anything is written


def test_infer_without_a_loadable_emulator_is_one_clear_error(tmp_path, monkeypatch, capsys):
    def load(path=None):
        raise ValueError("no default emulator is shipped with this installation")

    install_emulator_loader(monkeypatch, load)
    assert main(["infer", "--model", "nml", "--out", str(tmp_path / "r"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err.startswith("error: cannot load the emulator (default): no default emulator") and "\n" not in err
    )


@pytest.mark.slow
def test_rmf_infer_end_to_end_with_local_workers_and_resume(tmp_path, capsys):
    """The real solver on two workers: 40Ca binding energy in a 5 % box, a call budget, then resume."""
    run = tmp_path / "rmf.toml"
    run.write_text(
        '[data]\nnuclei = ["40Ca"]\nobservables = ["binding_energy"]\n'
        '[likelihood]\nshape = "box"\ntolerance = 0.05\n'
        "[model]\nworkers = 2\n"
        "[sampler]\nlive_points = 20\nmin_ess = 20\nbatch_min = 32\nbatch_max = 64\nmax_ncalls = 150\n"
    )
    out = tmp_path / "rmf"
    args = ["infer", "--model", "rmf", "--config", str(run), "--out", str(out), "--quiet", "--json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["model"]["model"] == "rmf" and first["model"]["parallel"] == "2 local worker processes"
    assert main([*args, "--resume", "--max-ncalls", "100000"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["sessions"] == 2 and s["likelihood_calls"] > first["likelihood_calls"]
    post = read_posterior(out)
    # every posterior sample reproduces B(40Ca) within the box: check a few with the solver itself
    from nucleiml.inference.models.rmf import RMFModel

    with RMFModel(("40Ca",), default_run_config().prior.masses, workers=1) as model:
        ev = model.evaluate(post.samples[:5])
    assert ev.valid.all()
    assert np.all(np.abs(ev.binding_energy[:, 0] / 342.0522 - 1) <= 0.05)


def test_predictive_job_repeats_the_runs_own_check_and_predicts_other_nuclei(
    tmp_path, run_file, fake_emulator, capsys
):
    """``nucleiml predictive``: with the run's model and nuclei it reproduces the check infer made (same
    seed, same draws); other nuclei need a model that covers them; the solver covers any."""
    from nucleiml.inference import predict_posterior

    out = tmp_path / "nml"
    assert main(["infer", "--config", str(run_file), "--out", str(out), "--quiet"]) == 0
    own = json.loads((out / "summary.json").read_text())["posterior_predictive"]
    again = predict_posterior(out)
    assert again["nuclei"] == own["nuclei"] and again["draws"] == own["draws"] and again["tolerance"] == 0.02
    assert again["model"]["model"] == "nml" and again["run"] == str(out)
    capsys.readouterr()
    path = tmp_path / "pred.json"
    png = tmp_path / "pred.png"
    assert (
        main(
            [
                "predictive",
                str(out),
                "--nuclei",
                "Pb208",
                "--draws",
                "50",
                "--out",
                str(path),
                "--plot",
                str(png),
            ]
        )
        == 0
    )
    assert png.stat().st_size > 10_000
    table = capsys.readouterr().out
    assert "posterior predictive (50 draws): nml at the posterior of" in table and "208Pb" in table
    assert "40Ca" not in table
    written = json.loads(path.read_text())
    assert list(written["nuclei"]) == ["208Pb"] and written["draws"] == 50
    # the fake emulator covers 40Ca and 208Pb only: one line naming the nucleus
    assert main(["predictive", str(out), "--nuclei", "48Ca"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "48Ca" in err and "\n" not in err
    # the solver at 4 draws of the same posterior, for a nucleus the run never saw (24O: no measured
    # charge radius, so no pull there)
    assert (
        main(
            [
                "predictive",
                str(out),
                "--model",
                "rmf",
                "--workers",
                "1",
                "--nuclei",
                "24O",
                "--draws",
                "4",
                "--json",
            ]
        )
        == 0
    )
    res = json.loads(capsys.readouterr().out)
    assert res["model"]["model"] == "rmf" and res["draws"] == 4
    row = res["nuclei"]["24O"]["charge_radius"]
    assert row["experiment"] is None and row["pull"] is None
    b = res["nuclei"]["24O"]["binding_energy"]
    if b["valid_fraction"] > 0:
        assert b["low_68"] <= b["median"] <= b["high_68"] and b["experiment"] == pytest.approx(168.9528)


def test_predictive_errors(tmp_path, capsys):
    assert main(["predictive", str(tmp_path / "none")]) == 2
    assert "error:" in capsys.readouterr().err
    assert main(["predictive", str(tmp_path), "--nuclei", "Xx99"]) == 2
    assert "unknown element symbol 'Xx'" in capsys.readouterr().err
    assert main(["predictive", str(tmp_path), "--draws", "0"]) == 2
    assert "--draws = 0 is outside the allowed range [1, 1000000]" in capsys.readouterr().err


def test_predict_posterior_takes_a_model_instance(tmp_path, run_file, fake_emulator):
    from nucleiml.inference import predict_posterior

    out = tmp_path / "nml"
    assert (
        main(["infer", "--config", str(run_file), "--out", str(out), "--quiet", "--predictive-draws", "0"])
        == 0
    )
    double = EmulatorModel(FakeEmulator(), ("208Pb",), source="double")
    res = predict_posterior(out, nuclei=["208Pb"], model=double, draws=30)
    assert res["model"]["emulator"] == "double" and list(res["nuclei"]) == ["208Pb"] and res["draws"] == 30
    with pytest.raises(ValueError, match="predictive_draws must be an integer >= 0"):
        predict_posterior(out, draws=-2)
