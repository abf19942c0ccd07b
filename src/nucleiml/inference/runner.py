"""The jobs: :func:`infer` (one posterior, into a run directory), :func:`compare` (two runs) and
:func:`predict_posterior` (a finished run's posterior through a model, for any nuclei).

A run directory ``OUT`` holds ``run.json`` (the run as plain data, written first, and the sessions so far),
``sampler/`` (UltraNest's log directory: resume data and ``debug.log``), and after a finished run
``posterior.parquet``, ``weighted.parquet``, ``summary.json``, ``corner.png`` and ``predictive.png``.
An interrupted run
(Ctrl-C, SIGTERM, kill, ``max_ncalls``) is continued with ``resume=True`` (``--resume``), which needs the
same run settings; only execution settings (workers, scheduler, max_ncalls) may change.
"""

from __future__ import annotations

import contextlib
import json
import math
import platform
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_json
from .._json import finite_json
from .._paths import as_path
from ..parameters import NMP_NAMES
from .likelihood import Likelihood
from .posterior import SUMMARY_FILE, PosteriorError, marginal_summary, read_posterior, write_samples
from .predictive import (
    PREDICTIVE_DRAWS,
    check_draws,
    compare_predictive,
    reference,
    sample_predictive,
    summarize_predictive,
)
from .runfile import OBSERVABLES, RunConfig

__all__ = ["CORNER_FILE", "InferenceError", "compare", "infer", "predict_posterior"]

RUN_FILE = "run.json"
SAMPLER_DIR = "sampler"
CORNER_FILE = "corner.png"
PREDICTIVE_FILE = "predictive.png"
COMPARE_JSON = "jsd.json"
COMPARE_PNG = "corner_compare.png"
FORMAT = "nucleiml-posterior"
FORMAT_VERSION = 1
_EXECUTION_KEYS = {("model", "workers"), ("model", "scheduler"), ("sampler", "max_ncalls")}
MR_BAND_FILE = "mass_radius.png"
COMPARE_MR_PNG = "mass_radius_compare.png"
COMPARE_EOS_PNG = "eos_compare.png"
CORNER_STARS_FILE = "corner_stars.png"
EOS_BAND_FILE = "eos.png"
_OUTPUTS = (
    "posterior.parquet",
    "weighted.parquet",
    SUMMARY_FILE,
    CORNER_FILE,
    PREDICTIVE_FILE,
    MR_BAND_FILE,
    EOS_BAND_FILE,
    CORNER_STARS_FILE,
)


class InferenceError(ValueError):
    """An inference run cannot start or resume (e.g. the output directory holds another run)."""


def _versions(backend: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    from .. import __version__

    out = {"nucleiml": __version__, "python": platform.python_version()}
    for pkg in ("numpy", "scipy", backend, "torch"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def _differences(stored: dict, current: dict) -> list[str]:
    """Settings that differ between a stored run and the asked one (a key a run made by an earlier version
    does not record counts as its default, e.g. ``[data] neutron_skin``)."""
    defaults = RunConfig().to_dict()
    diffs = []
    for section in sorted(set(stored) | set(current)):
        a, b = stored.get(section, {}), current.get(section, {})
        for key in sorted(set(a) | set(b)):
            default = defaults.get(section, {}).get(key)
            old, new = a.get(key, default), b.get(key, default)
            if (section, key) in _EXECUTION_KEYS or old == new:
                continue
            diffs.append(f"[{section}] {key}: run has {old!r}, asked {new!r}")
    return diffs


class _CountingLikelihood:
    """The vectorised log-likelihood of a model, counting points and failures; ``after_call()`` (if set)
    runs after every call, e.g. to record the counts where they survive a kill."""

    def __init__(self, model, likelihood: Likelihood):
        self.model = model
        self.likelihood = likelihood
        self.points = 0
        self.invalid = 0
        self.calls = 0
        self.after_call = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        ev = self.model.evaluate(x)
        logl = self.likelihood(ev.values(self.likelihood.observables), ev.valid, ev.badness, x)
        self.calls += 1
        self.points += len(x)
        self.invalid += int(np.count_nonzero(~ev.valid.all(axis=1)))
        if self.after_call is not None:
            self.after_call()
        return logl


def _read_state(state_path: Path) -> dict:
    """A run directory's run.json, checked: the run's settings and its sessions' counts (which the summary
    adds up) must be there with their types."""
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InferenceError(f"cannot read {state_path}: {exc}") from None
    sessions = state.get("sessions") if isinstance(state, dict) else None
    ok = isinstance(state, dict) and isinstance(state.get("run", {}), dict) and isinstance(sessions, list)
    for s in sessions if ok else ():
        ok = ok and isinstance(s, dict)
        for key in ("seconds", "points_evaluated"):
            v = s.get(key, 0) if ok else None
            ok = ok and not isinstance(v, bool) and isinstance(v, int | float) and math.isfinite(v) and v >= 0
    if not ok:
        raise InferenceError(
            f"{state_path} is corrupted (not a run record with its sessions' counts); use --overwrite to "
            "start afresh"
        )
    return state


def _prepare_out(out: Path, run: dict, resume: bool, overwrite: bool) -> dict:
    state_path = out / RUN_FILE
    if resume and overwrite:
        raise InferenceError("give either resume or overwrite, not both")
    if out.exists() and not out.is_dir():
        raise InferenceError(f"--out {out} exists and is not a directory")
    if state_path.exists():
        state = {} if overwrite else _read_state(state_path)
        if overwrite:
            shutil.rmtree(out / SAMPLER_DIR, ignore_errors=True)
            for name in (*_OUTPUTS, RUN_FILE):
                (out / name).unlink(missing_ok=True)
            return {}
        if not resume:
            raise InferenceError(
                f"{out} already holds an inference run; use --resume to continue it, --overwrite to start "
                f"afresh, or another --out directory"
            )
        diffs = _differences(state.get("run", {}), run)
        if diffs:
            raise InferenceError(
                f"{out} holds a run with other settings ({'; '.join(diffs)}); resume with the same run file "
                f"and model, or use --overwrite or another --out directory"
            )
        return state
    if resume:
        raise InferenceError(f"nothing to resume: {out} holds no inference run ({RUN_FILE} is missing)")
    if out.exists() and any(p for p in out.iterdir() if not p.name.startswith(".")) and not overwrite:
        raise InferenceError(f"--out {out} is not empty and holds no inference run; use a new directory")
    return {}


def infer(
    config: RunConfig,
    out: str | Path,
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    model=None,
    plot: bool = True,
    predictive_draws: int = PREDICTIVE_DRAWS,
) -> dict[str, Any]:
    """Sample the posterior of the seven NMPs for a run and write it to directory ``out``.

    Parameters
    ----------
    config : RunConfig
        The run (see :func:`~nucleiml.inference.load_run_config`).
    out : path
        Run directory (created).
    resume : bool
        Continue the interrupted run in ``out`` (same settings; workers, scheduler and max_ncalls may
        differ).
    overwrite : bool
        Delete a previous run in ``out`` first.
    progress : bool
        Show the sampler's progress on stderr.
    model : Model, optional
        Use this model instead of building the one ``config.model`` names (e.g. a test double). It is
        not closed here.
    plot : bool
        Write ``corner.png`` and ``predictive.png`` (the posterior predictive check, if it ran).
    predictive_draws : int
        Posterior draws at which the model is evaluated for the posterior predictive check
        (``summary["posterior_predictive"]``, see :mod:`.predictive`); 0 skips it.

    Returns
    -------
    dict
        The summary (as written to ``summary.json``).

    Raises
    ------
    InferenceError
        If ``config`` is not a RunConfig, ``out`` not a path, ``out`` holds another run, or holds none to
        resume, or its run.json is corrupted.
    ModelError, RunConfigError, MissingInferExtraError
        For a model that cannot be built, invalid settings, or a missing optional package.
    ValueError
        If ``predictive_draws`` is not an integer >= 0.
    KeyboardInterrupt
        On Ctrl-C (or SIGTERM through the CLI); ``run.json`` records the session and ``resume=True``
        continues the run.
    """
    from .models import make_model

    t0 = time.perf_counter()
    check_draws(predictive_draws)
    if not isinstance(config, RunConfig):
        raise InferenceError(f"config must be a RunConfig (see load_run_config), got {type(config).__name__}")
    out = as_path(out, "run directory", InferenceError)
    run = json.loads(json.dumps(config.to_dict()))
    previous = _prepare_out(out, run, resume, overwrite)
    likelihood = _likelihood(config)
    own_model = model is None
    model = make_model(config) if own_model else model
    out.mkdir(parents=True, exist_ok=True)
    reweighting = config.constraints.use and config.constraints.method == "reweight"
    counting = _CountingLikelihood(model, likelihood.finite_nuclei if reweighting else likelihood)
    log = _RunLog(out, config, run, previous.get("sessions", []), counting, t0)
    log.save()
    counting.after_call = log.progress  # the session's counts survive SIGKILL (run.json, call by call)
    try:
        with contextlib.ExitStack() as stack:
            if own_model:
                stack.enter_context(model)
            executor = _joint_executor(config, model, stack)
            if hasattr(likelihood, "executor"):
                likelihood.executor = executor
            result, reweighted = _sample(config, counting, likelihood, out, resume, progress)
            predicted, predictive, ref = _posterior_check(model, result, likelihood, predictive_draws, config)
            derived = _derived(config, result, executor)
    finally:
        log.save()
    log.save()  # the summary's wall_seconds include the derived quantities
    summary = _summary(config, run, result, model, counting, log, t0, predictive)
    if derived is not None:
        summary.update(_derived_summary(likelihood, derived))
    if reweighted is not None:
        summary["constraints_method"] = reweighted
    # as written to summary.json: a non-finite figure (e.g. the pull of a neutron skin never measured) is None
    summary = finite_json(summary)
    _write_outputs(out, config, result, summary, predicted, ref, plot, derived)
    log.session["completed"] = True
    log.save()
    return summary


def _sample(config: RunConfig, counting, likelihood, out: Path, resume: bool, progress: bool):
    """Nested sampling of the counting likelihood; for a joint run with ``method = "reweight"``, then the
    reweighting by the constraint terms (:mod:`.reweight`). Returns the result and the reweighting record
    (None without)."""
    from .sampler import run_sampler

    result = run_sampler(
        counting, config.prior, config.sampler, log_dir=out / SAMPLER_DIR, resume=resume, progress=progress
    )
    if not (config.constraints.use and config.constraints.method == "reweight"):
        return result, None
    from .reweight import reweight

    rng = np.random.default_rng(config.sampler.seed)
    return reweight(result, likelihood, rng, finite_nuclei=counting, prior=config.prior)


def _posterior_check(model, result, likelihood: Likelihood, draws: int, config: RunConfig):
    """The posterior predictive check of a finished sampling: the model at ``draws`` posterior draws
    (chosen with the run's seed), its summary table with the seconds it took, and the measurements it is
    set beside (the likelihood's, and the neutron skins the package has, used by the run or not)."""
    t0 = time.perf_counter()
    predicted = sample_predictive(
        model,
        result.samples,
        likelihood.nuclei,
        likelihood.observables,
        draws=draws,
        rng=np.random.default_rng(config.sampler.seed),
    )
    ref = reference(likelihood.nuclei, likelihood.tolerance)
    table = summarize_predictive(predicted, ref)
    table["seconds"] = round(time.perf_counter() - t0, 3)
    return predicted, table, ref


def _likelihood(config: RunConfig):
    """The run's likelihood: finite nuclei, plus the constraint terms of ``[constraints] use``."""
    if config.constraints.use:
        from .joint import JointLikelihood

        return JointLikelihood.from_config(config)
    return Likelihood.from_config(config)


def _joint_executor(config: RunConfig, model, stack: contextlib.ExitStack):
    """Where a joint run evaluates its constraint terms and derived quantities (the star chains): the
    ``rmf`` model's own workers; for other models, workers started here as ``[model] workers`` and
    ``scheduler`` say (closed with ``stack``); None (in process) for a run without constraints or derived
    quantities, or with one worker."""
    from .._parallel import make_executor
    from .models import ModelError

    if not (config.constraints.use or config.constraints.wants_derived):
        return None
    if hasattr(model, "executor"):
        return model.executor
    executor = make_executor(config.model.workers, config.model.scheduler, ModelError)
    if executor is not None:
        stack.push(lambda exc_type, *_: executor.close(abort=exc_type is not None))
    return executor


def _derived(config: RunConfig, result, executor=None):
    """Derived quantities at the equally weighted samples (None unless the run asks for them)."""
    if not config.constraints.wants_derived:
        return None
    from .derived import derived_quantities

    t0 = time.perf_counter()
    columns, status = derived_quantities(result.samples, config.prior.masses, executor=executor)
    from .derived import neutron_skins  # the solver's (rmf) or the emulator's, if it has the skin regressor

    columns.update(neutron_skins(config, result.samples, executor))
    return {"columns": columns, "status": status, "seconds": round(time.perf_counter() - t0, 3)}


def _derived_summary(likelihood, derived: dict) -> dict[str, Any]:
    """summary.json entries of a run with derived quantities (and constraints)."""
    from ..stars import StarStatus
    from .derived import DERIVED_UNITS
    from .posterior import QUANTILES_68

    out: dict[str, Any] = {}
    if hasattr(likelihood, "describe"):
        out["constraints"] = likelihood.describe()
    table = {}
    for name, col in derived["columns"].items():
        ok = np.isfinite(col)
        if not np.any(ok):
            table[name] = {"unit": DERIVED_UNITS[name], "finite_fraction": 0.0}
            continue
        q = np.percentile(col[ok], [100 * QUANTILES_68[0], 50, 100 * QUANTILES_68[2], 5, 95])
        table[name] = {
            "median": float(q[1]),
            "low_68": float(q[0]),
            "high_68": float(q[2]),
            "low_90": float(q[3]),
            "high_90": float(q[4]),
            "unit": DERIVED_UNITS[name],
            "finite_fraction": float(np.mean(ok)),
        }
    status = derived["status"]
    out["derived"] = {
        "quantities": table,
        "star_status": {s.name: int(np.sum(status == s)) for s in StarStatus if np.any(status == s)},
        "seconds": derived["seconds"],
        "interval": "68 %: 15.87th to 84.13th, 90 %: 5th to 95th percentile of the equally weighted samples "
        "with a finite value",
    }
    return out


def _write_outputs(
    out: Path, config: RunConfig, result, summary: dict, predicted, ref, plot: bool, derived=None
):
    """Samples (with the derived columns), ``summary.json`` (a non-finite figure becomes null, not a
    crash) and, with ``plot``, the corner plot, the predictive check's figure and, with derived
    quantities, the M-R and EoS bands."""
    extra = None if derived is None else {**derived["columns"], "star_status": derived["status"]}
    write_samples(out, result, NMP_NAMES, extra=extra)
    atomic_write_json(out / SUMMARY_FILE, finite_json(summary))
    if plot:
        _corner(config, result, out / CORNER_FILE)
        if predicted.draws:
            from .plots import predictive_plot

            predictive_plot(predicted, ref, out / PREDICTIVE_FILE, title=_title(config, result))
        if derived is not None:
            from .band_plots import band_figures

            _corner_stars(config, result, derived, out / CORNER_STARS_FILE)
            band_figures(
                result.samples, config, out / MR_BAND_FILE, out / EOS_BAND_FILE, _title(config, result)
            )


class _RunLog:
    """``run.json`` of a run directory: the run as plain data, its run file, and one record per session
    (start, seconds, points evaluated, whether it completed), saved whenever :meth:`save` is called, and
    after every likelihood call by :meth:`progress` (without fsync: it survives a killed process, so a
    session killed with SIGKILL still counts its calls and seconds up to its last finished call)."""

    def __init__(self, out: Path, config: RunConfig, run: dict, sessions: list, counting, t0: float):
        self.path, self.counting, self.t0 = out / RUN_FILE, counting, t0
        self.session: dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "completed": False}
        self.sessions = [*sessions, self.session]
        self.state = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "run": run,
            "run_file": config.source,
            "run_file_text": config.text,
            "sessions": self.sessions,
        }

    def save(self, *, durable: bool = True) -> None:
        self.session.update(
            seconds=round(time.perf_counter() - self.t0, 3),
            points_evaluated=self.counting.points,
            invalid_points=self.counting.invalid,
        )
        atomic_write_json(self.path, self.state, durable=durable)

    def progress(self) -> None:
        """Record the session's counts so far (after each likelihood call)."""
        self.save(durable=False)

    @property
    def wall_seconds(self) -> float:
        """Seconds over all sessions of the run."""
        return sum(float(s.get("seconds", 0.0)) for s in self.sessions)

    @property
    def points_evaluated(self) -> int:
        """Likelihood evaluations over all sessions of the run (a resumed session replays the stored points
        without evaluating them again)."""
        return sum(int(s.get("points_evaluated", 0)) for s in self.sessions)


def _summary(
    config: RunConfig, run: dict, result, model, counting, log: _RunLog, t0: float, predictive: dict
) -> dict[str, Any]:
    """``summary.json`` of a finished run: marginals, evidence, calls, timing, experiment and the
    posterior predictive check, versions and the run."""
    likelihood = counting.likelihood
    points = counting.points
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": model.describe(),
        "nmp": marginal_summary(result.points, result.weights, NMP_NAMES),
        "interval": "68 %: 15.87th to 84.13th weighted percentile",
        "log_evidence": result.logz,
        "log_evidence_err": result.logzerr,
        "log_likelihood_normalisation": likelihood.log_normalisation,
        "likelihood_calls": log.points_evaluated,
        "likelihood_calls_this_session": points,
        "sampler_ncall": result.ncall,
        "invalid_fraction_this_session": counting.invalid / points if points else None,
        "likelihood_calls_per_second_this_session": points / (time.perf_counter() - t0),
        "wall_seconds": round(log.wall_seconds, 3),
        "sessions": len(log.sessions),
        "samples": {"equally_weighted": len(result.samples), "weighted": len(result.points)},
        "sampler": {"backend": result.backend, "iterations": result.niter, **result.info},
        "experiment": {
            n: dict(zip(likelihood.observables, map(float, row)))
            for n, row in zip(likelihood.nuclei, likelihood.experimental)
        },
        "posterior_predictive": predictive,
        "versions": _versions(result.backend),
        "run": run,
        "run_file": config.source,
        "run_file_text": config.text,
    }


def _corner_stars(config: RunConfig, result, derived: dict, path: Path) -> None:
    """Corner plot of the NMPs with Mmax, R1.4 and Lambda1.4 (equally weighted samples whose sequence
    reaches 1.4 Msun and its maximum)."""
    from .plots import corner_plot

    extra = ("M_max", "R_14", "Lambda_14")
    cols = np.column_stack([result.samples, *(derived["columns"][k] for k in extra)])
    keep = np.all(np.isfinite(cols), axis=1)
    if np.count_nonzero(keep) > 20:
        corner_plot(cols[keep], path, names=(*NMP_NAMES, *extra), title=_title(config, result))


def _title(config: RunConfig, result) -> str:
    skins = f", skin of {', '.join(config.data.neutron_skin)}" if config.data.neutron_skin else ""
    extra = f" + {len(config.constraints.use)} constraints" if config.constraints.use else ""
    return (
        f"{config.model.name}: {', '.join(config.data.nuclei)}, {config.likelihood.shape} "
        f"{100 * config.likelihood.tolerance:g} %{skins}{extra}  (log Z = {result.logz:.2f} ± {result.logzerr:.2f})"
    )


def _corner(config: RunConfig, result, path: Path) -> None:
    from .plots import corner_plot

    corner_plot(result.points, path, weights=result.weights, title=_title(config, result))


def compare(
    run_a: str | Path,
    run_b: str | Path,
    out: str | Path,
    *,
    n_boot: int = 200,
    seed: int = 0,
    plot: bool = True,
) -> dict[str, Any]:
    """Compare two finished runs: per-NMP Jensen-Shannon divergence, overlaid corner plot, wall-time ratio,
    and the medians of their posterior predictive checks.

    Writes ``jsd.json`` and ``corner_compare.png`` into ``out``.

    Parameters
    ----------
    run_a, run_b : path
        Run directories written by :func:`infer` (e.g. nml and rmf).
    out : path
        Output directory (created).
    n_boot : int
        Bootstrap replicates of the JSD (>= 0).
    seed : int
        Seed of the bootstrap.
    plot : bool
        Write the overlaid corner plot.

    Returns
    -------
    dict
        The content of ``jsd.json``.

    Raises
    ------
    PosteriorError
        If a run directory holds no finished run.
    """
    if not isinstance(n_boot, int) or isinstance(n_boot, bool) or not 0 <= n_boot <= 100000:
        raise ValueError(f"n_boot must be an integer in [0, 100000], got {n_boot!r}")
    out = as_path(out, "comparison directory", InferenceError)
    a, b = read_posterior(run_a), read_posterior(run_b)
    per = _per_nmp_jsd(a.samples, b.samples, np.random.default_rng(seed), n_boot)
    result = _comparison_record(a, b, per, n_boot, seed)
    derived = _derived_jsd(a, b)
    if derived:
        result["jsd_derived"] = derived
    result = finite_json(result)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / COMPARE_JSON, result)
    if plot:
        from .plots import compare_corner_plot

        compare_corner_plot(
            a.samples,
            b.samples,
            out / COMPARE_PNG,
            labels=(a.label, b.label),
            jsd=result["jsd"],
            title="posterior of the NMPs",
        )
        if derived:
            from .band_plots import compare_bands

            compare_bands([a, b], out / COMPARE_MR_PNG, out / COMPARE_EOS_PNG, seed=seed)
    return result


def _derived_columns(post) -> dict | None:
    """The derived star columns of a run's posterior.parquet (None for a run without them)."""
    import pyarrow.parquet as pq

    table = pq.read_table(post.path / "posterior.parquet")
    names = ("M_max", "R_14", "Lambda_14")
    if not all(n in table.column_names for n in names):
        return None
    return {n: table.column(n).to_numpy() for n in names}


def _derived_jsd(a, b) -> dict:
    """JSD (bits) of Mmax, R1.4 and Lambda1.4 when both runs have them (finite values only)."""
    from .compare import jsd_bits

    ca, cb = _derived_columns(a), _derived_columns(b)
    if ca is None or cb is None:
        return {}
    out = {}
    for k in ca:
        x, y = ca[k][np.isfinite(ca[k])], cb[k][np.isfinite(cb[k])]
        out[k] = jsd_bits(x, y) if x.size > 10 and y.size > 10 else float("nan")
    return out


def _per_nmp_jsd(samples_a: np.ndarray, samples_b: np.ndarray, rng: np.random.Generator, n_boot: int) -> dict:
    """Bootstrap JSD (bits) of each NMP's 1-D marginals, with each set's own noise floor."""
    from .compare import jsd_bootstrap, self_jsd

    per = {}
    for i, name in enumerate(NMP_NAMES):
        res = jsd_bootstrap(samples_a[:, i], samples_b[:, i], rng, n_boot=n_boot)
        res["noise_floor_a"] = self_jsd(samples_a[:, i], rng)
        res["noise_floor_b"] = self_jsd(samples_b[:, i], rng)
        per[name] = res
    return per


def _comparison_record(a, b, per: dict, n_boot: int, seed: int) -> dict[str, Any]:
    """The content of ``jsd.json``: the two runs, the estimator, the JSDs, the wall-time ratio and the two
    posterior predictive checks side by side."""
    from .compare import GRID_POINTS

    wall_a = a.summary.get("wall_seconds")
    wall_b = b.summary.get("wall_seconds")
    return {
        "runs": {
            "a": {"path": str(a.path), "model": a.summary.get("model", {}), "wall_seconds": wall_a},
            "b": {"path": str(b.path), "model": b.summary.get("model", {}), "wall_seconds": wall_b},
        },
        "estimator": (
            f"Jensen-Shannon divergence in bits (base 2, in [0, 1]) of the 1-D marginals of the equally "
            f"weighted samples; densities by Gaussian KDE (Scott's bandwidth sigma n^-1/5, linear binning, "
            f"{GRID_POINTS}-node common grid padded by 5 bandwidths); bootstrap over both sets with "
            f"{n_boot} replicates (median, 16th-84th percentiles), seed {seed}; noise_floor_*: median JSD "
            f"between random halves of one set"
        ),
        "jsd": {k: v["jsd"] for k, v in per.items()},
        "max_jsd": max(v["jsd"] for v in per.values()),
        "per_nmp": per,
        "wall_time_ratio_b_over_a": wall_b / wall_a if wall_a and wall_b else None,
        "samples": {"a": len(a.samples), "b": len(b.samples)},
        "posterior_predictive": compare_predictive(
            a.summary.get("posterior_predictive"), b.summary.get("posterior_predictive")
        ),
    }


def _rerun_config(post, run, model, workers: int | None, emulator: str | None) -> RunConfig:
    """The run's own settings from its summary, with the model's name (if ``model`` is one), workers and
    emulator path replaced where given."""
    source = f"{Path(run) / SUMMARY_FILE}"
    if "run" not in post.summary:
        raise PosteriorError(f"{source} records no run settings (no 'run' section): not a run's summary")
    config = RunConfig.from_record(post.summary["run"], source=source)
    overrides = {"name": model} if isinstance(model, str) else {}
    if workers is not None:
        overrides["workers"] = workers
    if emulator is not None:
        overrides["emulator"] = emulator
    if overrides.get("name", config.model.name) != "rmf":  # predictions need no likelihood: no skin data
        # (an nml model gives skins wherever its emulator has the skin regressor, needed or not)
        return config.replace(data={"neutron_skin": ()}, model=overrides)
    return config.replace(model=overrides)


def predict_posterior(
    run: str | Path,
    *,
    nuclei=None,
    model=None,
    draws: int = PREDICTIVE_DRAWS,
    workers: int | None = None,
    emulator: str | None = None,
    plot: str | Path | None = None,
) -> dict[str, Any]:
    """A finished run's posterior through a model: binding energy and charge radius (and, from ``rmf``, the
    neutron skin) of any nuclei at posterior draws, beside experiment (the check :func:`infer` makes for
    the run's own nuclei and model).

    With ``model="rmf"`` on an ``nml`` run, this validates the emulator's posterior with the solver at a
    few hundred draws instead of a whole ``rmf`` run.

    Parameters
    ----------
    run : path
        A run directory written by :func:`infer`.
    nuclei : str or sequence, optional
        Nuclei to predict (default: the run's): ``"48Ca"``, ``"40Ca,208Pb"`` or a sequence, as
        :func:`~nucleiml.parse_nuclei` reads them; the ``nml`` model covers the nuclei its emulator was
        trained on, ``rmf`` any nucleus.
    model : {"nml", "rmf"} or Model, optional
        A model name (default: the run's model), or a model instance covering ``nuclei`` (e.g. a test
        double; not closed here).
    draws : int
        Posterior draws evaluated (drawn with the run's seed; all samples if there are fewer).
    workers, emulator : optional
        ``rmf`` worker processes (default: all cores); ``nml`` emulator path (default: the run's).
    plot : path, optional
        Also write the figure of the check (as ``predictive.png`` of :func:`infer`) to this PNG file.

    Returns
    -------
    dict
        ``{"run", "model", "draws", "tolerance", "seconds", "nuclei": {nucleus: {observable: {...}}}}``
        with the rows of :func:`~nucleiml.inference.predictive.posterior_predictive`; pulls are in the run's
        likelihood widths (tolerance times experiment; for neutron skins, the measurement's uncertainty;
        NaN where no experimental value is shipped).

    Raises
    ------
    PosteriorError
        If ``run`` holds no finished run.
    RunConfigError, ModelError, NucleusError, ValueError
        For an unknown model or nucleus, a model that does not cover the nuclei, or bad ``draws``.
    """
    from ..nuclei import parse_nuclei
    from .models import make_model

    check_draws(draws)
    post = read_posterior(run)
    config = _rerun_config(post, run, model, workers, emulator)
    names = config.data.nuclei if nuclei is None else tuple(n.name for n in parse_nuclei(nuclei))
    ref = reference(names, config.likelihood.tolerance)
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        used = model if model is not None and not isinstance(model, str) else None
        if used is None:
            used = stack.enter_context(make_model(config, names))
        sample = sample_predictive(
            used,
            post.samples,
            names,
            OBSERVABLES,
            draws=draws,
            rng=np.random.default_rng(config.sampler.seed),
        )
        description = used.describe()
    table = summarize_predictive(sample, ref)
    if plot is not None and sample.draws:
        from .plots import predictive_plot

        predictive_plot(
            sample,
            ref,
            plot,
            title=f"{description['model']} at {sample.draws} draws of the posterior of {run}",
        )
    return finite_json(
        {
            "run": str(post.path),
            "model": description,
            "draws": table["draws"],
            "tolerance": config.likelihood.tolerance,
            "seconds": round(time.perf_counter() - t0, 3),
            "nuclei": table["nuclei"],
        }
    )
