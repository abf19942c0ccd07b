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


# --------------------------------------------------------------------------- NMPs instead of couplings


def _nmp_args(nmp: dict) -> list[str]:
    return [a for k, v in nmp.items() for a in (f"--{k}", repr(float(v)))]


def test_solve_from_nmp_equals_solve_of_their_couplings(capsys):
    """--rho0 ... --L0 solve the couplings that nucleiml.couplings_from_nmp gives, bit for bit."""
    from nucleiml import NMP, couplings_from_nmp

    nmp = {"rho0": 0.15, "E0": -16.0, "K0": 230.0, "Q0": -500.0, "mstar": 0.6, "J0": 32.0, "L0": 50.0}
    assert main(["solve", *_nmp_args(nmp), "--nuclei", "16O", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    cp = couplings_from_nmp(NMP(**nmp)).couplings
    assert out["nmp"] == nmp and out["reason"] is None
    assert out["derived_couplings"] == cp.to_dict()
    direct = solve(cp, "16O")
    assert out["results"][0]["converged"] is True
    assert out["results"][0]["binding_energy"] == direct.binding_energy
    assert out["results"][0]["charge_radius"] == direct.charge_radius


def test_solve_from_the_nmp_of_a_published_set_reproduces_it(capsys):
    """FSUGold2 -> its NMPs -> couplings -> 40Ca: the preset's answer (the inversion round-trips to 1e-8)."""
    from nucleiml import nmp_from_couplings

    fsu = get_preset("FSUGold2")  # its own meson and nucleon masses, passed along
    masses = [
        a
        for k in ("m_sigma", "m_omega", "m_rho", "M")
        for a in ("--" + k.replace("_", "-"), repr(getattr(fsu, k)))
    ]
    nmp = nmp_from_couplings(fsu).to_dict()
    assert main(["solve", *_nmp_args(nmp), *masses, "--nuclei", "40Ca", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)["results"][0]
    ref = solve(get_preset("FSUGold2"), "40Ca")
    assert got["binding_energy"] == pytest.approx(ref.binding_energy, rel=1e-7)
    assert got["charge_radius"] == pytest.approx(ref.charge_radius, rel=1e-7)


def test_solve_from_nmp_without_couplings_is_a_result(capsys):
    """L0 too low for J0: no physical couplings (Non-convergent A), reported with the reason, exit 0."""
    nmp = {"rho0": 0.15, "E0": -16.0, "K0": 230.0, "Q0": -500.0, "mstar": 0.6, "J0": 32.0, "L0": -100.0}
    assert main(["solve", *_nmp_args(nmp), "--nuclei", "16O"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("no physical couplings") and "Non-convergent A" in out
    assert main(["solve", *_nmp_args(nmp), "--nuclei", "16O", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["results"] == [] and data["derived_couplings"] is None and data["reason"]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--rho0", "0.15", "--E0", "-16"], "--K0"),  # some NMPs only: the missing ones named
        (["--preset", "NL3", "--rho0", "0.15"], "not both"),
        (["--g-sigma", "10", "--rho0", "0.15"], "--g-sigma"),
        (["--rho0", "0.9"], "rho0 = 0.9 is outside the allowed range (0.05, 0.4] fm^-3"),
    ],
)
def test_solve_nmp_bad_input_is_one_line_error(extra, needle, capsys):
    assert main(["solve", *extra, "--nuclei", "16O"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and needle in err and "Traceback" not in err
