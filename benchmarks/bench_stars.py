"""Benchmark of the neutron-star chain: milliseconds per parameter set, and the fast path's error.

Run:  python benchmarks/bench_stars.py [--batches 1 100 1000] [--reference 10] [--out benchmarks/results/stars.json]

Speed: parameter sets drawn from the default prior (only those with physical couplings) go through the
whole chain, couplings -> beta-equilibrium EoS -> crust -> M-R-Lambda sequence -> summary
(``star_batch``), in batches of each size; the figure is wall time per set on one core (BLAS pinned to
one thread), best of ``--repeats``, with the CPU time of the same call beside it (on a shared machine the
wall time also counts other processes). ``from_nmp`` times the same with the exact NMP -> couplings
inversion included.

Accuracy: for ``--reference`` sets of the batch that reach their maximum mass, the fast path's Mmax, R1.4
and Lambda1.4 are compared with a reference on the same EoS table: every star integrated by scipy's DOP853
at rtol 1e-11, Mmax by a bounded scalar maximisation over the central enthalpy (xatol 1e-7) and the 1.4
Msun star by Brent's root of M(h_c) - 1.4 (xtol 1e-10). Targets: Mmax within 0.1 %, R1.4 within 10 m,
Lambda1.4 within 0.5 %.
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
from nucleiml.datasets import default_prior  # noqa: E402
from nucleiml.nuclear_matter import couplings_from_nmp_array  # noqa: E402
from nucleiml.parameters import NMP_NAMES  # noqa: E402
from nucleiml.stars import StarConfig, StarStatus, star_batch  # noqa: E402
from nucleiml.stars.crust import find_junction, glue_core, load_crust  # noqa: E402
from nucleiml.stars.matter import beta_equilibrium_kernel, scaled_couplings_arrays  # noqa: E402
from nucleiml.stars.tov import reference_star  # noqa: E402


def prior_sets(n: int, seed: int) -> tuple[np.ndarray, dict]:
    """n NMP rows of the default prior with physical couplings, and their couplings columns."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    while sum(len(r) for r in rows) < n:
        s = default_prior().sample(4 * n, rng)
        x = np.stack([np.asarray(s[k]) for k in NMP_NAMES], axis=1)
        inv = couplings_from_nmp_array(x)
        rows.append(x[inv.ok])
        c = {k: np.asarray(v)[inv.ok] for k, v in inv.couplings.items()}
        c.update({k: np.full(int(inv.ok.sum()), float(v)) for k, v in inv.masses.items()})
        cols.append(c)
    x = np.concatenate(rows)[:n]
    c = {k: np.concatenate([d[k] for d in cols])[:n] for k in cols[0]}
    return x, c


def time_batches(x, cols, sizes, repeats: int) -> dict:
    out = {}
    for b in sizes:
        sub = {k: v[:b] for k, v in cols.items()}
        best, best_nmp, best_cpu = np.inf, np.inf, np.inf
        for _ in range(repeats):
            t, c = time.perf_counter(), time.process_time()
            res = star_batch(sub)
            best = min(best, time.perf_counter() - t)
            best_cpu = min(best_cpu, time.process_time() - c)
            t = time.perf_counter()
            star_batch(x[:b])
            best_nmp = min(best_nmp, time.perf_counter() - t)
        status = res.summary["status"]
        out[str(b)] = {
            "sets": b,
            "ms_per_set": 1e3 * best / b,
            "cpu_ms_per_set": 1e3 * best_cpu / b,
            "ms_per_set_from_nmp": 1e3 * best_nmp / b,
            "status_counts": {s.name: int(np.sum(status == s)) for s in StarStatus if np.any(status == s)},
        }
        print(
            f"batch {b:5d}: {1e3 * best / b:7.3f} ms per set wall, {1e3 * best_cpu / b:7.3f} CPU "
            f"({1e3 * best_nmp / b:7.3f} wall from NMPs)"
        )
    return out


def _reference_summary(table, row: int, h_lo: float, h_top: float) -> dict:
    from scipy.optimize import brentq, minimize_scalar

    def mass(h):
        return float(reference_star(table, row, h).mass[0])

    opt = minimize_scalar(lambda h: -mass(h), bounds=(h_lo, h_top), method="bounded", options={"xatol": 1e-7})
    h_max, m_max = float(opt.x), -float(opt.fun)
    out = {"M_max": m_max, "R_14": np.nan, "Lambda_14": np.nan}
    if m_max > 1.4 and mass(h_lo) < 1.4:
        h14 = brentq(lambda h: mass(h) - 1.4, h_lo, h_max, xtol=1e-10)
        s = reference_star(table, row, h14)
        out["R_14"], out["Lambda_14"] = float(s.radius[0]), float(s.Lambda[0])
    return out


def accuracy(cols, n_ref: int) -> dict:
    cfg = StarConfig()
    fast = star_batch(cols)
    ok = np.nonzero(fast.summary["status"] == StarStatus.OK)[0][:n_ref]
    sub = {k: v[ok] for k, v in cols.items()}
    core = beta_equilibrium_kernel(scaled_couplings_arrays(sub), cfg.density_grid())
    crust = load_crust().upto(cfg.crust_end)
    junction = find_junction(core, np.full(ok.size, 0.08), float(crust.pressure[-1]), cfg.max_junction)
    table, _ = glue_core(core, crust, junction)
    errors = {"M_max_rel": [], "R_14_m": [], "Lambda_14_rel": []}
    for i, row in enumerate(ok):
        seq_h = fast.sequence["h_c"][row]
        h = seq_h[np.isfinite(seq_h)]
        ref = _reference_summary(table, i, float(h[0]), float(table.h_top[i]))
        s = fast.summary
        errors["M_max_rel"].append(abs(s["M_max"][row] / ref["M_max"] - 1))
        if np.isfinite(ref["R_14"]):
            errors["R_14_m"].append(1e3 * abs(s["R_14"][row] - ref["R_14"]))
            errors["Lambda_14_rel"].append(abs(s["Lambda_14"][row] / ref["Lambda_14"] - 1))
        print(f"  reference {i + 1}/{ok.size}: Mmax {ref['M_max']:.5f} (fast {s['M_max'][row]:.5f})")
    return {
        "sets": int(ok.size),
        "max": {k: float(np.max(v)) if v else None for k, v in errors.items()},
        "median": {k: float(np.median(v)) if v else None for k, v in errors.items()},
        "targets": {"M_max_rel": 1e-3, "R_14_m": 10.0, "Lambda_14_rel": 5e-3},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 100, 1000])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--reference", type=int, default=10, help="sets checked against the tight reference")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", default="benchmarks/results/stars.json")
    args = ap.parse_args()
    x, cols = prior_sets(max(args.batches), args.seed)
    record = {
        "benchmark": "stars",
        "nucleiml": nucleiml.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "load_average": os.getloadavg(),
        "config": vars(StarConfig()),
        "speed": time_batches(x, cols, args.batches, args.repeats),
    }
    if args.reference:
        record["accuracy"] = accuracy(cols, args.reference)
        print(json.dumps(record["accuracy"]["max"], indent=2))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
