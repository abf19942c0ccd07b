"""Hostile tests of the command line: seeded argument lists with bad numbers, text, empty and huge values,
unknown and repeated options. Every invocation exits 0 or 2; exit 2 prints one ``error:`` line."""

from __future__ import annotations

import json
import random

import pytest

from nucleiml.cli import main

NMP_ARGS = ["--rho0", "0.155", "--E0", "-16", "--K0", "250", "--Q0", "-200", "--mstar", "0.65"]
NMP_ARGS += ["--J0", "32", "--L0", "60"]
NL3_ARGS = ["--g-sigma", "10.217", "--g-omega", "12.868", "--g-rho", "8.948", "--A", "10.431"]
NL3_ARGS += ["--B", "-28.885", "--C", "0", "--Lambda-v", "0"]
BASES = {
    "nmp": ["nmp", *NL3_ARGS],
    "couplings": ["couplings", *NMP_ARGS],
    "predict": ["predict", "--nuclei", "208Pb", *NMP_ARGS],
    "experiment": ["experiment", "208Pb"],
    "solve": ["solve", "--preset", "NL3", "--nuclei", "16O", "--shells", "4"],
    "dataset": ["dataset", "info", "/nonexistent/dataset"],
}
HOSTILE_TEXT = (
    "1" + "0" * 400,
    "1e400",
    "-1e400",
    "nan",
    "inf",
    "-inf",
    "abc",
    "",
    " ",
    "0x10",
    "1_000",
    "１２",  # fullwidth digits
    "-",
    "--",
    "1,5",
    "\udcff",  # an undecodable byte of a POSIX argv, as Python passes it
    "/dev/null",
    "paper",
    "208Pb,,",
    "Pb",
    "0",
    "-0",
    "1e-320",
    "9" * 5000,
)


def _mutate(argv: list[str], rng: random.Random) -> list[str]:
    argv = list(argv)
    values = [i for i in range(1, len(argv)) if not argv[i].startswith("--")]
    kind = rng.random()
    if kind < 0.6 and values:
        argv[rng.choice(values)] = rng.choice(HOSTILE_TEXT)
    elif kind < 0.75:
        options = [a for a in argv if a.startswith("--")] or ["--json"]
        argv += [rng.choice(options), rng.choice(HOSTILE_TEXT)]  # an option repeated with a bad value
    elif kind < 0.85:
        argv.insert(rng.randrange(1, len(argv) + 1), rng.choice(("--bogus", "-x", "--json", "--help")))
    else:
        del argv[rng.randrange(1, len(argv))]  # a value or an option missing
    return argv


@pytest.mark.parametrize("command", sorted(BASES))
def test_hostile_command_lines_end_in_one_error_line(command, capsys):
    rng = random.Random(command)
    exits = {0: 0, 2: 0}
    for _ in range(60):  # 6 commands x 60 = 360 invocations
        argv = _mutate(BASES[command], rng)
        code = main(argv)
        out = capsys.readouterr()
        assert code in (0, 2), (argv, code, out.err)
        exits[code] += 1
        if code == 2:
            assert out.err.startswith("error: ") and out.err.count("\n") == 1, (argv, out.err)
            assert "Traceback" not in out.err
    assert exits[2] > 20, exits


def test_infer_json_prints_a_summary_with_non_finite_figures_as_null(tmp_path, monkeypatch, capsys):
    """A figure that is NaN (the rmf run's predictive check sets 40Ca's unmeasured skin beside nothing) is
    null in --json, as in summary.json; it was 'error: Out of range float values are not JSON compliant'."""
    pytest.importorskip("ultranest")
    from _inference_fakes import FakeEmulator, install_emulator_loader
    from nucleiml.inference import runner

    install_emulator_loader(monkeypatch, lambda path=None: FakeEmulator())
    summary = runner._summary
    monkeypatch.setattr(runner, "_summary", lambda *a: {**summary(*a), "a_nan": float("nan")})
    monkeypatch.setattr(runner, "_corner", lambda *a: None)  # the figure is not what is tested
    run = tmp_path / "run.toml"
    run.write_text("[sampler]\nlive_points = 40\nmin_ess = 40\n")
    argv = ["infer", "--config", str(run), "--out", str(tmp_path / "o"), "--quiet", "--json"]
    assert main([*argv, "--predictive-draws", "0"]) == 0, capsys.readouterr().err
    printed = json.loads(capsys.readouterr().out)
    assert printed["a_nan"] is None
    assert printed == json.loads((tmp_path / "o" / "summary.json").read_text())
