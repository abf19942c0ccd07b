"""Emulator training (PyTorch): reproducibility, a loss threshold, and training on real solver output."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from _emulator_helpers import NARROW_PRIOR, nmp_argv

torch = pytest.importorskip("torch")
pytest.importorskip("pyarrow")

import nucleiml  # noqa: E402
from nucleiml.cli import main  # noqa: E402
from nucleiml.datasets import generate, read_table, split  # noqa: E402
from nucleiml.emulator import PRESETS, Emulator, NetworkSpec, fit_network, get_preset, train_emulator  # noqa: E402
from nucleiml.emulator.training import extend_emulator  # noqa: E402
from nucleiml.emulator.tune import load_grid  # noqa: E402
from nucleiml.parameters import NMP_NAMES, ParameterError  # noqa: E402
from nucleiml.solver import solve_batch  # noqa: E402

SRC = Path(nucleiml.__file__).resolve().parent.parent


def synthetic(n=600, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 4)).astype(np.float32)
    y = (np.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2] - 0.5 * x[:, 3] ** 2).astype(np.float32)
    return x, (y - y.mean()) / y.std()


def quick(preset, factor=1.0, **kw):
    """A preset with epochs scaled by ``factor`` (tiny datasets need few epochs to test the plumbing)."""
    p = get_preset(preset)
    return p.replace(
        **{
            n: p.network(n).replace(epochs=max(1, int(p.network(n).epochs * factor)), **kw)
            for n in p.network_names
        }
    )


# --------------------------------------------------------------------------- fit_network
def test_same_seed_same_weights_bitwise():
    x, y = synthetic()
    spec = NetworkSpec(
        hidden=(16, 16),
        epochs=3,
        loss="mse",
        activation="silu",
        batch_size=32,
        schedule="cosine",
        restore_best=True,
    )
    a, ha, _ = fit_network(spec, x[:500], y[:500], x[500:], y[500:], seed=11)
    b, hb, _ = fit_network(spec, x[:500], y[:500], x[500:], y[500:], seed=11)
    c, _, _ = fit_network(spec, x[:500], y[:500], x[500:], y[500:], seed=12)
    for wa, wb in zip(a.weights + a.biases, b.weights + b.biases):
        assert np.array_equal(wa, wb)
    assert ha.train_loss == hb.train_loss and ha.val_loss == hb.val_loss
    assert not np.array_equal(a.weights[0], c.weights[0])


def test_tiny_training_reaches_a_loss_threshold_and_records_curves():
    x, y = synthetic(800)
    spec = NetworkSpec(hidden=(32, 32), epochs=60, loss="mse", activation="tanh", batch_size=32)
    net, hist, saved = fit_network(spec, x[:700], y[:700], x[700:], y[700:], seed=0, checkpoints=(10, 60))
    assert len(hist.train_loss) == len(hist.val_loss) == 60 and hist.kept_epoch == 60
    assert hist.train_loss[-1] < 0.05 * hist.train_loss[0] and hist.val_loss[-1] < 0.06  # variance of y is 1
    assert np.mean((net(x[700:])[:, 0] - y[700:]) ** 2) == pytest.approx(hist.val_loss[-1], rel=1e-4)
    assert set(saved) == {10, 60} and np.array_equal(saved[60].weights[0], net.weights[0])
    # a classifier: its accuracy curve too
    labels = (y > 0).astype(np.float32)
    spec = NetworkSpec(hidden=(16,), epochs=30, loss="binary_cross_entropy", batch_size=32)
    net, hist, _ = fit_network(spec, x[:700], labels[:700], x[700:], labels[700:], seed=0)
    assert (
        hist.val_accuracy[-1] > 0.85
        and hist.train_accuracy[-1] > hist.train_accuracy[0]
        and net.output == "sigmoid"
    )


def test_presets_are_validated():
    assert PRESETS["paper"].classifier.hidden == (128,) and PRESETS["paper"].binding_energy.hidden == (64, 64)
    assert PRESETS["paper"].charge_radius.hidden == (64,)
    assert [
        PRESETS["paper"].network(n).epochs for n in ("classifier", "binding_energy", "charge_radius")
    ] == [100, 500, 200]
    assert all(
        PRESETS["paper"].network(n).batch_size == 32
        for n in ("classifier", "binding_energy", "charge_radius")
    )
    assert (
        PRESETS["paper"].binding_energy.loss == "mape" and PRESETS["default"].classifier.learning_rate == 1e-3
    )
    assert type(PRESETS["default"]).from_dict(PRESETS["default"].to_dict()) == PRESETS["default"]
    with pytest.raises(ParameterError, match="epochs must be an integer"):
        NetworkSpec(hidden=(8,), epochs=0, loss="mse")
    with pytest.raises(ParameterError, match="activation must be one of"):
        NetworkSpec(hidden=(8,), epochs=1, loss="mse", activation="gelu")
    with pytest.raises(ParameterError, match="hidden must list"):
        NetworkSpec(hidden=(), epochs=1, loss="mse")
    with pytest.raises(ParameterError, match="needs loss 'binary_cross_entropy'"):
        PRESETS["default"].replace(classifier=PRESETS["paper"].classifier)
    with pytest.raises(ParameterError, match="unknown training preset 'fast'"):
        get_preset("fast")


# --------------------------------------------------------------------------- real solver data
@pytest.fixture(scope="module")
def narrow(tmp_path_factory):
    """60 samples near FSUGold2 (nearly all convergent) for 16O and 40Ca, split 70/15/15."""
    d = tmp_path_factory.mktemp("narrow")
    (d / "prior.toml").write_text(NARROW_PRIOR)
    generate(d / "ds", 60, "16O,40Ca", prior=d / "prior.toml", seed=3, workers=1, chunk_size=30)
    split(d / "ds", (0.7, 0.15, 0.15), seed=0)
    return d / "ds"


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """40 samples of the default prior (all four classes occur) for 16O and 40Ca."""
    d = tmp_path_factory.mktemp("wide") / "ds"
    generate(d, 40, "16O,40Ca", seed=5, workers=1, chunk_size=20)
    split(d, (0.6, 0.2, 0.2), seed=0)
    return d


def test_regressor_trained_on_solver_output_reproduces_the_solver(narrow, tmp_path):
    em = train_emulator(narrow, tmp_path / "m", quick("default", 1.0), seed=0, progress=False)
    t = read_table(narrow)
    nmp = np.stack([t.column(k).to_numpy() for k in NMP_NAMES], axis=1)
    nucleus = np.array(t.column("nucleus").to_pylist())
    b = t.column("binding_energy").to_numpy()
    r = t.column("charge_radius").to_numpy()
    skin = t.column("neutron_radius").to_numpy() - t.column("proton_radius").to_numpy()
    label = np.array(t.column("label").to_pylist())
    assert (label == "convergent").mean() > 0.9
    for nuc in ("16O", "40Ca"):
        m = (nucleus == nuc) & (label == "convergent")
        out = em.predict(nmp[m], nuc, mask_nonconvergent=False)
        db = np.abs(out["binding_energy"] / b[m] - 1)
        dr = np.abs(out["charge_radius"] / r[m] - 1)
        # B varies by ~10 % and Rch by ~2 % over this prior; 40 samples pin both far better than that
        assert np.median(db) < 0.01 and np.median(dr) < 0.003, (nuc, np.median(db), np.median(dr))
        assert np.all(out["label"] == "convergent")
        # the skin (-0.03 fm in 16O, -0.05 fm in 40Ca: N = Z, the Coulomb push of the protons) varies by
        # 0.001-0.002 fm (standard deviation) here; measured median misses 1.5e-4 and 1.9e-4 fm
        ds = np.abs(out["neutron_skin"] - skin[m])
        assert np.median(ds) < 0.5 * np.std(skin[m]) + 1e-4, (nuc, np.median(ds), np.std(skin[m]))
    # a fresh solve of an unseen parameter set inside the prior box (physics check, not a table lookup)
    x = np.array([[0.150, -16.2, 240.0, -400.0, 0.60, 35.0, 90.0]])
    inv = nucleiml.couplings_from_nmp_array(x)
    res = solve_batch({**{k: v for k, v in inv.couplings.items()}, **inv.masses}, "40Ca")
    pred = em.predict(x, "40Ca")
    assert pred["binding_energy"][0] == pytest.approx(res.binding_energy[0], rel=0.01)
    assert pred["charge_radius"][0] == pytest.approx(res.charge_radius[0], rel=0.005)
    back = Emulator.load(tmp_path / "m")
    meta = back.metadata
    assert meta["dataset"]["card_sha256"] and meta["package_version"] == nucleiml.__version__
    assert (tmp_path / "m" / "dataset_card.json").is_file()
    assert set(meta["training"]["history"]) == {
        "classifier",
        "binding_energy",
        "charge_radius",
        "neutron_radius",
    }
    assert back.observables == ("binding_energy", "charge_radius", "neutron_skin")
    assert meta["validation"]["regression"]["neutron_skin"]["16O"]["n"] > 0
    assert meta["validation"]["classification"]["n"] > 0


def test_same_seed_same_model_files(narrow, tmp_path):
    p = quick("default", 0.1)
    train_emulator(narrow, tmp_path / "a", p, seed=4, progress=False)
    train_emulator(narrow, tmp_path / "b", p, seed=4, progress=False)
    assert (tmp_path / "a" / "weights.npz").read_bytes() == (tmp_path / "b" / "weights.npz").read_bytes()
    a = json.loads((tmp_path / "a" / "model.json").read_text())
    b = json.loads((tmp_path / "b" / "model.json").read_text())
    assert a["weights_sha256"] == b["weights_sha256"]


def test_training_on_a_subset_of_nuclei_and_bad_requests(wide, tmp_path):
    em = train_emulator(wide, None, quick("paper", 0.05), nuclei="16O", seed=0, progress=False)
    assert em.nuclei == ("16O",) and em.mode == "softmax4"
    assert em.reference_nmp.shape == (0, 7)  # one nucleus: nothing to extrapolate through, no references
    with pytest.raises(nucleiml.NucleusError, match="208Pb are not in the training data"):
        train_emulator(wide, None, quick("paper", 0.05), nuclei="16O,208Pb", progress=False)
    with pytest.raises(ValueError, match="no train split"):
        generate(tmp_path / "nosplit", 4, "16O", workers=1)
        train_emulator(tmp_path / "nosplit", None, "paper", progress=False)


# --------------------------------------------------------------------------- command line
def test_cli_train_evaluate_predict_tune(wide, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    m = tmp_path / "model"
    assert main(["train", str(wide), "--out", str(m), "--quiet", "--nuclei", "16O"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert (
        main(
            [
                "train",
                str(wide),
                "--out",
                str(tmp_path / "paper"),
                "--preset",
                "paper",
                "--quiet",
                "--nuclei",
                "16O",
            ]
        )
        == 0
    )
    capsys.readouterr()
    rep = tmp_path / "report"
    assert (
        main(
            [
                "evaluate",
                str(m),
                str(wide),
                "--report",
                str(rep),
                "--split",
                "all",
                "--also",
                f"paper={tmp_path / 'paper'}",
            ]
        )
        == 0
    )
    text = (rep / "report.md").read_text()
    for section in (
        "Acceptance figures",
        "Classifier (seed Table II",
        "Training curves",
        "Unseen nuclei",
        "Models side by side",
    ):
        assert section in text
    pngs = sorted(p.name for p in rep.glob("*.png"))
    assert {
        "fig2_classifier_training.png",
        "fig3_confusion_matrix.png",
        "fig4_regressor_training.png",
        "fig5_deviations.png",
    } <= set(pngs)
    assert "fig6_rmf_vs_nml_16O.png" in pngs and "fig7_unseen_nuclei.png" in pngs  # neither model saw 40Ca
    summary = json.loads((rep / "summary.json").read_text())
    assert summary["models"]["paper"]["unseen"]["nuclei"] == ["40Ca"]
    assert "nc_b_threshold_tradeoff" in summary["models"]["model"]["seen"]
    seen = summary["models"]["model"]["seen"]
    assert set(seen["accept_reject"]) >= {
        "accept_recall",
        "reject_recall",
        "accept_support",
        "reject_support",
    }
    assert seen["checks"]["accept_reject_recall"]["target"].startswith(">= 0.99")
    assert "Accept (convergent) versus reject" in text and "| reject (nc_a, nc_b, nc_c) |" in text
    # the skin regressor of the default preset: its table in fm, its check, its panel
    assert "### Neutron skin" in text and "95 % within +- (fm)" in text
    assert seen["checks"]["neutron_skin"]["target"] == "95 % within +-0.005 fm for every nucleus"
    assert "neutron_skin" not in summary["models"]["paper"]["seen"]["regression"]  # the paper preset has none
    # a dataset without any training nucleus of the model: only the unseen-nuclei study
    generate(tmp_path / "ca", 6, "40Ca", seed=9, workers=1)
    assert (
        main(["evaluate", str(m), str(tmp_path / "ca"), "--report", str(tmp_path / "r2"), "--split", "all"])
        == 0
    )
    assert "only the unseen-nuclei study applies" in (tmp_path / "r2" / "report.md").read_text()
    capsys.readouterr()
    # predict: one parameter set on the command line, as JSON
    args = nmp_argv([0.15, -16.2, 240, -400, 0.6, 35, 90])
    assert (
        main(["predict", "--model", str(m), "--nuclei", "16O,40Ca", *args, "--json", "--allow-unseen"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert [p["nucleus"] for p in out["predictions"]] == ["16O", "40Ca"]
    assert out["units"]["neutron_skin"] == "fm" and "neutron_skin" in out["predictions"][0]
    assert out["predictions"][0]["label"] in ("convergent", "nc_a", "nc_b", "nc_c")
    # from a CSV file, to a CSV file
    csv_in = tmp_path / "nmp.csv"
    csv_in.write_text("rho0,E0,K0,Q0,mstar,J0,L0\n0.15,-16.2,240,-400,0.6,35,90\n0.16,-16,300,0,0.7,30,60\n")
    assert (
        main(
            [
                "predict",
                "--model",
                str(m),
                "--nuclei",
                "16O",
                "--file",
                str(csv_in),
                "--out",
                str(tmp_path / "p.csv"),
            ]
        )
        == 0
    )
    assert (tmp_path / "p.csv").read_text().count("\n") == 3
    assert main(["predict", "--model", str(m), "--nuclei", "16O", "--file", str(csv_in)]) == 0
    assert "p_convergent" in capsys.readouterr().out
    # clear errors, exit status 2
    assert main(["predict", "--model", str(m), "--nuclei", "16O", "--rho0", "0.15"]) == 2
    assert "missing --E0" in capsys.readouterr().err
    assert main(["predict", "--model", str(m), "--nuclei", "208Pb", *args]) == 2
    err = capsys.readouterr().err
    assert "208Pb is not among the nuclei" in err and "--allow-unseen" in err  # names the CLI flag too
    assert main(["predict", "--model", str(m), "--nuclei", "16O", *args[:-1], "1000"]) == 2
    assert "L0 = 1000.0 is outside the allowed range [-200, 400] MeV" in capsys.readouterr().err
    assert main(["predict", "--model", str(m), "--nuclei", "16O", *args[:-1], "130"]) == 0
    assert "outside the training prior box" in capsys.readouterr().err  # a warning; the row is flagged
    assert main(["predict", "--model", str(m), "--nuclei", "16O", *args[:-1], "130", "--strict-domain"]) == 2
    assert "L0[0] = 130.0 is outside the training prior box [20, 120]" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "nope"), str(wide), "--report", str(rep)]) == 2
    assert "not a NucleiML emulator" in capsys.readouterr().err
    # tune: a tiny grid
    grid = tmp_path / "grid.toml"
    grid.write_text(
        'preset = "paper"\nnuclei = "16O,40Ca"\nnetworks = ["charge_radius"]\nlayers = [1]\nneurons = [8, 16]\nepochs = [2, 5]\nfolds = 2\n'
    )
    assert main(["tune", str(wide), "--grid", str(grid), "--out", str(tmp_path / "tune"), "--quiet"]) == 0
    assert (tmp_path / "tune" / "grid.csv").read_text().count("\n") == 5
    capsys.readouterr()
    assert (
        main(["tune", str(wide), "--grid", str(grid), "--out", str(tmp_path / "tune2"), "--quiet", "--json"])
        == 0
    )
    settings = json.loads(capsys.readouterr().out)["settings"]  # stdout is the JSON alone
    assert len(settings) == 4 and {s["neurons"] for s in settings} == {8, 16}
    assert (
        "| neural network | epochs | layers | neurons per layer |"
        in (tmp_path / "tune" / "grid.md").read_text()
    )
    grid.write_text("layers = [1]\nneurons = [8]\nepochs = [2]\nfolds = 1\n")
    assert main(["tune", str(wide), "--grid", str(grid)]) == 2
    assert "folds must be an integer in [2, 20]" in capsys.readouterr().err
    with pytest.raises(ParameterError, match="unknown key"):
        grid.write_text("layers = [1]\nneurons = [8]\nepochs = [2]\nlearning = 1\n")
        load_grid(grid)


def test_training_without_torch_says_how_to_install_it(wide, tmp_path):
    code = f"""
import sys
sys.modules["torch"] = None
from nucleiml.cli import main
sys.exit(main(["train", {str(wide)!r}, "--out", {str(tmp_path / "m")!r}, "--quiet"]))
"""
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"},
        timeout=120,
    )
    assert r.returncode == 2
    assert 'pip install "nucleiml[ml]"' in r.stderr and r.stderr.startswith("error: ")


def test_report_without_matplotlib_is_a_one_line_error(monkeypatch, tmp_path, capsys):
    """The infer extra missing: the API raises MissingExtraError and the CLI says which extra, exit 2."""
    from nucleiml._extras import MissingExtraError

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "nucleiml.emulator.report", raising=False)
    with pytest.raises(MissingExtraError, match=r"nucleiml\[infer\]"):
        import nucleiml.emulator.report  # noqa: F401
    assert main(["evaluate", str(tmp_path / "m"), str(tmp_path / "d"), "--report", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: matplotlib is needed for the evaluation report") and "Traceback" not in err


def test_extend_adds_the_skin_regressor_and_keeps_every_other_weight(narrow, tmp_path, capsys):
    """``nucleiml train --extend``: a model without the skin regressor gains it; its other networks stay bit
    for bit, so every validation figure it had is unchanged; a dataset other than its own is refused."""
    base = quick("default", 0.3).replace(neutron_radius=None)
    train_emulator(narrow, tmp_path / "old", base, seed=2, progress=False)
    old = Emulator.load(tmp_path / "old")
    assert (
        old.observables == ("binding_energy", "charge_radius")
        and "neutron_radius" not in old.metadata["preset"]
    )
    assert (
        main(
            [
                "train",
                str(narrow),
                "--out",
                str(tmp_path / "new"),
                "--extend",
                str(tmp_path / "old"),
                "--quiet",
            ]
        )
        == 0
    )
    assert "Rn - Rp: 95 % of convergent rows within" in capsys.readouterr().out
    new = Emulator.load(tmp_path / "new")
    assert new.observables == ("binding_energy", "charge_radius", "neutron_skin")
    for name, net in old.networks.items():
        for a, b in zip(net.weights + net.biases, new.networks[name].weights + new.networks[name].biases):
            assert np.array_equal(a, b)
    v_old, v_new = old.metadata["validation"], new.metadata["validation"]
    assert v_new["classification"] == v_old["classification"]
    for key in ("binding_energy", "charge_radius"):
        assert v_new["regression"][key] == v_old["regression"][key]
    assert v_new["regression"]["neutron_skin"]["all"]["n"] > 0
    assert new.metadata["extended"]["networks"] == ["neutron_radius"]
    assert new.metadata["extended"]["base_weights_sha256"] == old.metadata["weights_sha256"]
    # predictions of B and Rch are those of the old model
    x = np.array([[0.150, -16.2, 240.0, -400.0, 0.60, 35.0, 90.0]] * 3)
    for k in ("label", "binding_energy", "charge_radius"):
        assert np.array_equal(old.predict(x, "40Ca")[k], new.predict(x, "40Ca")[k])
    with pytest.raises(ValueError, match="has every network of preset 'default' already"):
        extend_emulator(tmp_path / "new", narrow, None, progress=False)
    other = tmp_path / "other"
    (tmp_path / "prior.toml").write_text(NARROW_PRIOR)
    generate(other, 20, "16O,40Ca", prior=tmp_path / "prior.toml", seed=4, workers=1, chunk_size=20)
    split(other, (0.7, 0.15, 0.15), seed=0)
    with pytest.raises(ValueError, match="not the model's training data"):
        extend_emulator(tmp_path / "old", other, None, progress=False)


def test_regenerated_data_may_differ_by_a_few_labels_only():
    """``--extend``'s check of the training data: the same samples and rows per split and input statistics;
    class counts within COUNT_SLACK of a split's rows (labels next to nc_b flip under round-off), recorded."""
    from types import SimpleNamespace

    from nucleiml.emulator.features import Scaler
    from nucleiml.emulator.training import COUNT_SLACK, _same_training_data

    scaler = Scaler(mean=np.array([1.0, 2.0]), scale=np.array([0.5, 0.25]))
    counts = {"train": {"convergent": 3000, "nc_a": 6000, "nc_b": 50, "nc_c": 950}}
    split = {"samples": {"train": 1000}, "rows": {"train": 10000}, "counts": counts}
    meta = {"dataset": {"split": split}, "feature_scaler": scaler.to_dict()}

    def data(**changes):
        card = {**split, **changes}
        return SimpleNamespace(info={"dataset": "ds", "split_card": card})

    assert _same_training_data(meta, data(), scaler) == {"train": {}}
    moved = {"train": {**counts["train"], "nc_b": 46, "nc_c": 954}}
    assert _same_training_data(meta, data(counts=moved), scaler) == {"train": {"nc_b": -4, "nc_c": 4}}
    k = int(COUNT_SLACK * 10000) + 1
    far = {"train": {**counts["train"], "nc_b": 50 - k, "nc_c": 950 + k}}
    with pytest.raises(ValueError, match=r"class counts .* differ .* by more than 0.001 of the rows"):
        _same_training_data(meta, data(counts=far), scaler)
    with pytest.raises(ValueError, match=r"split samples .* not the model's training data"):
        _same_training_data(meta, data(samples={"train": 999}), scaler)
    other = Scaler(mean=np.array([1.0, 2.0 + 1e-6]), scale=np.array([0.5, 0.25]))
    with pytest.raises(ValueError, match="feature means differ"):
        _same_training_data(meta, data(), other)
