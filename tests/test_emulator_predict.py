"""Emulator prediction without torch: forward pass, file format round trip, the predict API and its errors."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import nucleiml
from _emulator_helpers import B_EXP, PAPER, ZN, prior_samples, random_emulator, random_mlp
from nucleiml import NMP, NucleusError, ParameterError, couplings_from_nmp_array
from nucleiml.datasets import default_prior
from nucleiml.emulator import MLP, Emulator, ModelFormatError, Scaler, TargetTransform, as_nmp_matrix
from nucleiml.emulator.features import (
    BASE_FEATURES,
    COUPLING_FEATURES,
    assemble,
    check_feature_names,
    couplings_of,
)
from nucleiml.parameters import NMP_NAMES

SRC = Path(nucleiml.__file__).resolve().parent.parent


# --------------------------------------------------------------------------- forward pass and features
@pytest.mark.parametrize(
    ("activation", "fn"),
    [("relu", lambda h: np.maximum(h, 0)), ("tanh", np.tanh), ("silu", lambda h: h / (1 + np.exp(-h)))],
)
def test_mlp_matches_a_float64_reference_and_ignores_block_size(activation, fn):
    rng = np.random.default_rng(1)
    net = random_mlp(rng, [9, 13, 7, 3], activation, "softmax")
    x = rng.normal(size=(1000, 9)).astype(np.float32)
    h = x.astype(np.float64)
    for k, (W, b) in enumerate(zip(net.weights, net.biases)):
        h = h @ W.astype(np.float64) + b
        if k < 2:
            h = fn(h)
    ref = np.exp(h - h.max(axis=1, keepdims=True))
    ref /= ref.sum(axis=1, keepdims=True)
    out = net(x)
    assert out.dtype == np.float32 and out.shape == (1000, 3)
    assert np.allclose(out, ref, rtol=1e-5, atol=1e-6)
    assert np.allclose(net(x, block_rows=7), out, rtol=1e-6, atol=1e-7)
    assert net.hidden == (13, 7) and net.n_parameters == 9 * 13 + 13 + 13 * 7 + 7 + 7 * 3 + 3


def test_silu_layers_run_halved_give_the_unhalved_numbers_bit_for_bit():
    """SiLU hidden layers run with halved weights and h (1 + tanh h) (two passes fewer): the float32
    numbers of x (1 + tanh(x / 2)) / 2 on the original layer, bit for bit (halving is exact)."""
    from nucleiml.emulator.forward import OUTPUTS, _silu

    rng = np.random.default_rng(3)
    net = random_mlp(rng, [9, 64, 64, 1], "silu", "sigmoid")
    x = rng.normal(size=(5000, 9)).astype(np.float32)
    h = x
    for k, (W, b) in enumerate(zip(net.weights, net.biases)):
        o = np.empty((h.shape[0], W.shape[1]), np.float32)
        np.matmul(h, W, out=o)
        o += b
        h = _silu(o, np.empty_like(o)) if k < 2 else o
    np.testing.assert_array_equal(net(x, block_rows=5000), OUTPUTS["sigmoid"](h))


def test_accept_reject_recall_collapses_the_four_classes():
    from nucleiml.emulator.metrics import accept_reject_scores

    true = np.array(["convergent"] * 4 + ["nc_a", "nc_b", "nc_b", "nc_c", "nc_c"])
    pred = np.array(
        ["convergent", "convergent", "convergent", "nc_c", "nc_a", "nc_c", "convergent", "nc_b", "nc_c"]
    )
    s = accept_reject_scores(true, pred)
    # a missed nc_b labelled nc_c is still rejected: only the nc_b called convergent is a reject miss
    assert s["accept_recall"] == 0.75 and s["reject_recall"] == 0.8
    assert (s["accept_support"], s["reject_support"]) == (4, 5)
    assert s["accuracy"] == 7 / 9
    assert s["reject_recall_learned"] == 0.75 and s["reject_learned_support"] == 4  # without the exact nc_a
    empty = accept_reject_scores(np.array(["nc_a"]), np.array(["nc_a"]))
    assert np.isnan(empty["accept_recall"]) and empty["reject_recall"] == 1.0
    with pytest.raises(ValueError, match="shape"):
        accept_reject_scores(true, pred[:3])


def test_stacked_networks_give_each_networks_outputs():
    """Networks of different depths run stacked (the small-batch path of predict): each one's outputs, for
    one row (block-diagonal products) and for five (column slices)."""
    from nucleiml.emulator.forward import StackedMLP

    rng = np.random.default_rng(4)
    nets = [
        random_mlp(rng, [9, 16, 16, 1], "silu", "sigmoid"),
        random_mlp(rng, [9, 16, 16, 16, 16, 1], "silu", "linear"),
        random_mlp(rng, [9, 16, 16, 16, 4], "silu", "softmax"),
    ]
    x = rng.normal(size=(5, 9)).astype(np.float32)
    for rows in (x[:1], x):  # block-diagonal products for one row, column slices for five
        for net, out in zip(nets, StackedMLP(nets)(rows)):
            np.testing.assert_allclose(out, net(rows), rtol=2e-6, atol=2e-7)
    with pytest.raises(ValueError, match="activation"):
        StackedMLP([nets[0], random_mlp(rng, [9, 4, 1], "relu", "linear")])


def test_mlp_rejects_inconsistent_layers():
    W = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match="float32"):
        MLP((W.astype(np.float64),), (np.zeros(4, np.float32),), "relu", "linear")
    with pytest.raises(ValueError, match="takes 5 inputs"):
        MLP(
            (W, np.zeros((5, 1), np.float32)),
            (np.zeros(4, np.float32), np.zeros(1, np.float32)),
            "relu",
            "linear",
        )
    with pytest.raises(ValueError, match="unknown activation"):
        MLP((W,), (np.zeros(4, np.float32),), "gelu", "linear")
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        MLP((W,), (np.zeros(4, np.float32),), "relu", "linear")(np.zeros((2, 4)))


def test_features_scalers_and_target_transforms_round_trip():
    x = prior_samples(50)
    f = assemble(x, 20, 28, check_feature_names((*NMP_NAMES, "Z", "N", "A13", "I")))
    assert f.shape == (50, 11)
    assert np.all(f[:, 7] == 20) and np.all(f[:, 8] == 28)
    assert np.allclose(f[:, 9], 48 ** (1 / 3)) and np.allclose(f[:, 10], 8 / 48)
    with pytest.raises(ParameterError, match="nucleus features"):
        check_feature_names((*NMP_NAMES, "Z", "N", "A^2"))
    with pytest.raises(ParameterError, match="then distinct coupling features"):
        check_feature_names((*NMP_NAMES, "Z", "N", "g_sigma", "A13"))  # nucleus features come first
    with pytest.raises(ParameterError, match="must start with"):
        check_feature_names(("Z", "N"))
    s = Scaler.fit(f)
    assert np.allclose(s.inverse(s.transform(f, np.float64)), f)
    assert Scaler.from_dict(s.to_dict()).to_dict() == s.to_dict()
    b = np.array([300.0, 340.0, 420.0])
    Z, N = np.array([20, 20, 20]), np.array([20, 20, 28])
    for name in ("identity", "per_nucleon", "per_a13", "per_liquid_drop"):
        t = TargetTransform.fit(name, b, Z, N)
        assert np.allclose(t.inverse(t.forward(b, Z, N), Z, N), b)
        assert TargetTransform.from_dict(t.to_dict()).to_dict() == t.to_dict()
    with pytest.raises(ValueError, match="unknown target transform"):
        TargetTransform.fit("log", b, Z, N)


def test_coupling_features_are_the_exact_inversion():
    x = prior_samples(400, seed=2)
    names = check_feature_names((*NMP_NAMES, "Z", "N", "A13", *COUPLING_FEATURES))
    with pytest.raises(ValueError, match="couplings="):
        assemble(x, 20, 20, names)
    ok, cpl = couplings_of(x, default_prior().masses)
    inv = couplings_from_nmp_array(x, **default_prior().masses)
    assert np.array_equal(ok, inv.ok) and 0 < ok.sum() < len(x)
    f = assemble(x, 20, 20, names, couplings=cpl)
    j = names.index("B")
    assert np.array_equal(f[ok, j], np.asarray(inv.couplings["B"])[ok]) and np.all(np.isnan(f[~ok, j]))
    assert np.array_equal(f[ok, names.index("sign_B")], np.sign(f[ok, j]))
    # the scaler ignores the undefined (nc_a) rows
    s = Scaler.fit(f)
    assert np.isclose(s.mean[j], np.mean(f[ok, j])) and np.all(np.isfinite(s.scale))


def test_folded_prediction_equals_the_full_feature_network():
    """The emulator folds the nucleus inputs into the first layer and feeds NMPs and coupling features per
    row; that must equal the plain network on the full feature matrix."""
    names = (*BASE_FEATURES, "A13", "I", *COUPLING_FEATURES)
    em = random_emulator("hybrid", features=names)
    assert em.uses_couplings
    x = prior_samples(500, seed=9)
    inv = em.invert(x)
    for nuc in ("16O", "208Pb"):
        out = em.predict(x, nuc, mask_nonconvergent=False)
        ok = inv.ok
        f = assemble(x[ok], *ZN[nuc], names, couplings={k: v[ok] for k, v in inv.couplings.items()})
        s = Scaler.from_dict(em.metadata["feature_scaler"])
        y = em.networks["charge_radius"](s.transform(f).astype(np.float32))
        r = em._targets["charge_radius"].inverse(y, *ZN[nuc])
        np.testing.assert_allclose(out["charge_radius"][ok], r, rtol=2e-6)
        assert np.all(np.isnan(out["charge_radius"][~ok])) and np.all(out["label"][~ok] == "nc_a")
        # one inversion for several nuclei gives the same result; couplings_ok=True cannot turn a row
        # without couplings into anything but nc_a for a model that needs the couplings
        again = em.predict(x, nuc, inversion=inv, mask_nonconvergent=False)
        for k in out:
            assert np.array_equal(out[k], again[k], equal_nan=out[k].dtype.kind == "f")
        assert np.array_equal(em.predict(x, nuc, couplings_ok=True)["label"] == "nc_a", ~ok)
    with pytest.raises(ParameterError, match="inversion must hold"):
        em.predict(x[:10], "16O", inversion=inv)


def test_liquid_drop_reference_follows_experiment():
    """The fixed Bethe-Weizsaecker reference of the per_liquid_drop target is within 12 % of AME2020 for
    every shipped nucleus from 16O up (the drip-line 24O is the farthest), so B / B_LD stays near 1."""
    from nucleiml.emulator.features import liquid_drop_binding_energy
    from nucleiml.experiment import available_nuclei, experiment

    for nuc in available_nuclei():
        if nuc.A >= 16:
            ratio = experiment(nuc).binding_energy / liquid_drop_binding_energy(nuc.Z, nuc.N)
            assert 0.95 < ratio < 1.12, (nuc.name, ratio)


def test_spin_orbit_sum_vanishes_at_oscillator_magic_numbers_and_counts_intruders():
    """Sum of <l.s> in the shell model: spin-orbit partners cancel (0 at 2, 8, 20, 40 nucleons); each
    unpartnered j = l + 1/2 orbital adds (2j + 1) l / 2: f7/2 at 28 (8 x 3/2), g9/2 at 50 (10 x 2),
    h11/2 at 82 (12 x 5/2), i13/2 at 126 (14 x 3); a partly filled orbital counts by its share."""
    from nucleiml.emulator.features import DERIVED_FEATURES, spin_orbit_sum

    n = np.array([0, 2, 8, 20, 40, 28, 50, 82, 126, 14, 24])
    expected = np.array([0, 0, 0, 0, 0, 12, 20, 30, 42, 6, 1.5 * 4])  # 14: d5/2; 24: f7/2 half filled
    np.testing.assert_array_equal(spin_orbit_sum(n), expected)
    # 56Ni: both species at 28; 208Pb: protons 82, neutrons 126
    assert DERIVED_FEATURES["ls_p"](28, 28) == DERIVED_FEATURES["ls_n"](28, 28) == 12
    assert (DERIVED_FEATURES["ls_p"](82, 126), DERIVED_FEATURES["ls_n"](82, 126)) == (30, 42)
    with pytest.raises(ParameterError, match="nucleon number"):
        spin_orbit_sum(-1)


# --------------------------------------------------------------------------- file format
@pytest.mark.parametrize("mode", ["hybrid", "softmax4"])
def test_save_load_round_trip_is_exact(tmp_path, mode):
    em = random_emulator(mode)
    em.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["model.json", "weights.npz"]
    back = Emulator.load(tmp_path / "m")
    assert back.nuclei == em.nuclei and back.mode == mode and dict(back.prior_box) == dict(em.prior_box)
    for name, net in em.networks.items():
        for a, b in zip(net.weights + net.biases, back.networks[name].weights + back.networks[name].biases):
            assert a.dtype == b.dtype == np.float32 and np.array_equal(a, b)
    x = prior_samples(300, seed=5)
    for nuc in ("16O", "208Pb"):
        p, q = em.predict(x, nuc), back.predict(x, nuc)
        for k in p:
            assert np.array_equal(p[k], q[k], equal_nan=p[k].dtype.kind == "f")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["format"] == "nucleiml-emulator" and meta["format_version"] == 1
    assert (
        meta["networks"]["binding_energy"]["shapes"] == [[10, 8], [8, 8], [8, 1]]
        if mode == "hybrid"
        else True
    )


def test_load_refuses_pickles_tampering_and_other_versions(tmp_path):
    em = random_emulator()
    d = em.save(tmp_path / "m")
    # an object array inside the npz is refused (allow_pickle=False), never unpickled
    with zipfile.ZipFile(d / "weights.npz", "a") as z:
        import io

        buf = io.BytesIO()
        np.save(buf, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
        z.writestr("classifier.9.W.npy", buf.getvalue())
    with pytest.raises(ModelFormatError, match=r"cannot read .* as plain arrays"):
        Emulator.load(d)
    d = em.save(tmp_path / "m2")
    with np.load(d / "weights.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["binding_energy.0.W"] = arrays["binding_energy.0.W"] + np.float32(1e-3)
    np.savez(d / "weights.npz", **arrays)
    with pytest.raises(ModelFormatError, match="weights_sha256"):
        Emulator.load(d)
    d = em.save(tmp_path / "m3")
    meta = json.loads((d / "model.json").read_text())
    meta["format_version"] = 99
    (d / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFormatError, match="format version 99"):
        Emulator.load(d)
    with pytest.raises(ModelFormatError, match="not a NucleiML emulator"):
        Emulator.load(tmp_path / "nothing")


def test_default_model_loads_or_says_clearly_that_none_is_shipped():
    try:
        em = Emulator.load()
    except ModelFormatError as exc:
        assert "no default emulator is shipped" in str(exc)
    else:
        assert em.class_names == ("convergent", "nc_a", "nc_b", "nc_c") and len(em.nuclei) >= 5


# --------------------------------------------------------------------------- predict
@pytest.fixture(scope="module")
def em():
    return random_emulator("hybrid")


@pytest.fixture(scope="module")
def x():
    return prior_samples(2000, seed=3)


def test_predict_interface(em, x):
    out = em.predict(x, "208Pb")
    n = len(x)
    assert set(out) == {
        "label",
        "probabilities",
        "binding_energy",
        "charge_radius",
        "in_domain",
        "couplings_ok",
    }
    assert em.class_names == ("convergent", "nc_a", "nc_b", "nc_c")
    assert out["label"].shape == (n,) and out["label"].dtype.kind == "U"
    assert set(np.unique(out["label"])) <= set(em.class_names)
    p = out["probabilities"]
    assert p.shape == (n, 4) and np.all(p >= 0) and np.allclose(p.sum(axis=1), 1)
    assert np.array_equal(out["label"], np.array(em.class_names)[p.argmax(axis=1)])
    conv = out["label"] == "convergent"
    assert np.all(np.isfinite(out["binding_energy"][conv])) and np.all(np.isnan(out["binding_energy"][~conv]))
    assert np.all(np.isfinite(out["charge_radius"][conv])) and np.all(np.isnan(out["charge_radius"][~conv]))
    assert out["in_domain"].dtype == bool and out["in_domain"].all()
    assert em.nuclei == PAPER
    assert set(em.prior_box) == set(NMP_NAMES) and em.prior_box["K0"] == (180.0, 320.0)


def test_nc_a_is_exactly_the_couplings_inversion(em, x):
    ok = couplings_from_nmp_array(x, **em.masses).ok
    out = em.predict(x, "40Ca")
    assert np.array_equal(out["couplings_ok"], ok)
    assert np.array_equal(out["label"] == "nc_a", ~ok)
    assert np.all(out["probabilities"][~ok, 1] == 1.0) and np.all(out["probabilities"][ok, 1] == 0.0)
    # the cheap path: the caller supplies the inversion (or asserts every row has couplings)
    same = em.predict(x, "40Ca", couplings_ok=ok)
    for k in out:
        assert np.array_equal(out[k], same[k], equal_nan=out[k].dtype.kind == "f")
    all_ok = em.predict(x, "40Ca", couplings_ok=True)
    assert not np.any(all_ok["label"] == "nc_a")
    assert np.allclose(all_ok["probabilities"][ok], out["probabilities"][ok])
    many = em.predict_nuclei(x, "16O,40Ca")
    assert list(many) == ["16O", "40Ca"]
    assert np.array_equal(many["40Ca"]["probabilities"], out["probabilities"])


def test_one_row_inversion_is_the_batch_inversion():
    """One NMP row is inverted in Python floats (the single-row path of Emulator.predict): the same
    failure codes as the batch, couplings within 1e-10 relative; the float path decides nearly every prior
    draw itself (the rest go through the arrays)."""
    from _inversion_cases import inversion_cases
    from nucleiml.nuclear_matter import _couplings_from_one_nmp, _invert_one

    masses = dict(default_prior().masses)
    table = inversion_cases(np.random.default_rng(8), per_interval=2, n_prior=300)
    x = np.concatenate([prior_samples(300, seed=9), np.stack([table[k] for k in NMP_NAMES], axis=1)])
    batch = couplings_from_nmp_array(x, **masses)
    for i in range(len(x)):
        one = _couplings_from_one_nmp(x[i], masses)
        assert one.code[0] == batch.code[i], i
        for k, v in one.couplings.items():
            assert abs(v[0] - batch.couplings[k][i]) <= 1e-10 * abs(batch.couplings[k][i]) or (
                np.isnan(v[0]) and np.isnan(batch.couplings[k][i])
            ), (i, k)
    decided = sum(_invert_one(row, masses, 48) is not None for row in x[:300])
    assert decided >= 290


def test_one_row_predictions_are_the_batch_predictions():
    """predict and predict_nuclei for one row (the small-batch path: the inversion in floats, the networks
    without block buffers) give the batch's labels and, to float32 rounding (the README's batch-size
    statement), its numbers."""
    try:
        em = Emulator.load()
    except ModelFormatError:
        pytest.skip("no shipped model")
    x = prior_samples(600, seed=10)
    x = x[em.couplings_ok(x)][:150]
    x = np.concatenate([x, prior_samples(50, seed=11)])  # and rows without couplings
    batch = em.predict_nuclei(x, ["40Ca", "208Pb"])
    for i in range(len(x)):
        one = em.predict_nuclei(x[i : i + 1], ["40Ca", "208Pb"])
        alone = em.predict(x[i : i + 1], "208Pb")
        for nuc, out in batch.items():
            for res in (one[nuc], alone) if nuc == "208Pb" else (one[nuc],):
                assert res["label"][0] == out["label"][i]
                # float32 outputs: P(nc_b) = 1 - q carries q's rounding (1.2e-7) as an absolute error
                np.testing.assert_allclose(
                    res["probabilities"][0], out["probabilities"][i], rtol=0, atol=3e-7
                )
                for k in ("binding_energy", "charge_radius"):
                    np.testing.assert_allclose(res[k][0], out[k][i], rtol=1e-6)


def test_nc_c_follows_the_predicted_binding_energy(em, x):
    out = em.predict(x, "48Ca", couplings_ok=True, mask_nonconvergent=False)
    dev = np.abs(out["binding_energy"] / B_EXP["48Ca"] - 1)
    conv_or_c = np.isin(out["label"], ("convergent", "nc_c"))
    far, near = dev > 0.21, dev < 0.19  # away from the threshold the label is the rule applied to B
    assert np.all(out["label"][conv_or_c & far] == "nc_c")
    assert np.all(out["label"][conv_or_c & near] == "convergent")


def test_nc_b_threshold_relabels_rows_without_changing_probabilities(em, x):
    base = em.predict(x, "208Pb")
    p_b = base["probabilities"][:, 2]
    t = float(np.quantile(p_b[base["couplings_ok"]], 0.7))  # between the rows: some above, most below
    out = em.predict(x, "208Pb", nc_b_threshold=t)
    assert np.array_equal(out["probabilities"], base["probabilities"])
    above = p_b >= t
    assert 0 < above.sum() < base["couplings_ok"].sum()
    assert np.all(out["label"][above] == "nc_b")
    assert np.array_equal(out["label"][~above], base["label"][~above])
    assert np.all(np.isnan(out["binding_energy"][above]))  # no longer convergent: masked
    # the threshold passes through predict_nuclei; 1 labels only rows certain to fail
    many = em.predict_nuclei(x, "208Pb", nc_b_threshold=t)
    assert np.array_equal(many["208Pb"]["label"], out["label"])
    certain = em.predict(x, "208Pb", nc_b_threshold=1.0)["label"]
    assert np.array_equal(certain == "nc_b", (p_b >= 1.0) | (base["label"] == "nc_b"))
    outside = r"nc_b_threshold = .* is outside the allowed range \(0\.0, 1\.0\]"
    for bad, message in [
        *((v, outside) for v in (0, 0.0, -0.1, 1.5)),
        (float("nan"), "nc_b_threshold must be finite"),
        ("high", "nc_b_threshold must be a real number"),
        (True, "nc_b_threshold must be a real number"),
    ]:
        with pytest.raises(ParameterError, match=message):
            em.predict(x[:3], "208Pb", nc_b_threshold=bad)


def test_input_forms_agree(em, x):
    rows = x[:5]
    a = em.predict(rows, "16O")
    b = em.predict({k: rows[:, i] for i, k in enumerate(NMP_NAMES)}, "16O")
    c = em.predict([NMP(**dict(zip(NMP_NAMES, r))) for r in rows], "16O")
    d = em.predict(rows[0], "O16")  # one row of 7 and another spelling of the nucleus
    for other in (b, c):
        assert np.array_equal(a["probabilities"], other["probabilities"])
    assert np.array_equal(d["probabilities"], a["probabilities"][:1])
    assert em.predict(np.zeros((0, 7)), "16O")["label"].shape == (0,)
    assert np.array_equal(as_nmp_matrix(NMP(**dict(zip(NMP_NAMES, rows[1])))), rows[1:2])


def test_out_of_box_values_are_flagged_or_refused(em, x):
    y = x[:4].copy()
    y[1, 2] = 350.0  # K0 above the prior's 320 MeV, inside the physical range
    out = em.predict(y, "208Pb")
    assert out["in_domain"].tolist() == [True, False, True, True]
    assert np.array_equal(em.in_domain(y), out["in_domain"])
    with pytest.raises(
        ParameterError, match=r"K0\[1\] = 350.0 is outside the training prior box \[180, 320\]"
    ):
        em.predict(y, "208Pb", out_of_domain="raise")
    # one row (compared as floats): the same flags and errors
    assert em.predict(y[1:2], "208Pb")["in_domain"].tolist() == [False]
    assert em.predict(y[:1], "208Pb")["in_domain"].tolist() == [True]
    with pytest.raises(ParameterError, match=r"K0\[0\] = 350.0 is outside the training prior box"):
        em.predict(y[1:2], "208Pb", out_of_domain="raise")
    z = y[:1].copy()
    z[0, 4] = 1.2  # mstar beyond its physical range
    with pytest.raises(ParameterError, match=r"mstar\[0\] = 1.2 is outside the allowed range"):
        em.predict(z, "208Pb")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros((3, 6)), r"shape \(n, 7\).*got shape \(3, 6\)"),
        (np.zeros((2, 7, 1)), r"shape \(n, 7\)"),
        ("abc", "must be an"),
        ({"rho0": [0.15]}, "NMP mapping lacks E0"),
    ],
)
def test_bad_shapes_give_clear_errors(em, bad, message):
    with pytest.raises(ParameterError, match=message):
        em.predict(bad, "16O")


def test_nan_and_unphysical_values_name_the_field(em, x):
    y = x[:3].copy()
    y[2, 4] = np.nan
    with pytest.raises(ParameterError, match=r"mstar\[2\] = nan is not a finite number"):
        em.predict(y, "16O")
    y = x[:3].copy()
    y[0, 0] = 0.9
    with pytest.raises(ParameterError, match=r"rho0\[0\] = 0.9 is outside the allowed range \(0.05, 0.4\]"):
        em.predict(y, "16O")
    with pytest.raises(ParameterError, match="couplings_ok must be"):
        em.predict(x[:3], "16O", couplings_ok=np.ones(2, bool))
    with pytest.raises(ValueError, match="out_of_domain must be"):
        em.predict(x[:3], "16O", out_of_domain="ignore")


def test_unknown_and_untrained_nuclei(em, x):
    with pytest.raises(NucleusError, match="unknown element symbol 'Xx'"):
        em.predict(x[:2], "Xx208")
    with pytest.raises(
        NucleusError, match=r"90Zr is not among the nuclei this emulator was trained on \(16O, 40Ca"
    ):
        em.predict(x[:2], "90Zr")
    out = em.predict(x[:50], "90Zr", allow_unseen=True)  # extrapolation on request; nc_c uses B_exp(90Zr)
    assert out["probabilities"].shape == (50, 4)
    with pytest.raises(ValueError, match="no experimental data for 210Pb"):
        em.predict(x[:2], "210Pb", allow_unseen=True)


def test_softmax4_mode_uses_the_exact_nc_a(x):
    em = random_emulator("softmax4")
    out = em.predict(x[:500], "132Sn")
    ok = out["couplings_ok"]
    assert np.all(out["label"][~ok] == "nc_a") and not np.any(out["label"][ok] == "nc_a")
    assert np.allclose(out["probabilities"].sum(axis=1), 1)
    raw = em.network_probabilities(x[:500], "132Sn")
    assert raw.shape == (500, 4) and np.allclose(raw.sum(axis=1), 1, atol=1e-5)


def test_prediction_needs_neither_torch_nor_matplotlib_nor_pyarrow(tmp_path):
    d = random_emulator().save(tmp_path / "m")
    code = f"""
import sys
for name in ("torch", "matplotlib", "pyarrow"):
    sys.modules[name] = None  # any import of them now raises ImportError
import numpy as np
from nucleiml import Emulator
em = Emulator.load({str(d)!r})
x = np.array([[0.15, -16.3, 240.0, -400.0, 0.6, 35.0, 90.0]] * 3)
out = em.predict(x, "208Pb")
print(out["label"][0], out["probabilities"].shape)
"""
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"},
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "(3, 4)" in r.stdout


def test_skin_from_either_regressor_one_row_as_a_batch_and_masked_where_not_convergent():
    """The neutron skin Rn - Rp of a model with a skin regressor, or with an Rn regressor (then Rp =
    sqrt(Rch^2 - 0.64 fm^2), the solver's convention); one row gives the batch's number."""
    x = prior_samples(400, 3)
    for kind in ("neutron_skin", "neutron_radius"):
        em = random_emulator(skin=kind)
        assert em.observables == ("binding_energy", "charge_radius", "neutron_skin")
        out = em.predict(x, "208Pb", mask_nonconvergent=False)
        ok = out["couplings_ok"]
        assert ok.sum() > 50 and np.all(np.isfinite(out["neutron_skin"][ok]))
        assert np.all(np.isnan(out["neutron_skin"][~ok]))
        if kind == "neutron_radius":  # Rn from its network, Rp from the charge radius
            nets = em._nets_for(em._nucleus("208Pb", False))
            z = em._scaled_rows(x[ok], em.invert(x[ok]).couplings)
            rn = em._targets["neutron_radius"].inverse(nets["neutron_radius"](z)[:, 0], 82, 126)
            rp = np.sqrt(out["charge_radius"][ok] ** 2 - 0.64)
            np.testing.assert_allclose(out["neutron_skin"][ok], rn - rp, rtol=0, atol=1e-9)
        i = int(np.flatnonzero(ok)[0])
        one = em.predict(x[i : i + 1], "208Pb", mask_nonconvergent=False)
        assert one["neutron_skin"][0] == pytest.approx(out["neutron_skin"][i], abs=1e-6)
        masked = em.predict(x, "208Pb")
        conv = masked["label"] == "convergent"
        assert np.all(np.isnan(masked["neutron_skin"][~conv]))
        np.testing.assert_array_equal(masked["neutron_skin"][conv], out["neutron_skin"][conv])
    plain = random_emulator()
    assert "neutron_skin" not in plain.predict(x[:5], "208Pb") and plain.observables[-1] == "charge_radius"
