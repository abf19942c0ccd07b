"""Benchmark of the spherical RMF solver: milliseconds per solve per core, single and batched, near
FSUGold2 and on draws from the default prior (non-convergence rate and cost per draw), in one run.

Run:  python benchmarks/bench_solver.py [--batch 128] [--prior-draws 1500] [--pooled 384] [--rounds 3]
                                       [--primary-iterations N]
                                       [--out benchmarks/results/solver.json]

BLAS and OpenMP are pinned to one thread so the figures are per core. Parameter sets are drawn around
FSUGold2 (the nuclear-matter parameters jittered within a few per cent and inverted to couplings), so
that the batch is as heterogeneous as a dataset chunk near the physical region.
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
from nucleiml.datasets.prior import default_prior  # noqa: E402
from nucleiml.nuclear_matter import couplings_from_nmp_array  # noqa: E402
from nucleiml.presets import get_preset, reference_result  # noqa: E402
from nucleiml.solver import SolverConfig, SolverStatus, solve_batch  # noqa: E402


def parameter_sets(n: int, rng: np.random.Generator) -> dict:
    base = nucleiml.nmp_from_couplings(get_preset("FSUGold2")).to_dict()
    table = {k: v * (1.0 + 0.02 * rng.uniform(-1, 1, 4 * n)) for k, v in base.items()}
    table["Q0"] = base["Q0"] + rng.uniform(-50, 50, 4 * n)
    inv = couplings_from_nmp_array(table)
    cols = {k: v[inv.ok][:n] for k, v in inv.couplings.items()}
    if cols["g_sigma"].size < n:
        raise RuntimeError("too few valid parameter sets")
    cols.update(inv.masses)
    return cols


def time_call(fn, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


POOLED_SEED = 2027
"""Seed of the near-FSUGold2 sets of the pooled calls (their own generator: they do not depend on options)."""


def solve_in_batches(cols: dict, name: str, batch: int, config: SolverConfig | None = None) -> list:
    """Solve the parameter sets ``cols`` for nucleus ``name`` in solver calls of ``batch`` members."""
    n = cols["g_sigma"].size
    return [
        solve_batch({k: (v[s : s + batch] if np.ndim(v) else v) for k, v in cols.items()}, name, config)
        for s in range(0, n, batch)
    ]


def bench_nucleus(
    name: str, cols: dict, repeat: int, n_single: int = 8, config: SolverConfig | None = None
) -> dict:
    """Time single solves (batch of one) and one batched solve of all of ``cols`` for nucleus ``name``."""

    def member(i):
        return {k: (v[i : i + 1] if np.ndim(v) else v) for k, v in cols.items()}

    t_single = (
        time_call(lambda: [solve_batch(member(i), name, config) for i in range(n_single)], repeat) / n_single
    )
    n_batch = cols["g_sigma"].size
    results = []
    t_batch = time_call(lambda: results.append(solve_batch(cols, name, config)), repeat) / n_batch
    res = results[-1]
    # accuracy at these settings against the published table (FSUGold2 itself)
    fsu = solve_batch([get_preset("FSUGold2")], name, config)
    try:
        ref = reference_result("FSUGold2", name)
        acc = {
            "binding_energy_rel_err": float(fsu.binding_energy[0] / ref.binding_energy - 1.0),
            "proton_radius_err_fm": float(fsu.proton_radius[0] - ref.proton_radius),
            "neutron_radius_err_fm": float(fsu.neutron_radius[0] - ref.neutron_radius),
        }
    except LookupError:
        acc = {}
    return {
        "ms_per_solve_single": 1e3 * t_single,
        "ms_per_solve_batched": 1e3 * t_batch,
        "batched_speedup": t_single / t_batch,
        "converged_fraction": float(res.converged.mean()),
        "mean_iterations": float(res.iterations.mean()),
        "accuracy_vs_reference_FSUGold2": acc,
    }


def bench_prior(name: str, cols: dict, batch: int, repeat: int, config: SolverConfig | None = None) -> dict:
    """Default-prior draws with physical couplings, solved in batches of ``batch``: ms per draw (the best
    of ``repeat`` runs, as for the near-FSUGold2 sets), the non-convergence (nc_b) rate, the outcome counts
    and the share of iterations spent on non-convergence."""
    n = cols["g_sigma"].size
    runs: list = []

    def run():
        runs.append(solve_in_batches(cols, name, batch, config))

    seconds = time_call(run, repeat)
    parts = runs[-1]
    status = np.concatenate([p.status for p in parts])
    iters = np.concatenate([p.iterations for p in parts])
    failed = status != SolverStatus.CONVERGED
    return {
        "draws": int(n),
        "ms_per_draw_batched": 1e3 * seconds / n,
        "nc_b_rate": float(failed.mean()),
        "status_counts": {s.name.lower(): int(np.sum(status == s)) for s in SolverStatus},
        "mean_iterations": float(iters.mean()),
        "iteration_share_of_nc_b": float(iters[failed].sum() / max(iters.sum(), 1)),
    }


def bench_pooled(
    name: str, prior: dict, members: int, repeat: int, config: SolverConfig | None = None
) -> dict:
    """Default-prior draws and near-FSUGold2 sets, each solved in calls of ``members`` (the size of the
    calls dataset generation makes), best of ``repeat`` runs each: ms per draw and their ratio."""
    r = bench_prior(name, prior, members, repeat, config)
    near = parameter_sets(members, np.random.default_rng(POOLED_SEED))
    near_ms = 1e3 * time_call(lambda: solve_batch(near, name, config), repeat) / members
    return {
        "members_per_call": members,
        "ms_per_draw_batched": r["ms_per_draw_batched"],
        "near_FSUGold2_ms_per_set": near_ms,
        "cost_ratio_to_near_FSUGold2": r["ms_per_draw_batched"] / near_ms,
    }


def bench_paired(
    name: str, prior: dict, near: dict, batch: int, rounds: int, config: SolverConfig | None = None
) -> dict:
    """The cost ratio measured in ``rounds`` back-to-back pairs (near-FSUGold2 sets, then the prior draws,
    both in batches of ``batch``), so that both sides of each ratio see the same machine load: per-round
    ratios, their median and range."""

    def per_draw(cols: dict) -> float:
        t = time.perf_counter()
        solve_in_batches(cols, name, batch, config)
        return 1e3 * (time.perf_counter() - t) / cols["g_sigma"].size

    near_ms, prior_ms = [], []
    for _ in range(rounds):
        near_ms.append(per_draw(near))
        prior_ms.append(per_draw(prior))
    ratios = np.array(prior_ms) / np.array(near_ms)
    return {
        "rounds": rounds,
        "near_FSUGold2_ms_per_set": near_ms,
        "prior_ms_per_draw": prior_ms,
        "cost_ratios": ratios.tolist(),
        "cost_ratio_median": float(np.median(ratios)),
        "cost_ratio_min": float(ratios.min()),
        "cost_ratio_max": float(ratios.max()),
    }


def prior_sets(n_draws: int, rng: np.random.Generator) -> dict:
    inv = couplings_from_nmp_array(default_prior().sample(n_draws, rng))
    cols = {k: v[inv.ok] for k, v in inv.couplings.items()}
    cols.update(inv.masses)
    return cols


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--nuclei", default="16O,40Ca,208Pb")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument(
        "--prior-draws", type=int, default=1500, help="NMP draws from the default prior (0: skip)"
    )
    ap.add_argument("--prior-nuclei", default="40Ca,208Pb")
    ap.add_argument(
        "--pooled",
        type=int,
        default=384,
        help="also time both kinds of draws in solver calls of this many members, as dataset generation "
        "makes them (groups of 1,000 samples, ~380 with physical couplings; 0: skip)",
    )
    ap.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="also measure the cost ratio in this many back-to-back pairs of runs (near FSUGold2, then the "
        "prior draws) and report the median and range (0: skip)",
    )
    ap.add_argument(
        "--primary-iterations",
        type=int,
        default=None,
        help="SolverConfig.primary_iterations for every solve (default: the solver's; 0: start in the "
        "stabilized iteration)",
    )
    ap.add_argument("--out", default="benchmarks/results/solver.json")
    args = ap.parse_args()
    rng = np.random.default_rng(2026)
    cols = parameter_sets(args.batch, rng)
    config = (
        None if args.primary_iterations is None else SolverConfig(primary_iterations=args.primary_iterations)
    )
    report = {
        "package_version": nucleiml.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "threads": 1,
        "batch_size": args.batch,
        "primary_iterations": (config or SolverConfig()).primary_iterations,
        "nuclei": {},
    }
    for name in args.nuclei.split(","):
        report["nuclei"][name] = bench_nucleus(name, cols, args.repeat, config=config)
        r = report["nuclei"][name]
        print(
            f"{name:>6}: single {r['ms_per_solve_single']:8.2f} ms  batched {r['ms_per_solve_batched']:8.2f} ms/set  "
            f"speed-up {r['batched_speedup']:5.2f}  converged {r['converged_fraction']:.3f}  "
            f"iterations {r['mean_iterations']:.1f}",
            flush=True,
        )
    if args.prior_draws:
        prior = prior_sets(args.prior_draws, np.random.default_rng(12345))
        report["default_prior"] = {}
        for name in args.prior_nuclei.split(","):
            r = bench_prior(name, prior, args.batch, args.repeat, config)
            near = report["nuclei"].get(name)
            if near:
                r["cost_ratio_to_near_FSUGold2"] = r["ms_per_draw_batched"] / near["ms_per_solve_batched"]
            if args.pooled:
                r["pooled"] = bench_pooled(name, prior, args.pooled, args.repeat, config)
            if args.rounds:
                r["paired"] = bench_paired(name, prior, cols, args.batch, args.rounds, config)
            report["default_prior"][name] = r
            print(
                f"{name:>6}: default prior {r['ms_per_draw_batched']:8.2f} ms/draw  nc_b {r['nc_b_rate']:.3%}  "
                f"iterations {r['mean_iterations']:.1f}  unpaired cost ratio {r.get('cost_ratio_to_near_FSUGold2', float('nan')):.2f}  "
                f"{r['status_counts']}",
                flush=True,
            )
            if args.rounds:
                q = r["paired"]
                print(
                    f"{name:>6}: {args.rounds} back-to-back rounds: cost ratio median {q['cost_ratio_median']:.2f} "
                    f"(range {q['cost_ratio_min']:.2f}-{q['cost_ratio_max']:.2f}; per round "
                    f"{', '.join(f'{x:.2f}' for x in q['cost_ratios'])})",
                    flush=True,
                )
            if args.pooled:
                p = r["pooled"]
                print(
                    f"{name:>6}: calls of {args.pooled}: default prior {p['ms_per_draw_batched']:8.2f} ms/draw  "
                    f"near FSUGold2 {p['near_FSUGold2_ms_per_set']:8.2f} ms/set  "
                    f"cost ratio {p['cost_ratio_to_near_FSUGold2']:.2f}",
                    flush=True,
                )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
