"""`nucleiml solve`: a thin layer over nucleiml.solve."""

import json

import pytest

from nucleiml.cli import main
from nucleiml.presets import get_preset
from nucleiml.solver import solve


def test_solve_json_matches_api(capsys):
    assert main(["solve", "--preset", "NL3", "--nuclei", "16O,40Ca", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["nucleus"] for r in out["results"]] == ["16O", "40Ca"]
    for r in out["results"]:
        direct = solve(get_preset("NL3"), r["nucleus"])
        assert r["binding_energy"] == pytest.approx(direct.binding_energy, rel=1e-12)
        assert r["charge_radius"] == pytest.approx(direct.charge_radius, rel=1e-12)
        assert r["converged"] is True


def test_solve_table_lists_nuclei_and_experiment(capsys):
    assert main(["solve", "--preset", "FSUGold2", "--nuclei", "16O,58Ca"]) == 0
    out = capsys.readouterr().out
    assert "16O" in out and "58Ca" in out and "converged" in out
    assert "127.619" in out  # AME2020 binding energy of 16O beside the model value
    assert "n:1f5/2" in out  # partly filled level reported


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["solve", "--preset", "NL3", "--nuclei", "16Xx"], "Xx"),
        (["solve", "--preset", "NL3", "--nuclei", "16O", "--shells", "2"], "n_shells"),
        (["solve", "--nuclei", "16O"], "--preset"),
    ],
)
def test_solve_bad_input_is_one_line_error(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and needle in err and "Traceback" not in err
