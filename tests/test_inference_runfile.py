"""Run files of `nucleiml infer`: the shipped default, overrides, and clear errors for every bad field."""

import json

import pytest

from nucleiml.cli import main
from nucleiml.datasets import default_prior
from nucleiml.inference import RunConfig, RunConfigError, default_run_config, load_run_config
from nucleiml.inference.runfile import LikelihoodConfig, SamplerConfig


def test_default_run_file_is_the_documented_run():
    cfg = default_run_config()
    assert cfg.data.nuclei == ("40Ca", "208Pb")
    assert cfg.data.observables == ("binding_energy", "charge_radius")
    assert (cfg.likelihood.shape, cfg.likelihood.tolerance) == ("gaussian", 0.02)
    assert cfg.prior == default_prior()
    assert cfg.model.name == "nml" and cfg.model.emulator is None and cfg.model.workers is None
    assert cfg.sampler.backend == "ultranest" and cfg.sampler.max_ncalls is None
    assert (cfg.sampler.live_points, cfg.sampler.frac_remain) == (400, 0.5)
    assert "default_run.toml" in cfg.source and "[likelihood]" in cfg.text
    assert load_run_config(None) == cfg


def test_empty_file_takes_every_default(tmp_path):
    p = tmp_path / "run.toml"
    p.write_text("")
    cfg, default = load_run_config(p), default_run_config()
    assert (cfg.data, cfg.likelihood, cfg.prior, cfg.model, cfg.sampler) == (
        default.data,
        default.likelihood,
        default.prior,
        default.model,
        default.sampler,
    )


def test_full_file_round_trips_and_resolves_relative_prior(tmp_path):
    prior = tmp_path / "priors" / "narrow.toml"
    prior.parent.mkdir()
    text = "[masses]\nm_sigma = 500.0\n" + "".join(
        f'[nmp.{k}]\ndistribution = "uniform"\nlow = {d.low}\nhigh = {d.high}\n'
        for k, d in default_prior().nmp.items()
    )
    prior.write_text(text.replace("high = 320.0", "high = 300.0"))
    run = tmp_path / "run.toml"
    run.write_text(
        """
[data]
nuclei = ["Pb208", "ca-40"]
observables = ["charge_radius"]
[likelihood]
shape = "box"
tolerance = 0.05
[prior]
file = "priors/narrow.toml"
[model]
name = "rmf"
workers = 2
scheduler = "tcp://localhost:8786"
max_iterations = 200
[sampler]
backend = "dynesty"
live_points = 50
max_ncalls = 1000
seed = 3
"""
    )
    cfg = load_run_config(run)
    assert cfg.data.nuclei == ("208Pb", "40Ca") and cfg.data.observables == ("charge_radius",)
    assert (cfg.likelihood.shape, cfg.likelihood.tolerance) == ("box", 0.05)
    assert cfg.prior.nmp["K0"].high == 300.0 and cfg.prior_file == str(prior)
    assert (cfg.model.name, cfg.model.workers, cfg.model.scheduler, cfg.model.max_iterations) == (
        "rmf",
        2,
        "tcp://localhost:8786",
        200,
    )
    assert (cfg.sampler.backend, cfg.sampler.live_points, cfg.sampler.max_ncalls) == ("dynesty", 50, 1000)
    d = cfg.to_dict()
    assert d["prior"]["file"] == str(prior) and d["prior"]["nmp"]["K0"]["high"] == 300.0
    assert d["model"]["workers"] == 2 and d["sampler"]["max_ncalls"] == 1000
    # the record in summary.json builds the same run again (the prior inline, its file kept as a label),
    # even after the prior file is gone
    prior.unlink()
    again = RunConfig.from_record(json.loads(json.dumps(d)))
    assert again.to_dict() == d and again.prior_file == str(prior)
    assert RunConfig.from_record(default_run_config().to_dict()).to_dict() == default_run_config().to_dict()


def test_inline_prior(tmp_path):
    run = tmp_path / "run.toml"
    lines = ["[prior.masses]", "m_sigma = 510.0"]
    for k, d in default_prior().nmp.items():
        lines += [f"[prior.nmp.{k}]", 'distribution = "uniform"', f"low = {d.low}", f"high = {d.high}"]
    lines[-1] = f"high = {default_prior().nmp['L0'].high - 10}"
    run.write_text("\n".join(lines))
    cfg = load_run_config(run)
    assert cfg.prior.masses["m_sigma"] == 510.0 and cfg.prior.nmp["L0"].high == 110.0


def test_replace_overrides_and_validates():
    cfg = default_run_config().replace(model={"name": "rmf", "workers": 3}, sampler={"live_points": 50})
    assert (cfg.model.name, cfg.model.workers, cfg.sampler.live_points) == ("rmf", 3, 50)
    with pytest.raises(RunConfigError, match=r"\[model\] name must be one of 'nml', 'rmf', got 'xyz'"):
        cfg.replace(model={"name": "xyz"})
    with pytest.raises(RunConfigError, match=r"\[sampler\] unknown key\(s\) nlive"):
        cfg.replace(sampler={"nlive": 5})
    with pytest.raises(RunConfigError, match="cannot replace section 'prior'"):
        cfg.replace(prior={})


BAD = [
    (
        "[likelihood]\ntolerance = 0.0",
        r"\[likelihood\] tolerance must be a number in \[0.001, 0.5\], got 0.0",
    ),
    ('[likelihood]\ntolerance = "2%"', r"\[likelihood\] tolerance must be a number in \[0.001, 0.5\]"),
    (
        '[likelihood]\nshape = "lorentz"',
        r"\[likelihood\] shape must be one of 'gaussian', 'box', got 'lorentz'",
    ),
    ("[likelihood]\nwidth = 1", r"\[likelihood\] unknown key\(s\) width; allowed: shape, tolerance"),
    ('[data]\nnuclei = ["40Ca", "999Xx"]', r"\[data\] nuclei:"),
    ('[data]\nnuclei = "40Ca"', r"\[data\] nuclei must be a list of strings"),
    ("[data]\nnuclei = []", r"\[data\] nuclei must be a non-empty list"),
    ('[data]\nnuclei = ["40Ca", "Ca40"]', r"\[data\] nuclei lists 40Ca twice"),
    ('[data]\nnuclei = ["56Ni"]', r"56Ni has no measured charge radius"),
    ('[data]\nnuclei = ["44Ti"]', r"\[data\] nuclei:.*44Ti"),
    (
        '[data]\nobservables = ["mass"]',
        r"\[data\] observables entry must be one of 'binding_energy', 'charge_radius'",
    ),
    ('[model]\nname = "gp"', r"\[model\] name must be one of 'nml', 'rmf', got 'gp'"),
    ("[model]\nworkers = -1", r"\[model\] workers must be an integer in \[0, 1024\], got -1"),
    ("[model]\nworkers = 1.5", r"\[model\] workers must be an integer"),
    ('[model]\nscheduler = "localhost"', r"\[model\] scheduler must be a Dask scheduler address"),
    ("[model]\nmax_iterations = 10.0", r"\[model\] max_iterations must be an integer in \[0, 100000\]"),
    ('[model]\nemulator = ""', r"\[model\] emulator must be 'default' or a path"),
    ('[sampler]\nbackend = "emcee"', r"\[sampler\] backend must be one of 'ultranest', 'dynesty'"),
    ("[sampler]\nlive_points = 5", r"\[sampler\] live_points must be an integer in \[10, 100000\], got 5"),
    ("[sampler]\ndlogz = 0", r"\[sampler\] dlogz must be a number in \(0, 100\]"),
    ("[sampler]\nfrac_remain = 1.5", r"\[sampler\] frac_remain must be a number in \(0, 0.999\]"),
    ("[sampler]\nbatch_min = 100\nbatch_max = 10", r"\[sampler\] batch_max = 10 must be >= batch_min = 100"),
    ("[sampler]\nseed = true", r"\[sampler\] seed must be an integer"),
    ("[sampler]\nmax_ncalls = -5", r"\[sampler\] max_ncalls must be an integer in \[0, 1000000000000\]"),
    ("[samplers]\nseed = 1", r"unknown section\(s\) 'samplers'; allowed: \[data\], \[likelihood\]"),
    ('sampler = "ultranest"', r"\[sampler\] must be a table"),
    ('[prior]\nfile = "missing.toml"', r"cannot read prior file .*missing.toml"),
    ("[prior]\nfile = 3", r"\[prior\] file must be 'default' or the path of a prior TOML file"),
    (
        '[prior]\nfile = "default"\n[prior.masses]\nM = 939.0',
        r"\[prior\] give either file or an inline prior",
    ),
    ('[prior.nmp.rho0]\ndistribution = "uniform"\nlow = 0.2\nhigh = 0.1', r"\[prior\].*nmp.rho0.*low < high"),
    ("[likelihood\nshape = 1", r"is not valid TOML"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_run_files_name_file_field_and_allowed_values(tmp_path, text, message):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(RunConfigError, match=message) as info:
        load_run_config(p)
    assert str(p) in str(info.value)


def test_unreadable_run_file(tmp_path):
    with pytest.raises(RunConfigError, match=r"cannot read run file .*nope.toml"):
        load_run_config(tmp_path / "nope.toml")


def test_dataclasses_validate_direct_construction():
    with pytest.raises(RunConfigError, match="tolerance"):
        LikelihoodConfig(tolerance=float("nan"))
    with pytest.raises(RunConfigError, match="live_points"):
        SamplerConfig(live_points=True)


def test_cli_reports_bad_run_file_in_one_line(tmp_path, capsys):
    p = tmp_path / "bad.toml"
    p.write_text("[likelihood]\ntolerance = 3.0\n")
    assert main(["infer", "--config", str(p), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: run file") and "[likelihood] tolerance" in err and "\n" not in err
    assert not (tmp_path / "out").exists()
