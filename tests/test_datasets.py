"""Training datasets: priors, labels, Parquet output, determinism across workers and Dask, resume, splits."""

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")

import nucleiml  # noqa: E402
from nucleiml.cli import main  # noqa: E402
from nucleiml.datasets import (  # noqa: E402
    COLUMNS,
    LABELS,
    DatasetError,
    Prior,
    PriorError,
    default_prior,
    format_info,
    generate,
    info,
    label_nucleus,
    load_prior,
    read_table,
    solve_chunk,
    solve_chunks,
    split,
    split_of,
)
from nucleiml.datasets.generate import code_fingerprint  # noqa: E402
from nucleiml.datasets.store import list_parts  # noqa: E402
from nucleiml.parameters import COUPLING_NAMES, NMP_NAMES  # noqa: E402

NUCLEI = "16O,40Ca"
SEED = 7
SAMPLES = 12
CHUNK = 4


def same_rows(a, b) -> bool:
    """Tables equal column by column (NaN == NaN, nulls equal), ignoring the wall-time column."""
    if a.column_names != b.column_names or a.num_rows != b.num_rows:
        return False
    for name in a.column_names:
        if name == "solve_seconds":
            continue
        x, y = a.column(name).to_pylist(), b.column(name).to_pylist()
        for u, v in zip(x, y):
            if u != v and not (
                isinstance(u, float) and isinstance(v, float) and math.isnan(u) and math.isnan(v)
            ):
                return False
    return True


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny dataset made with one local worker."""
    out = tmp_path_factory.mktemp("tiny") / "ds"
    generate(out, SAMPLES, NUCLEI, seed=SEED, workers=1, chunk_size=CHUNK)
    return out


# --------------------------------------------------------------------------- priors
def test_default_prior_is_the_issue_prior():
    p = default_prior()
    ranges = {k: (d.kind, d.low, d.high) for k, d in p.nmp.items()}
    assert ranges == {
        "rho0": ("uniform", 0.14, 0.17),
        "E0": ("uniform", -17.0, -15.0),
        "K0": ("uniform", 180.0, 320.0),
        "Q0": ("uniform", -800.0, 800.0),
        "mstar": ("uniform", 0.5, 0.8),
        "J0": ("uniform", 24.0, 40.0),
        "L0": ("uniform", 20.0, 120.0),
    }
    assert dict(p.masses) == {"m_sigma": 500.0, "m_omega": 782.5, "m_rho": 763.0, "M": 939.0}
    assert Prior.from_dict(p.to_dict()) == p


def test_sampling_is_deterministic_and_in_range(tmp_path):
    f = tmp_path / "p.toml"
    text = default_prior_text().replace(
        '[nmp.K0]\ndistribution = "uniform"', '[nmp.K0]\ndistribution = "gaussian"\nmean = 240.0\nstd = 30.0'
    )
    f.write_text(text)
    p = load_prior(f)
    assert p.nmp["K0"].kind == "gaussian"
    a = p.sample(5000, np.random.default_rng(3))
    b = p.sample(5000, np.random.default_rng(3))
    for k in NMP_NAMES:
        assert np.array_equal(a[k], b[k])
        assert np.all((a[k] >= p.nmp[k].low) & (a[k] <= p.nmp[k].high))
    assert abs(np.mean(a["K0"]) - 240.0) < 3.0  # truncated at 180 and 320: nearly symmetric
    assert 25.0 < np.std(a["K0"]) < 30.0


def default_prior_text() -> str:
    from importlib import resources

    return resources.files("nucleiml").joinpath("data", "default_prior.toml").read_text()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ('distribution = "uniform"\nlow = 0.14', 'distribution = "beta"\nlow = 0.14'),
            "nmp.rho0.distribution",
        ),
        (("low = 180.0\nhigh = 320.0", "low = 320.0\nhigh = 180.0"), "nmp.K0"),
        (("low = 0.50\nhigh = 0.80", "low = 0.50\nhigh = 1.5"), "nmp.mstar"),
        (("low = 20.0\nhigh = 120.0", "low = 20.0"), "nmp.L0: missing high"),
        (("[nmp.L0]", "[nmp.Ksym]"), "unknown NMP nmp.Ksym"),
        (("m_rho = 763.0", "m_rho = 7630.0"), "masses.m_rho"),
        (("m_rho = 763.0", 'm_rho = "763"'), "masses.m_rho"),
        (("[masses]", "[mesons]"), "unknown section"),
        (("low = -800.0", "low = -800.0\nwidth = 3"), "unknown key(s) width"),
        (("[nmp.E0]", "[nmp.E0"), "not valid TOML"),
    ],
)
def test_bad_prior_files_give_clear_errors(tmp_path, edit, message):
    f = tmp_path / "bad.toml"
    text = default_prior_text()
    assert edit[0] in text
    f.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(PriorError, match=r"bad\.toml") as exc:
        load_prior(f)
    assert message in str(exc.value)


def test_missing_prior_nmp_and_file(tmp_path):
    with pytest.raises(PriorError, match="missing J0"):
        Prior.from_dict({"nmp": {k: v for k, v in default_prior().to_dict()["nmp"].items() if k != "J0"}})
    with pytest.raises(PriorError, match="cannot read prior file"):
        load_prior(tmp_path / "nope.toml")


# --------------------------------------------------------------------------- labels
def test_label_kernel():
    ok = np.array([False, True, True, True, True])
    inv_reason = np.array(["negative g_sigma^2", "", "", "", ""], dtype=object)
    conv = np.array([False, False, True, True, True])
    sreason = np.array(["", "did not converge", "", "", ""], dtype=object)
    B = np.array([np.nan, np.nan, 100.0, 121.0, 79.0])
    label, reason = label_nucleus(ok, inv_reason, conv, sreason, B, 100.0, 0.2)
    assert label.tolist() == ["nc_a", "nc_b", "convergent", "nc_c", "nc_c"]
    assert reason[0] == "negative g_sigma^2" and reason[1] == "did not converge" and reason[2] == ""
    assert "20 %" in reason[3]
    label, _ = label_nucleus(ok, inv_reason, conv, sreason, B, 100.0, 0.25)
    assert label.tolist() == ["nc_a", "nc_b", "convergent", "convergent", "convergent"]


# --------------------------------------------------------------------------- tiny run: schema, labels, card
def test_schema_and_labels(tiny):
    t = read_table(tiny)
    assert t.column_names == [name for name, _, _ in COLUMNS]
    assert t.num_rows == SAMPLES * 2
    assert str(t.schema.field("sample_id").type) == "int64"
    assert str(t.schema.field("iterations").type) == "int32"
    rows = t.to_pylist()
    assert [r["sample_id"] for r in rows] == [i for i in range(SAMPLES) for _ in range(2)]
    assert [r["nucleus"] for r in rows] == ["16O", "40Ca"] * SAMPLES
    assert {(r["Z"], r["N"]) for r in rows} == {(8, 8), (20, 20)}
    b_exp = {
        "16O": nucleiml.experiment("16O").binding_energy,
        "40Ca": nucleiml.experiment("40Ca").binding_energy,
    }
    seen = set()
    for r in rows:
        lab = r["label"]
        seen.add(lab)
        assert lab in LABELS
        assert (r["reason"] == "") == (lab == "convergent")
        if lab == "nc_a":
            assert all(math.isnan(r[k]) for k in COUPLING_NAMES)
            assert (
                math.isnan(r["binding_energy"]) and r["iterations"] is None and math.isnan(r["solve_seconds"])
            )
        else:
            assert all(math.isfinite(r[k]) for k in COUPLING_NAMES)
            assert r["iterations"] >= 1 and r["solve_seconds"] > 0
        if lab == "nc_b":
            assert math.isnan(r["binding_energy"]) and math.isnan(r["charge_radius"])
        if lab in ("convergent", "nc_c"):
            for k in ("binding_energy", "charge_radius", "proton_radius", "neutron_radius"):
                assert math.isfinite(r[k])
            assert r["charge_radius"] == pytest.approx(math.sqrt(r["proton_radius"] ** 2 + 0.64))
            dev = abs(r["binding_energy"] - b_exp[r["nucleus"]]) / b_exp[r["nucleus"]]
            assert (dev <= 0.2) == (lab == "convergent")
        assert all(np.isfinite(r[k]) for k in NMP_NAMES)
    assert {"nc_a", "convergent"} <= seen
    # a sample's NMPs and couplings are the same on all its rows; nc_a holds for all nuclei or none
    by_sample = {}
    for r in rows:
        by_sample.setdefault(r["sample_id"], []).append(r)
    for group in by_sample.values():
        assert len({tuple(r[k] for k in NMP_NAMES) for r in group}) == 1
        assert len({r["label"] == "nc_a" for r in group}) == 1


def test_card(tiny):
    card = json.loads((tiny / "card.json").read_text())
    assert card["format"] == "nucleiml-dataset" and card["complete"] is True
    assert card["seed"] == SEED and card["nuclei"] == ["16O", "40Ca"] and card["chunk_size"] == CHUNK
    assert card["prior"] == default_prior().to_dict()
    assert card["package_version"] == nucleiml.__version__
    assert card["samples"] == card["samples_done"] == SAMPLES and card["rows"] == 2 * SAMPLES
    assert sum(card["counts"]["total"].values()) == 2 * SAMPLES
    assert set(card["counts"]["by_nucleus"]) == {"16O", "40Ca"}
    assert card["wall_seconds"] > 0
    assert sorted(list_parts(tiny)) == [0, 1, 2]
    assert card["code_fingerprints"] == {code_fingerprint(): 3}
    data = info(tiny)
    assert data["code_fingerprints"] == {code_fingerprint(): 3}
    assert "WARNING" not in format_info(data)
    mixed = {**data, "code_fingerprints": {"aaaa": 2, "bbbb": 1}}
    assert "WARNING: parts were computed by 2 different versions" in format_info(mixed)
    t = read_table(tiny)
    labels = t.column("label").to_pylist()
    assert card["counts"]["total"] == {lab: labels.count(lab) for lab in LABELS}


def test_code_fingerprint_follows_result_shaping_code_only(tmp_path):
    """Editing the solver changes the fingerprint; editing the emulator, the CLI or the shipped model (whose
    data card records the fingerprint) does not, so a resumed dataset is not flagged for them."""
    from nucleiml._provenance import fingerprint_tree

    files = {
        "solver/scf.py": "x = 1\n",
        "data/experiment.csv": "Z,N,B\n",
        "emulator/model.py": "y = 1\n",
        "cli.py": "z = 1\n",
        "data/emulator/model.json": "{}",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    before = fingerprint_tree(tmp_path)
    for rel in ("emulator/model.py", "cli.py", "data/emulator/model.json"):
        (tmp_path / rel).write_text(files[rel] + "# edited\n")
        assert fingerprint_tree(tmp_path) == before, rel
    for rel in ("solver/scf.py", "data/experiment.csv"):
        (tmp_path / rel).write_text(files[rel] + "# edited\n")
        changed = fingerprint_tree(tmp_path)
        assert changed != before, rel
        before = changed


# --------------------------------------------------------------------------- determinism
def test_same_table_with_two_workers(tiny, tmp_path):
    out = tmp_path / "two"
    generate(out, SAMPLES, NUCLEI, seed=SEED, workers=2, chunk_size=CHUNK)
    assert same_rows(read_table(out), read_table(tiny))


def _planned_chunks(out, samples: int) -> list:
    """The chunk tasks ``generate`` would solve for ``samples`` samples of NUCLEI into ``out``."""
    gen = sys.modules["nucleiml.datasets.generate"]
    request = gen._validated_request(
        out,
        samples=samples,
        nuclei=NUCLEI,
        prior=None,
        seed=SEED,
        workers=1,
        scheduler=None,
        chunk_size=CHUNK,
        max_iterations=None,
        threshold=0.2,
    )
    return gen._plan_chunks(out, request).todo


def test_grouped_chunks_give_the_rows_of_single_chunks(tiny, tmp_path, monkeypatch):
    """Chunks sent to a worker together are solved with one solver call per nucleus: same rows bit for bit."""
    gen = sys.modules["nucleiml.datasets.generate"]
    tasks = _planned_chunks(tmp_path / "plan", SAMPLES)
    assert len(tasks) == 3
    alone = [solve_chunk(t) for t in tasks]
    together = solve_chunks(tasks)
    for a, b in zip(alone, together, strict=True):
        assert a.keys() == b.keys()
        for k in a:
            if k not in ("solve_seconds", "_code"):
                assert np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f"), k
    # through generate: with fewer groups per executor slot, chunks 0 and 1 go to the worker together
    monkeypatch.setattr(gen, "GROUPS_PER_SLOT", 1)
    assert [len(g) for g in gen._group_tasks(tasks, CHUNK, 2)] == [2, 1]
    out = tmp_path / "grouped"
    generate(out, SAMPLES, NUCLEI, seed=SEED, workers=1, chunk_size=CHUNK)
    assert sorted(list_parts(out)) == [0, 1, 2]
    assert same_rows(read_table(out), read_table(tiny))


def test_solve_chunks_refuses_chunks_of_different_datasets(tiny, tmp_path):
    task = _planned_chunks(tmp_path / "plan", CHUNK)[0]
    with pytest.raises(DatasetError, match="one dataset"):
        solve_chunks([task, dataclasses.replace(task, seed=SEED + 1)])
    with pytest.raises(DatasetError, match="at least one"):
        solve_chunks([])


def test_other_seed_gives_other_samples(tiny, tmp_path):
    out = tmp_path / "other"
    generate(out, 4, NUCLEI, seed=SEED + 1, workers=1, chunk_size=CHUNK)
    a = read_table(out).column("rho0").to_pylist()
    b = read_table(tiny).column("rho0").to_pylist()[:8]
    assert a != b


def test_dask_local_cluster_gives_same_table(tiny, tmp_path):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        out = tmp_path / "dask"
        generate(out, SAMPLES, NUCLEI, seed=SEED, scheduler=cluster.scheduler_address, chunk_size=CHUNK)
        assert same_rows(read_table(out), read_table(tiny))
        out2 = tmp_path / "dask-client"
        generate(out2, SAMPLES, NUCLEI, seed=SEED, scheduler=client, chunk_size=CHUNK)
        assert same_rows(read_table(out2), read_table(tiny))


# --------------------------------------------------------------------------- resume and extend
def test_extend_equals_direct_run(tiny, tmp_path):
    out = tmp_path / "ext"
    generate(out, 5, NUCLEI, seed=SEED, workers=1, chunk_size=CHUNK)  # chunk 1 partial (1 of 4 samples)
    assert info(out)["samples_done"] == 5
    r = generate(out, SAMPLES, NUCLEI, seed=SEED, workers=2)  # chunk size taken from the card
    assert r.computed_chunks == 2  # partial chunk 1 recomputed whole, chunk 2 new
    assert same_rows(read_table(out), read_table(tiny))
    card = json.loads((out / "card.json").read_text())
    assert card["samples"] == SAMPLES and len(card["sessions"]) == 2
    assert generate(out, SAMPLES, NUCLEI, seed=SEED, workers=1).computed_chunks == 0


def test_kill_9_then_resume_gives_uninterrupted_rows(tmp_path):
    reference, samples = tmp_path / "reference", 2 * SAMPLES
    generate(reference, samples, NUCLEI, seed=SEED, workers=2, chunk_size=2)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "nucleiml", "generate", "--samples", str(samples), "--nuclei", NUCLEI]
    cmd += ["--seed", str(SEED), "--out", str(out), "--workers", "1", "--chunk-size", "2", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    first = out / "parts" / "part-000000.parquet"
    deadline = time.monotonic() + 60
    while not first.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its worker, mid-run
    proc.wait()
    done = len(list_parts(out))
    assert 1 <= done < samples // 2, "the run was not interrupted mid-way"
    assert not info(out)["complete"]
    # a half-written part (hidden temporary) is never read as data, and is cleaned up on resume
    (out / "parts" / ".part-000005.parquet.99999.tmp").write_bytes(b"PAR1 half-written")
    assert 5 not in list_parts(out)
    assert main(cmd[3:]) == 0
    assert not any(p.name.endswith(".tmp") for p in (out / "parts").iterdir())
    assert same_rows(read_table(out), read_table(reference))
    assert info(out)["complete"]


def test_sigterm_stops_cleanly(tmp_path):
    out = tmp_path / "term"
    cmd = [sys.executable, "-m", "nucleiml", "generate", "--samples", "200", "--nuclei", "16O"]
    cmd += ["--out", str(out), "--workers", "1", "--chunk-size", "2", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    first = out / "parts" / "part-000000.parquet"
    deadline = time.monotonic() + 60
    while not first.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err
    data = info(out)
    assert 1 <= data["samples_done"] < 200 and not data["complete"]
    card = json.loads((out / "card.json").read_text())
    assert card["samples_done"] == data["samples_done"]  # the card was brought up to date on the way out


def test_mismatching_settings_are_refused(tiny, tmp_path):
    with pytest.raises(DatasetError, match="seed: dataset has 7, asked 8"):
        generate(tiny, SAMPLES, NUCLEI, seed=8, workers=1)
    with pytest.raises(DatasetError, match="chunk_size"):
        generate(tiny, SAMPLES, NUCLEI, seed=SEED, workers=1, chunk_size=5)
    with pytest.raises(DatasetError, match="nuclei"):
        generate(tiny, SAMPLES, "16O,48Ca", seed=SEED, workers=1)
    with pytest.raises(DatasetError, match="already holds 12 samples"):
        generate(tiny, 4, NUCLEI, seed=SEED, workers=1)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("x")
    with pytest.raises(DatasetError, match="not empty"):
        generate(junk, 4, NUCLEI, workers=1)


# --------------------------------------------------------------------------- CLI
def test_cli_errors_are_one_line(tmp_path, capsys):
    out = str(tmp_path / "x")
    for argv, message in [
        (["generate", "--samples", "4", "--nuclei", "16O,Xx40", "--out", out], "unknown element symbol"),
        (
            ["generate", "--samples", "4", "--nuclei", "16O,56Ni,58Ni", "--out", out],
            "no experimental binding energy for 58Ni",
        ),
        (["generate", "--samples", "0", "--out", out], "--samples = 0"),
        (
            ["generate", "--samples", "4", "--out", out, "--prior", str(tmp_path / "none.toml")],
            "cannot read prior",
        ),
        (["generate", "--samples", "4", "--out", out, "--nc-c-threshold", "-1"], "nc-c-threshold"),
        (["dataset", "info", str(tmp_path)], "not a NucleiML dataset"),
    ]:
        assert main(argv) == 2
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], captured.err
    assert not (tmp_path / "x").exists()


def test_cli_generate_info_split(tiny, tmp_path, capsys):
    out = tmp_path / "cli"
    argv = ["generate", "--samples", "4", "--nuclei", NUCLEI, "--seed", str(SEED), "--out", str(out)]
    assert main([*argv, "--workers", "1", "--chunk-size", str(CHUNK), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "class balance" in text and "convergent" in text
    assert same_rows(read_table(out), read_table(tiny).slice(0, 8))
    assert main(["dataset", "info", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["samples_done"] == 4 and data["complete"]
    assert main(["dataset", "split", str(out), "--fractions", "0.5,0.25,0.25", "--seed", "1"]) == 0
    assert "train" in capsys.readouterr().out
    assert (out / "splits" / "split.json").exists()
    assert main(["dataset", "split", str(out), "--fractions", "0.5,0.6,0.1"]) == 2
    assert "summing to 1" in capsys.readouterr().err


# --------------------------------------------------------------------------- splits
def test_split_by_sample_id(tiny, tmp_path):
    out = tmp_path / "splits"
    summary = split(tiny, (0.5, 0.25, 0.25), seed=3, out=out)
    parts = {}
    for name in ("train", "validation", "test"):
        files = sorted((out / name).glob("part-*.parquet"))
        tables = [pa.parquet.read_table(f) for f in files] if files else []
        ids = [i for t in tables for i in t.column("sample_id").to_pylist()]
        parts[name] = ids
        assert summary["rows"][name] == len(ids)
        assert summary["samples"][name] == len(set(ids))
        for i in set(ids):
            assert ids.count(i) == 2  # both nuclei of a sample in the same split
    all_ids = [i for ids in parts.values() for i in ids]
    assert sorted(set(all_ids)) == list(range(SAMPLES)) and len(all_ids) == 2 * SAMPLES
    # reproducible, and stable under extension (depends on sample_id and seed only)
    again = split(tiny, (0.5, 0.25, 0.25), seed=3, out=tmp_path / "again")
    assert again["samples"] == summary["samples"]
    ids = np.arange(10_000)
    which = split_of(ids, (0.8, 0.1, 0.1), seed=0)
    assert np.array_equal(which[:SAMPLES], split_of(ids[:SAMPLES], (0.8, 0.1, 0.1), seed=0))
    frac = np.bincount(which, minlength=3) / ids.size
    assert np.allclose(frac, [0.8, 0.1, 0.1], atol=0.015)
    assert not np.array_equal(which, split_of(ids, (0.8, 0.1, 0.1), seed=1))
    with pytest.raises(DatasetError, match="summing to 1"):
        split_of(ids, (0.8, 0.1, 0.2))


def test_missing_pyarrow_message(monkeypatch):
    from nucleiml.datasets import MissingExtraError, store

    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # makes the import fail
    with pytest.raises(MissingExtraError, match=r'pip install "nucleiml\[data\]"'):
        store.require("pyarrow.parquet")
