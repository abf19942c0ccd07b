"""Hostile tests of what the package reads back from its own outputs: a finished inference run (summary.json,
posterior.parquet, weighted.parquet) and a dataset's parts. Corrupted or foreign files give one line naming
the file (and the column or row), never a traceback or NaN samples."""

from __future__ import annotations

import random
import shutil

import numpy as np
import pytest

from _hostile import outcome
from _inference_fakes import FakeEmulator

pytest.importorskip("ultranest")
pytest.importorskip("pyarrow")

import pyarrow as pa
import pyarrow.parquet as pq

from nucleiml.cli import main
from nucleiml.datasets import generate
from nucleiml.datasets.summary import info, split
from nucleiml.inference import compare, default_run_config, infer, predict_posterior, read_posterior
from nucleiml.inference.models.nml import EmulatorModel
from nucleiml.parameters import NMP_NAMES

CFG = default_run_config().replace(sampler={"live_points": 40, "min_ess": 40, "seed": 4})
NUCLEI = ("40Ca", "48Ca", "208Pb")


def _model(nuclei=CFG.data.nuclei):
    box = {k: (d.low, d.high) for k, d in CFG.prior.nmp.items()}
    return EmulatorModel(FakeEmulator(NUCLEI), nuclei, prior_box=box)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run"
    infer(CFG, out, model=_model(), progress=False, plot=False, predictive_draws=0)
    return out


def _copy(src, dst):
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    return dst


SUMMARIES = ("[]", "null", '"x"', "1", "{}", '{"run": []}', '{"model": 5}', '{"wall_seconds": "1"}', "{", "")


@pytest.mark.parametrize("text", SUMMARIES)
def test_a_summary_that_is_not_a_runs_summary_is_named(finished_run, tmp_path, capsys, text):
    run = _copy(finished_run, tmp_path / "r")
    (run / "summary.json").write_text(text)
    kind, msg = outcome(read_posterior, run)
    if text == "{}":  # a summary without the optional sections still reads (compare would work)
        assert kind == "ok"
    else:
        assert kind == "error" and "summary.json" in msg, msg
        argv = ["compare", str(run), str(finished_run), "--out", str(tmp_path / "c"), "--bootstrap", "0"]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "summary.json" in err, err
    assert main(["predictive", str(run), "--draws", "5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "summary.json" in err, err


def _rewrite(path, change):
    table = pq.read_table(path)
    pq.write_table(change(table), path)


@pytest.mark.parametrize(
    "file, change, message",
    [
        (
            "posterior.parquet",
            lambda t: t.set_column(2, "K0", pa.array([np.nan] * t.num_rows)),
            "K0 in row 0",
        ),
        ("posterior.parquet", lambda t: t.drop_columns(["L0"]), "lacks the column 'L0'"),
        ("posterior.parquet", lambda t: t.set_column(0, "rho0", pa.array(["x"] * t.num_rows)), "cannot read"),
        ("posterior.parquet", lambda t: t.slice(0, 0), "holds no samples"),
        ("weighted.parquet", lambda t: t.set_column(7, "weight", pa.array([-1.0] * t.num_rows)), "weights"),
        ("weighted.parquet", lambda t: t.set_column(1, "E0", pa.array([np.inf] * t.num_rows)), "E0 in row 0"),
        ("weighted.parquet", lambda t: pa.table({"a": [1]}), "lacks the column"),
    ],
)
def test_nan_rows_and_foreign_tables_in_a_posterior_are_refused(
    finished_run, tmp_path, file, change, message
):
    run = _copy(finished_run, tmp_path / "r")
    _rewrite(run / file, change)
    kind, msg = outcome(read_posterior, run)
    assert kind == "error" and message in msg and file in msg, msg


@pytest.mark.parametrize("seed", range(2))
def test_corrupted_posterior_bytes_are_detected(finished_run, tmp_path, seed):
    rng = random.Random(seed)
    run = _copy(finished_run, tmp_path / "r")
    reference = read_posterior(finished_run)
    for _ in range(40):  # 80 cases
        name = rng.choice(("posterior.parquet", "weighted.parquet", "summary.json"))
        data = (finished_run / name).read_bytes()
        i = rng.randrange(len(data))
        corrupted = data[:i] if rng.random() < 0.5 else data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]
        (run / name).write_bytes(corrupted)
        kind, res = outcome(read_posterior, run)
        if kind == "error":
            assert name in res or str(run) in res, res
        else:  # a byte the reader does not use, or one inside a value: the samples stay finite
            assert np.all(np.isfinite(res.samples)) and res.samples.shape == reference.samples.shape
        (run / name).write_bytes(data)


def test_predict_posterior_takes_a_nucleus_string(finished_run):
    one = predict_posterior(finished_run, nuclei="48Ca", model=_model(("48Ca",)), draws=5)
    assert list(one["nuclei"]) == ["48Ca"]
    two = predict_posterior(finished_run, nuclei="40Ca,208Pb", model=_model(), draws=5)
    assert list(two["nuclei"]) == ["40Ca", "208Pb"]
    kind, msg = outcome(predict_posterior, finished_run, nuclei="48Ca", model=_model(), draws=5)
    assert kind == "error" and "not 48Ca" in msg, msg


def test_compare_refuses_a_run_whose_summary_is_a_list(finished_run, tmp_path):
    run = _copy(finished_run, tmp_path / "r")
    (run / "summary.json").write_text("[]")
    kind, msg = outcome(compare, run, finished_run, tmp_path / "c", n_boot=0, plot=False)
    assert kind == "error" and "summary.json" in msg


# --------------------------------------------------------------------------- datasets
@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("ds") / "ds"
    generate(out, 4, "16O", seed=3, workers=1, chunk_size=2, progress=False)
    return out


def test_a_part_of_another_table_is_named_by_split_and_info(dataset, tmp_path, capsys):
    ds = _copy(dataset, tmp_path / "ds")
    part = sorted((ds / "parts").glob("part-*.parquet"))[0]
    pq.write_table(pa.table({"x": [1.0, 2.0]}), part)
    for func in (info, split):
        kind, msg = outcome(func, ds)
        assert kind == "error" and str(part) in msg, msg
    assert main(["dataset", "split", str(ds)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(part) in err


@pytest.mark.parametrize("seed", range(2))
def test_truncated_or_flipped_parts_are_named(dataset, tmp_path, seed):
    rng = random.Random(seed)
    ds = _copy(dataset, tmp_path / "ds")
    parts = sorted((ds / "parts").glob("part-*.parquet"))
    for _ in range(25):  # 50 cases
        part = rng.choice(parts)
        data = part.read_bytes()
        i = rng.randrange(len(data))
        part.write_bytes(
            data[:i] if rng.random() < 0.6 else data[:i] + bytes([data[i] ^ 0x5A]) + data[i + 1 :]
        )
        for func in (info, split):
            kind, res = outcome(func, ds)
            assert kind == "ok" or str(part) in res, res
        part.write_bytes(data)


def test_dataset_columns_of_the_wrong_kind_are_named(dataset, tmp_path):
    ds = _copy(dataset, tmp_path / "ds")
    part = sorted((ds / "parts").glob("part-*.parquet"))[0]
    table = pq.read_table(part)
    i = table.column_names.index("label")
    pq.write_table(table.set_column(i, "label", pa.array(np.zeros(table.num_rows))), part)
    kind, msg = outcome(info, ds)
    assert kind == "error" and "'label'" in msg and str(part) in msg, msg


def test_nmp_names_are_the_posterior_columns():  # the corruptions above index columns by position
    assert NMP_NAMES[:3] == ("rho0", "E0", "K0")


RUN_RECORDS = (
    "[]",
    "{}",
    '{"sessions": {}}',
    '{"sessions": [1]}',
    '{"sessions": [{"points_evaluated": "9"}]}',
)
RUN_RECORDS += ('{"sessions": [{"seconds": -1}]}', '{"run": [], "sessions": []}', "{", "\xff")


@pytest.mark.parametrize("text", RUN_RECORDS)
def test_a_corrupted_run_record_is_named_on_resume(finished_run, tmp_path, text):
    run = _copy(finished_run, tmp_path / "r")
    (run / "run.json").write_text(text, encoding="latin-1")
    kind, msg = outcome(infer, CFG, run, model=_model(), resume=True, progress=False, plot=False)
    assert kind == "error" and "run.json" in msg, msg


def test_overwrite_replaces_a_run_whose_record_is_corrupted(finished_run, tmp_path):
    run = _copy(finished_run, tmp_path / "r")
    (run / "run.json").write_text("[]")
    s = infer(CFG, run, model=_model(), overwrite=True, progress=False, plot=False, predictive_draws=0)
    assert s["sessions"] == 1 and s["likelihood_calls"] > 0


def test_a_dataset_card_that_is_not_utf8_is_named(dataset, tmp_path):
    ds = _copy(dataset, tmp_path / "ds")
    (ds / "card.json").write_bytes(b"\xff\xfe{}")
    kind, msg = outcome(info, ds)
    assert kind == "error" and "card.json" in msg and "UTF-8" in msg, msg
