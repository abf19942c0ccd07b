"""Hostile tests of the file formats: emulator directories (weights.npz, model.json), run files and priors
(TOML), NMP input files of ``predict --file``. Seeded corruptions; each is detected with one line naming
the file (or loads unchanged, for a flipped byte the zip format ignores), never read silently wrong.
"""

from __future__ import annotations

import json
import random
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

from _emulator_helpers import prior_samples, random_emulator
from _hostile import outcome
from nucleiml.cli import main
from nucleiml.datasets.prior import load_prior
from nucleiml.emulator import Emulator, ModelFormatError
from nucleiml.emulator.format import metadata_hash
from nucleiml.inference.runfile import load_run_config

DATA = Path(__file__).resolve().parents[1] / "src" / "nucleiml" / "data"
JSON_HOSTILE = (None, [], {}, "x", True, False, -1, 0, 10**400, 1e300, -0.2, float("nan"), [None], {"a": 1})


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile") / "model"
    random_emulator().save(d)
    return d


def _copy(src: Path, dst: Path) -> Path:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    return dst


def _predictions(em):
    return em.predict(prior_samples(20, seed=3), em.nuclei[0])


def _same(a, b) -> bool:
    return all(np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f") for k in a)


# --------------------------------------------------------------------------- weights.npz
def _corrupt_bytes(data: bytes, rng: random.Random) -> bytes:
    kind = rng.choice(("truncate", "flip", "zero", "garbage", "empty", "append"))
    if kind == "truncate":
        return data[: rng.randrange(len(data))]
    if kind == "flip":
        b = bytearray(data)
        b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        return bytes(b)
    if kind == "zero":
        i = rng.randrange(len(data))
        return data[:i] + bytes(min(64, len(data) - i)) + data[i + 64 :]
    if kind == "garbage":
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
    if kind == "append":
        return data + b"\x00junk"
    return b""


@pytest.mark.parametrize("seed", range(3))
def test_corrupted_weights_are_detected_naming_the_file(model_dir, tmp_path, seed):
    rng = random.Random(seed)
    reference = _predictions(Emulator.load(model_dir))
    data = (model_dir / "weights.npz").read_bytes()
    loaded = 0
    for i in range(100):  # 300 cases
        d = _copy(model_dir, tmp_path / f"m{i}")
        (d / "weights.npz").write_bytes(_corrupt_bytes(data, rng))
        kind, res = outcome(Emulator.load, d)
        if kind == "error":
            assert str(d) in res, res
        else:  # a flipped byte the archive does not use (e.g. a timestamp): the same model
            loaded += 1
            assert _same(_predictions(res), reference)
    assert loaded < 30


def test_weights_swapped_between_networks_or_models_are_refused(model_dir, tmp_path):
    d = _copy(model_dir, tmp_path / "swap")
    with np.load(d / "weights.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    w1, w2 = "binding_energy.0.W", "charge_radius.0.W"  # same shape: only the hash tells them apart
    arrays[w1], arrays[w2] = arrays[w2], arrays[w1]
    np.savez(d / "weights.npz", **arrays)
    with pytest.raises(ModelFormatError, match="weights_sha256"):
        Emulator.load(d)
    w1, w2 = "classifier.0.W", "classifier.1.W"  # other shapes
    arrays[w1], arrays[w2] = arrays[w2], arrays[w1]
    np.savez(d / "weights.npz", **arrays)
    with pytest.raises(ModelFormatError, match="must be float32 of shapes"):
        Emulator.load(d)
    other = random_emulator(seed=7).save(tmp_path / "other")
    shutil.copy(other / "weights.npz", d / "weights.npz")
    with pytest.raises(ModelFormatError, match="weights_sha256"):
        Emulator.load(d)


# --------------------------------------------------------------------------- model.json
def _paths(obj, path=()):
    """Every node of a JSON document (containers and leaves) as a key path."""
    yield path
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for k, v in items:
        yield from _paths(v, (*path, k))


def _edited(meta: dict, rng: random.Random, skip=()) -> dict | None:
    meta = json.loads(json.dumps(meta))
    paths = [p for p in _paths(meta) if p and p[0] not in skip]
    path = rng.choice(paths)
    parent = meta
    for k in path[:-1]:
        parent = parent[k]
    value = rng.choice(JSON_HOSTILE)
    if isinstance(parent[path[-1]], type(value)) and parent[path[-1]] == value:
        return None
    if isinstance(parent, list) and rng.random() < 0.2:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return meta


@pytest.mark.parametrize("seed", range(3))
def test_every_edit_of_model_json_is_detected(model_dir, tmp_path, seed):
    rng = random.Random(seed)
    meta = json.loads((model_dir / "model.json").read_text())
    assert meta["metadata_sha256"] == metadata_hash(meta)
    d = _copy(model_dir, tmp_path / "m")
    for _ in range(100):  # 300 cases
        edited = _edited(meta, rng, skip=("metadata_sha256",))
        if edited is None:
            continue
        (d / "model.json").write_text(json.dumps(edited))
        kind, res = outcome(Emulator.load, d)
        assert kind == "error" and "model.json" in res, res


# Fields the emulator reads; the others (training history, provenance) do not change predictions.
READ = ("mode", "features", "feature_scaler", "class_names", "nuclei", "prior_box", "masses")
READ += ("nc_c_threshold", "nc_b_threshold", "networks", "reference_nmp")


@pytest.mark.parametrize("seed", range(4))
def test_edited_metadata_without_a_hash_are_validated(model_dir, tmp_path, seed):
    """Models saved before metadata_sha256 existed: every edit of a field the emulator reads is refused
    with the field's name, or gives finite probabilities in [0, 1] and finite observables."""
    rng = random.Random(100 + seed)
    meta = json.loads((model_dir / "model.json").read_text())
    del meta["metadata_sha256"]
    d = _copy(model_dir, tmp_path / "m")
    for _ in range(100):  # 400 cases
        edited = _edited(meta, rng, skip=tuple(k for k in meta if k not in READ))
        if edited is None:
            continue
        (d / "model.json").write_text(json.dumps(edited))
        kind, res = outcome(Emulator.load, d)
        if kind == "error":
            assert "model.json" in res or str(d) in res, res
            continue
        kind, out = outcome(_predictions, res)
        if kind == "ok":
            p = out["probabilities"]
            assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1)), edited
            conv = out["label"] == "convergent"
            assert np.all(np.isfinite(out["binding_energy"][conv])), edited


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda m: m.__setitem__("networks", []), "networks"),
        (lambda m: m.__setitem__("masses", None), "masses"),
        (lambda m: m["feature_scaler"]["mean"].__setitem__(0, 1e300), "feature_scaler.mean"),
        (lambda m: m.__setitem__("nc_c_threshold", float("nan")), "nc_c_threshold"),
        (lambda m: m.__setitem__("nc_c_threshold", -0.2), "nc_c_threshold"),
        (lambda m: m.__setitem__("nuclei", []), "nuclei"),
    ],
)
def test_the_issues_metadata_edits_name_the_field(model_dir, tmp_path, edit, field):
    meta = json.loads((model_dir / "model.json").read_text())
    d = _copy(model_dir, tmp_path / "m")
    edit(meta)
    (d / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFormatError, match="metadata_sha256"):
        Emulator.load(d)
    del meta["metadata_sha256"]  # as in a model saved before the hash: the validation names the field
    (d / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFormatError, match=field):
        Emulator.load(d)


def test_shipped_model_carries_and_passes_its_metadata_hash():
    meta = json.loads((DATA / "emulator" / "model.json").read_text())
    assert meta["metadata_sha256"] == metadata_hash(meta)
    assert Emulator.load().metadata["metadata_sha256"] == meta["metadata_sha256"]


def test_the_predict_command_reports_a_corrupted_model_in_one_line(model_dir, tmp_path, capsys):
    rng = random.Random(5)
    data = (model_dir / "weights.npz").read_bytes()
    for i in range(10):
        d = _copy(model_dir, tmp_path / f"c{i}")
        (d / "weights.npz").write_bytes(data[: rng.randrange(len(data) // 2)])
        argv = [
            "predict",
            "--model",
            str(d),
            "--nuclei",
            "16O",
            "--rho0",
            "0.155",
            "--E0",
            "-16",
            "--K0",
            "250",
        ]
        argv += ["--Q0", "-200", "--mstar", "0.65", "--J0", "32", "--L0", "60"]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(d) in err, err


# --------------------------------------------------------------------------- run files and priors
TOML_HOSTILE = (
    "1" + "0" * 400,
    "7" * 5000,  # valid TOML that Python refuses to read (more than 4300 digits)
    "-" + "9" * 400,
    "inf",
    "-inf",
    "nan",
    '"x"',
    "true",
    "[]",
    "[1, 2]",
    "{}",
    "1979-05-27",
    "0",
    "-1",
    "1e308",
    '""',
)


def _toml_lines(path: Path):
    lines = path.read_text().splitlines()
    return lines, [i for i, line in enumerate(lines) if "=" in line and not line.lstrip().startswith("#")]


@pytest.mark.parametrize("kind", ["run", "prior"])
@pytest.mark.parametrize("seed", range(2))
def test_hostile_values_in_run_files_and_priors_name_the_key(tmp_path, kind, seed):
    rng = random.Random(seed)
    src = DATA / ("default_run.toml" if kind == "run" else "default_prior.toml")
    load = load_run_config if kind == "run" else load_prior
    lines, keyed = _toml_lines(src)
    f = tmp_path / "file.toml"
    refused = 0
    for _ in range(150):  # 2 kinds x 2 seeds x 150 = 600 cases
        i = rng.choice(keyed)
        key = lines[i].split("=")[0].strip()
        value = rng.choice(TOML_HOSTILE)
        f.write_text("\n".join([*lines[:i], f"{key} = {value}", *lines[i + 1 :]]) + "\n")
        status, res = outcome(load, f)
        if status == "error":
            refused += 1
            assert key in res or "file.toml" in res, (key, value, res)
    assert refused > 100


def test_a_huge_tolerance_and_a_huge_mass_are_refused_naming_the_key(tmp_path):
    run = tmp_path / "run.toml"
    run.write_text("[likelihood]\ntolerance = " + "1" * 400 + "\n")
    with pytest.raises(ValueError, match=r"\[likelihood\] tolerance .*integer of about 400 digits"):
        load_run_config(run)
    prior = tmp_path / "prior.toml"
    prior.write_text(
        (DATA / "default_prior.toml").read_text().replace("m_sigma = 500.0", "m_sigma = " + "9" * 400)
    )
    with pytest.raises(ValueError, match=r"masses.m_sigma"):
        load_prior(prior)


@pytest.mark.parametrize("name", ["run.toml", "prior.toml", "nmp.csv"])
def test_files_that_are_not_utf8_are_named(tmp_path, name, capsys):
    f = tmp_path / name
    f.write_bytes(b"# \xff\xfe latin-1 caf\xe9\n[likelihood]\n")
    if name == "run.toml":
        argv = ["infer", "--config", str(f), "--out", str(tmp_path / "out")]
    elif name == "prior.toml":
        argv = [
            "generate",
            "--prior",
            str(f),
            "--samples",
            "2",
            "--nuclei",
            "16O",
            "--out",
            str(tmp_path / "ds"),
        ]
    else:
        argv = ["predict", "--file", str(f), "--nuclei", "16O"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(f) in err and "UTF-8" in err, err


# --------------------------------------------------------------------------- predict --file
@pytest.mark.parametrize(
    "write, message",
    [
        (lambda p: p.write_bytes(b""), "not a plain numeric .npy"),
        (lambda p: np.save(p, np.zeros((0, 7))), "holds no rows"),
        (lambda p: np.save(p, np.float64(3.0)), "shape ()"),
        (lambda p: np.save(p, np.ones((2, 7)) + 1j), "real numbers"),
        (lambda p: np.save(p, np.array([["a"] * 7])), "real numbers"),
        (lambda p: np.save(p, np.ones((2, 5))), "shape (2, 5)"),
        (lambda p: p.write_bytes(b"\x93NUMPY\x01\x00garbage"), "not a plain numeric .npy"),
    ],
)
def test_predict_file_refuses_empty_and_odd_arrays(tmp_path, capsys, write, message):
    f = tmp_path / "x.npy"
    write(f)
    assert main(["predict", "--file", str(f), "--nuclei", "16O", "--out", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and str(f) in err, err
    assert not (tmp_path / "p.csv").exists()


def test_predict_file_csv_with_a_header_only_is_refused(tmp_path, capsys):
    f = tmp_path / "x.csv"
    f.write_text("rho0,E0,K0,Q0,mstar,J0,L0\n")
    assert main(["predict", "--file", str(f), "--nuclei", "16O"]) == 2
    assert "holds no rows" in capsys.readouterr().err


def test_toml_samples_are_toml():  # the generator's values are valid TOML (else they test the parser only)
    for v in TOML_HOSTILE:
        if len(v) < 4300:
            tomllib.loads(f"k = {v}")
