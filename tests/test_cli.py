"""Command-line interface: ``nucleiml`` / ``python -m nucleiml`` (a thin layer over the public API)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nucleiml
from nucleiml import PRESETS, get_preset
from nucleiml.cli import SUBCOMMANDS, main
from nucleiml.parameters import COUPLING_NAMES, NMP_NAMES

FSU_NMP_ARGS = [
    "--rho0", "0.1505", "--E0", "-16.28", "--K0", "238", "--Q0", "-150",
    "--mstar", "0.593", "--J0", "37.62", "--L0", "112.8",
]  # fmt: skip
FSU_EXPLICIT = [
    "--g-sigma", "10.39684086634012", "--g-omega", "13.556891236563049", "--g-rho", "8.970261980566677",
    "--A", "8.551230130612934", "--B", "-1.0379622183495283", "--C", "0.004266666666666667",
    "--Lambda-v", "0.001646", "--m-sigma", "497.479", "--m-omega", "782.5", "--m-rho", "763", "--M", "939",
]  # fmt: skip


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def replace(args, flag, value):
    args = list(args)
    args[args.index(flag) + 1] = value
    return args


# --------------------------------------------------------------------------- help, version, structure


def test_help_lists_subcommands(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for name in ("nmp", "couplings", "experiment"):
        assert name in out
    assert set(SUBCOMMANDS) >= {"nmp", "couplings", "experiment"}


@pytest.mark.parametrize("name", ["nmp", "couplings", "experiment"])
def test_subcommand_help(capsys, name):
    code, out, _ = run(capsys, name, "--help")
    assert code == 0
    assert f"nucleiml {name}" in out
    assert "--json" in out


def test_help_shows_units_and_ranges(capsys):
    _, out, _ = run(capsys, "couplings", "--help")
    assert "(0.05, 0.4] fm^-3" in out
    _, out, _ = run(capsys, "nmp", "--help")
    assert "fm^-1" in out and "NL3" in out and "FSUGold2" in out


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.strip() == f"nucleiml {nucleiml.__version__}"


def test_no_command_prints_usage(capsys):
    code, _, err = run(capsys)
    assert code == 2
    assert "usage: nucleiml" in err


# --------------------------------------------------------------------------- bad input: one line, exit 2


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["couplings", *replace(FSU_NMP_ARGS, "--rho0", "nan")], ["rho0", "not finite", "(0.05, 0.4] fm^-3"]),
        (
            ["couplings", *replace(FSU_NMP_ARGS, "--rho0", "abc")],
            ["rho0", "real number", "(0.05, 0.4]", "'abc'"],
        ),
        (["couplings", *replace(FSU_NMP_ARGS, "--K0", "inf")], ["K0", "not finite", "(0, 1000] MeV"]),
        (
            ["predict", "--nuclei", "40Ca", *replace(FSU_NMP_ARGS, "--rho0", "nan")],
            ["rho0", "not finite", "(0.05, 0.4] fm^-3"],
        ),
        (
            ["predict", "--nuclei", "40Ca", *FSU_NMP_ARGS, "--nc-b-threshold", "1.5"],
            ["nc_b_threshold = 1.5", "outside the allowed range (0.0, 1.0]"],
        ),
        (
            ["predict", "--nuclei", "40Ca", *FSU_NMP_ARGS, "--nc-b-threshold", "x"],
            ["nc_b_threshold", "real number in (0, 1]", "'x'"],
        ),
        (["couplings", *replace(FSU_NMP_ARGS, "--mstar", "1.5")], ["mstar", "1.5", "(0.2, 1]"]),
        (["couplings", *replace(FSU_NMP_ARGS, "--E0", "-100")], ["E0", "[-40, 0] MeV"]),
        (["couplings", *FSU_NMP_ARGS, "--m-sigma", "-5"], ["m_sigma", "[100, 2000] MeV"]),
        (["couplings", *FSU_NMP_ARGS[2:]], ["--rho0", "required"]),
        (["nmp", *replace(FSU_EXPLICIT, "--g-sigma", "nan")], ["g_sigma", "not finite", "(0, 100]"]),
        (["nmp", *replace(FSU_EXPLICIT, "--C", "-0.1")], ["C = -0.1", "[0, 1]"]),
        (["nmp", *replace(FSU_EXPLICIT, "--A", "1e9")], ["A = 1000000000.0", "[-1000, 1000] fm^-1"]),
        (["nmp", *replace(FSU_EXPLICIT, "--Lambda-v", "x")], ["Lambda_v", "real number", "[-1, 1]"]),
        (["nmp"], ["--g-sigma", "--preset"]),
        (["nmp", "--g-sigma", "10"], ["missing coupling(s) --g-omega"]),
        (["nmp", "--preset", "NL3", "--g-rho", "8"], ["--preset cannot be combined", "--g-rho"]),
        (["nmp", "--preset", "TM1"], ["unknown preset 'TM1'", "NL3, FSUGold2"]),
        (["experiment", "208Xx"], ["unknown element symbol 'Xx'"]),
        (["experiment", "209Bi"], ["209Bi", "available nuclei: 16O"]),
        (["experiment", "0O"], ["A = 0"]),
        (["experiment"], ["nucleus", "--list"]),
        (["bogus"], ["invalid choice: 'bogus'"]),
        (["nmp", "--preset", "NL3", "--frobnicate"], ["unrecognized arguments: --frobnicate"]),
    ],
)
def test_bad_input_is_one_error_line(capsys, argv, fragments):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ")
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def test_nmp_without_saturation_is_an_error(capsys):
    weak = ["--g-sigma", "1", "--g-omega", "1", "--g-rho", "1", "--A", "0", "--B", "0", "--C", "0"]
    code, out, err = run(capsys, "nmp", *weak, "--Lambda-v", "0")
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1


# --------------------------------------------------------------------------- experiment


def test_experiment_table(capsys):
    code, out, _ = run(capsys, "experiment", "208Pb")
    assert code == 0
    assert "208Pb (Z = 82, N = 126, A = 208)" in out
    assert "1636.4300 +/- 0.0011" in out
    assert "5.5012 +/- 0.0013" in out


def test_experiment_table_missing_radius_and_extrapolated(capsys):
    _, out, _ = run(capsys, "experiment", "ni78")
    assert "extrapolated" in out
    assert "not measured" in out


def test_experiment_json_matches_api(capsys):
    code, out, _ = run(capsys, "experiment", "pb-208", "--json")
    assert code == 0
    assert json.loads(out) == nucleiml.experiment("208Pb").to_dict()


def test_experiment_list(capsys):
    from nucleiml.experiment import available_nuclei

    code, out, _ = run(capsys, "experiment", "--list", "--json")
    assert code == 0
    assert json.loads(out) == [n.name for n in available_nuclei()]


# --------------------------------------------------------------------------- nmp (needs nucleiml.nuclear_matter)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_nmp_json_matches_api(capsys, preset):
    code, out, _ = run(capsys, "nmp", "--preset", preset.lower(), "--json")
    assert code == 0
    data = json.loads(out)
    c = get_preset(preset)
    assert data["source"] == preset
    assert data["couplings"] == c.to_dict()
    assert data["nmp"] == nucleiml.nmp_from_couplings(c).to_dict()  # exact: JSON floats round-trip
    assert data["Ksym"] == nucleiml.ksym(c)
    assert data["units"]["rho0"] == "fm^-3"


def test_nmp_explicit_couplings_equal_preset(capsys):
    _, out_preset, _ = run(capsys, "nmp", "--preset", "FSUGold2", "--json")
    code, out_explicit, _ = run(capsys, "nmp", *FSU_EXPLICIT, "--json")
    assert code == 0
    a, b = json.loads(out_preset), json.loads(out_explicit)
    assert b["source"] == "explicit couplings"
    assert a["couplings"] == b["couplings"]
    assert a["nmp"] == b["nmp"]


def test_nmp_explicit_default_masses(capsys):
    code, out, _ = run(capsys, "nmp", *FSU_EXPLICIT[:14], "--json")  # the seven couplings, no masses
    assert code == 0
    seven = {k: float(v) for k, v in zip(COUPLING_NAMES, FSU_EXPLICIT[1:14:2])}
    assert json.loads(out)["couplings"] == nucleiml.Couplings(**seven).to_dict()  # Couplings' default masses


def test_nmp_table(capsys):
    code, out, _ = run(capsys, "nmp", "--preset", "FSUGold2")
    assert code == 0
    lines = out.splitlines()
    assert "FSUGold2" in lines[0]
    names = [line.split()[0] for line in lines[1:]]
    assert names == [*NMP_NAMES, "Ksym"]
    units = {line.split()[0]: line.split()[2] for line in lines[1:] if line.split()[0] != "mstar"}
    assert units["rho0"] == "fm^-3" and units["K0"] == "MeV" and units["Ksym"] == "MeV"
    nmp = nucleiml.nmp_from_couplings(get_preset("FSUGold2"))
    assert float(lines[1].split()[1]) == pytest.approx(nmp.rho0, abs=1e-5)


# --------------------------------------------------------------------------- couplings (needs nucleiml.nuclear_matter)


def test_couplings_json_matches_api(capsys):
    c = get_preset("FSUGold2")
    nmp = nucleiml.nmp_from_couplings(c)
    argv = ["couplings", "--json", "--m-sigma", repr(c.m_sigma)]
    for name in NMP_NAMES:
        argv += [f"--{name}", repr(getattr(nmp, name))]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    data = json.loads(out)
    expected = nucleiml.couplings_from_nmp(nmp, m_sigma=c.m_sigma)
    assert expected.ok
    assert data["reason"] is None
    assert data["nmp"] == nmp.to_dict()
    assert data["couplings"] == expected.couplings.to_dict()
    assert data["masses"] == {"m_sigma": c.m_sigma, "m_omega": 782.5, "m_rho": 763.0, "M": 939.0}


def test_couplings_default_masses_match_api(capsys):
    code, out, _ = run(capsys, "couplings", *FSU_NMP_ARGS, "--json")
    assert code == 0
    nmp = nucleiml.NMP(rho0=0.1505, E0=-16.28, K0=238.0, Q0=-150.0, mstar=0.593, J0=37.62, L0=112.8)
    expected = nucleiml.couplings_from_nmp(nmp)
    data = json.loads(out)
    assert data["couplings"] == (expected.couplings.to_dict() if expected.ok else None)
    assert data["reason"] == expected.reason


def test_couplings_table(capsys):
    code, out, _ = run(capsys, "couplings", *FSU_NMP_ARGS)
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()[1:]]
    assert names == [
        "g_sigma",
        "g_omega",
        "g_rho",
        "A",
        "B",
        "C",
        "Lambda_v",
        "m_sigma",
        "m_omega",
        "m_rho",
        "M",
    ]
    assert "fm^-1" in out


class _Failed:
    ok = False
    couplings = None
    reason = "negative g_omega^2"


@pytest.fixture
def no_couplings(monkeypatch):
    import nucleiml.nuclear_matter as nm

    monkeypatch.setattr(nm, "couplings_from_nmp", lambda nmp, **masses: _Failed())


def test_couplings_no_solution_json(capsys, no_couplings):
    code, out, err = run(capsys, "couplings", *FSU_NMP_ARGS, "--json")
    assert code == 0
    assert err == ""
    data = json.loads(out)
    assert data["couplings"] is None
    assert data["reason"] == "negative g_omega^2"


def test_couplings_no_solution_table(capsys, no_couplings):
    code, out, _ = run(capsys, "couplings", *FSU_NMP_ARGS)
    assert code == 0
    assert out.strip() == "no physical couplings for these nuclear-matter parameters: negative g_omega^2"


# --------------------------------------------------------------------------- installed entry points


def _console_script() -> str | None:
    here = Path(sys.executable).parent / ("nucleiml.exe" if os.name == "nt" else "nucleiml")
    return str(here) if here.exists() else shutil.which("nucleiml")


def test_console_script_help():
    script = _console_script()
    if script is None:
        pytest.skip("nucleiml console script not installed (pip install -e .)")
    proc = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "nmp" in proc.stdout and "experiment" in proc.stdout


def test_python_dash_m():
    proc = subprocess.run(
        [sys.executable, "-m", "nucleiml", "experiment", "40Ca", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["binding_energy"] == 342.0522


def test_unwritable_output_path_is_one_error_line(capsys, tmp_path):
    """A file the command cannot write (here --out inside a directory that does not exist, and a directory
    where a file is expected) is one error line naming the path, exit status 2, never a traceback."""
    nmp = ["--rho0", "0.15", "--E0", "-16", "--K0", "240", "--Q0", "-100", "--mstar", "0.6", "--J0", "32"]
    nmp += ["--L0", "60"]
    for out in (tmp_path / "missing" / "p.csv", tmp_path):
        code, stdout, err = run(capsys, "predict", "--nuclei", "40Ca", *nmp, "--out", str(out))
        assert code == 2
        assert stdout == ""
        assert err.startswith("error: ") and err.count("\n") == 1, err
        assert str(out) in err
