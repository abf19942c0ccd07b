"""Inference benchmark: the nml and rmf posteriors of the default run, their wall times, the speed-up and
the Jensen-Shannon divergence of every NMP marginal (issue 9; seed paper, Fig. 8).

Run (from the repository root; needs the infer extra, and the emulator for the nml run):

    python benchmarks/bench_inference.py                        # both runs + comparison (about 30 min)
    python benchmarks/bench_inference.py --skip nml             # rmf only (no emulator needed)
    python benchmarks/bench_inference.py --throughput 256       # also: rmf likelihood calls/s on prior draws
    python benchmarks/bench_inference.py --reuse                # report finished runs in --workdir, no rerun

Each run is ``nucleiml infer`` on the shipped default run file (``--config`` to change it) in a fresh
directory under ``--workdir`` (default ``benchmarks/results/inference_runs/{nml,rmf}``), then ``nucleiml
compare`` writes ``cmp/jsd.json`` and ``cmp/corner_compare.png`` there. The JSON report
(``benchmarks/results/inference.json``) holds, per run, the wall seconds, likelihood calls, calls per
second, log-evidence, the medians and the seconds of the posterior predictive check; the solver's check of
the nml posterior (``nucleiml predictive nml --model rmf``: wall seconds and the largest relative difference
from the nml run's own check); the speed-up (rmf wall / nml wall); the JSD per NMP (point estimate
and bootstrap); and the targets of the issue (nml <= 120 s, rmf <= 1800 s, every JSD <= 0.02) with
pass/fail. Worker processes run BLAS single-threaded; the 1-minute load average before each run is
recorded, since the machine may be shared. Look at both corner plots and the comparison plot.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import nucleiml  # noqa: E402
from nucleiml.inference import (  # noqa: E402
    ModelError,
    compare,
    infer,
    load_run_config,
    predict_posterior,
    read_posterior,
)
from nucleiml.parameters import NMP_NAMES  # noqa: E402

TARGETS = {"nml_wall_seconds": 120.0, "rmf_wall_seconds": 1800.0, "max_jsd_bits": 0.02}


def throughput(config, n: int, workers: int) -> dict:
    """rmf likelihood calls per second on ``n`` draws of the run's prior (worker start-up excluded)."""
    from nucleiml.inference.models.rmf import RMFModel

    s = config.prior.sample(n, np.random.default_rng(12345))
    x = np.column_stack([s[k] for k in NMP_NAMES])
    with RMFModel(config.data.nuclei, config.prior.masses, workers=workers) as model:
        model.evaluate(x[:2])  # start the workers
        t0 = time.perf_counter()
        ev = model.evaluate(x)
        dt = time.perf_counter() - t0
    labels = ev.label
    return {
        "points": n,
        "workers": workers,
        "nuclei": list(config.data.nuclei),
        "seconds": dt,
        "calls_per_second": n / dt,
        "fraction_nc_a": float(np.mean(labels[:, 0] == "nc_a")),
        "fraction_valid_all_nuclei": float(ev.valid.all(axis=1).mean()),
    }


def solver_check(nml_run: Path, workers: int) -> dict:
    """``nucleiml predictive NML_RUN --model rmf``: the solver at the nml posterior's draws, timed (worker
    start-up included), and its largest relative difference from the nml run's own check (medians and
    68 % bounds of every nucleus and observable)."""
    t0 = time.perf_counter()
    check = predict_posterior(nml_run, model="rmf", workers=workers)
    wall = time.perf_counter() - t0
    own = read_posterior(nml_run).summary["posterior_predictive"]["nuclei"]
    diff = max(
        abs(row[k] / own[n][obs][k] - 1.0)
        for n, rows in check["nuclei"].items()
        for obs, row in rows.items()
        if obs in own[n]
        for k in ("low_68", "median", "high_68")
    )
    return {
        "draws": check["draws"],
        "workers": workers,
        "wall_seconds": wall,
        "max_relative_difference": diff,
    }


def run_one(config, model: str, out: Path, workers: int, emulator: str | None, reuse: bool) -> dict:
    if reuse:  # a finished run of the same run file (checked), e.g. computed earlier or elsewhere
        summary = read_posterior(out).summary
        wanted = config.replace(model={"name": model}).to_dict()
        for section in ("data", "likelihood", "prior", "sampler"):
            if summary["run"][section] != wanted[section]:
                raise SystemExit(f"{out}: [{section}] differs from the benchmark's run file; cannot reuse it")
        load, wall = None, float(summary["wall_seconds"])
    else:
        changes = {"name": model, **({"workers": workers} if model == "rmf" else {})}
        if model == "nml" and emulator:
            changes["emulator"] = emulator
        cfg = config.replace(model=changes)
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        summary = infer(cfg, out, overwrite=True, progress=True)
        wall = time.perf_counter() - t0
    return {
        "directory": str(out),
        "reused": reuse,
        "created": summary.get("created"),
        "load_average_before": load,
        "wall_seconds": wall,
        "wall_seconds_summary": summary["wall_seconds"],
        "likelihood_calls": summary["likelihood_calls"],
        "calls_per_second": summary["likelihood_calls"] / wall,
        "invalid_fraction": summary["invalid_fraction_this_session"],
        "log_evidence": summary["log_evidence"],
        "log_evidence_err": summary["log_evidence_err"],
        "medians": {k: v["median"] for k, v in summary["nmp"].items()},
        "predictive_check_seconds": (summary.get("posterior_predictive") or {}).get("seconds"),
        "model": summary["model"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", help="run file (default: the shipped default run file)")
    ap.add_argument("--workers", type=int, default=2, help="rmf worker processes (default 2)")
    ap.add_argument("--skip", choices=("nml", "rmf"), action="append", default=[], help="skip a run")
    ap.add_argument("--throughput", type=int, default=0, metavar="N", help="also time rmf on N prior draws")
    ap.add_argument("--emulator", metavar="PATH", help="nml: a saved emulator (default: the shipped one)")
    ap.add_argument("--reuse", action="store_true", help="report the finished runs in --workdir, no rerun")
    ap.add_argument("--workdir", default="benchmarks/results/inference_runs")
    ap.add_argument("--out", default="benchmarks/results/inference.json")
    args = ap.parse_args()
    config = load_run_config(args.config)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "package_version": nucleiml.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cores": os.cpu_count(),
        "run_file": config.source,
        "run": config.to_dict(),
        "targets": TARGETS,
        "runs": {},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        out.write_text(json.dumps(report, indent=2))

    if args.throughput:
        report["rmf_throughput"] = throughput(config, args.throughput, args.workers)
        print(f"rmf: {report['rmf_throughput']['calls_per_second']:.1f} calls/s", flush=True)
        save()
    for model in ("nml", "rmf"):
        if model in args.skip:
            continue
        try:
            report["runs"][model] = run_one(
                config, model, work / model, args.workers, args.emulator, args.reuse
            )
        except ModelError as exc:  # e.g. no emulator yet
            report["runs"][model] = {"skipped": str(exc)}
        r = report["runs"][model]
        print(
            f"{model}: {json.dumps({k: r.get(k) for k in ('wall_seconds', 'likelihood_calls', 'skipped')})}"
        )
        save()
    runs = report["runs"]
    if "wall_seconds" in runs.get("nml", {}):
        report["rmf_check_of_nml"] = solver_check(work / "nml", args.workers)
        print(f"rmf check of the nml posterior: {json.dumps(report['rmf_check_of_nml'])}", flush=True)
        save()
    if all("wall_seconds" in runs.get(m, {}) for m in ("nml", "rmf")):
        cmp = compare(work / "nml", work / "rmf", work / "cmp")
        report["speedup_rmf_over_nml"] = runs["rmf"]["wall_seconds"] / runs["nml"]["wall_seconds"]
        report["jsd_bits"] = cmp["jsd"]
        report["jsd_bootstrap"] = {k: v for k, v in cmp["per_nmp"].items()}
        report["max_jsd_bits"] = cmp["max_jsd"]
        report["comparison_plot"] = str(work / "cmp" / "corner_compare.png")
    report["pass"] = {
        "nml_wall_seconds": runs.get("nml", {}).get("wall_seconds", np.inf) <= TARGETS["nml_wall_seconds"],
        "rmf_wall_seconds": runs.get("rmf", {}).get("wall_seconds", np.inf) <= TARGETS["rmf_wall_seconds"],
        "max_jsd_bits": report.get("max_jsd_bits", np.inf) <= TARGETS["max_jsd_bits"],
    }
    save()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
