"""``nucleiml star``: summary, outputs and one-line errors."""

import csv
import json

import numpy as np
import pytest

import nucleiml
from nucleiml.cli import main
from nucleiml.stars import beta_equilibrium, star

FSU2_NMP = nucleiml.nmp_from_couplings(nucleiml.get_preset("FSUGold2"))


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_star_preset_writes_summary_table_and_figure(capsys, tmp_path):
    code, out, err = run(capsys, "star", "FSUGold2", "--out", tmp_path)
    assert code == 0, err
    assert "M_max" in out and "2.07" in out and "R_14" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    ref = star("FSUGold2").summary
    assert summary["M_max"] == ref.M_max and summary["status"] == "OK"
    assert summary["units"]["R_14"] == "km"
    with open(tmp_path / "sequence.csv") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:5] == [
        "n_c [fm^-3]",
        "eps_c [MeV fm^-3]",
        "P_c [MeV fm^-3]",
        "mass [Msun]",
        "radius [km]",
    ]
    masses = np.array([float(r[3]) for r in rows[1:]])
    assert np.all(np.diff(masses) > 0) and masses.max() <= ref.M_max
    assert (tmp_path / "mass_radius.png").stat().st_size > 10_000


def test_star_json_from_nmps(capsys, tmp_path):
    args = [f"--{k}={v}" for k, v in FSU2_NMP.to_dict().items()]
    code, out, err = run(capsys, "star", *args, "--json", "--no-plot", "--out", tmp_path)
    assert code == 0, err
    data = json.loads(out)
    assert data["M_max"] == pytest.approx(star("FSUGold2").summary.M_max, rel=1e-6)
    assert not (tmp_path / "mass_radius.png").exists()


def test_star_from_eos_file(capsys, tmp_path):
    b = beta_equilibrium(nucleiml.get_preset("NL3"), np.geomspace(0.08, 1.6, 250))
    path = tmp_path / "nl3.txt"
    rows = "\n".join(f"{n:.10e} {e:.10e} {p:.10e}" for n, e, p in zip(b.n, b.energy_density, b.pressure))
    path.write_text("# n_b eps P\n" + rows + "\n")
    code, out, err = run(capsys, "star", "--eos", path, "--json", "--no-plot", "--out", tmp_path / "o")
    assert code == 0, err
    assert json.loads(out)["M_max"] == pytest.approx(star("NL3").summary.M_max, rel=2e-4)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("0.1 100 1\n0.2 abc 3\n", "line 2 is not numbers"),
        ("0.1 100\n", "line 1 has 2 columns"),
        ("# nothing\n", "no data rows"),
        ("0.1 100 1\n0.2 90 2\n0.3 300 3\n0.4 400 4\n", "eps must increase strictly"),
    ],
)
def test_bad_eos_files_are_one_line_errors(capsys, tmp_path, content, words):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    code, _, err = run(capsys, "star", "--eos", path, "--no-plot", "--out", tmp_path / "o")
    assert code == 2 and words in err and err.count("\n") == 1 and err.startswith("error:")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["star", "NL3", "--preset", "NL3"], "either as PRESET or as --preset"),
        (["star", "NoSuchSet"], "unknown preset"),
        (["star", "NL3", "--junction", "0.5"], "StarConfig.junction"),
        (["star", "NL3", "--junction", "dense"], "--junction must be a density"),
        (["star", "NL3", "--crust-end", "0.2"], "StarConfig.crust_end"),
        (["star", "--eos", "/nonexistent/eos.txt"], "No such file"),
    ],
)
def test_bad_star_arguments(capsys, tmp_path, argv, words):
    code, _, err = run(capsys, *argv, "--out", tmp_path, "--no-plot")
    assert code == 2 and words in err and err.count("\n") == 1
