"""Joint-inference benchmark: the shipped joint run (finite nuclei + HIC + neutron stars) with nml and rmf,
their wall times, and the Jensen-Shannon divergence of every NMP and of Mmax, R1.4, Lambda1.4 (issue 27).

Run (from the repository root; needs the infer extra):

    python benchmarks/bench_joint.py                 # both runs (nml: about 30 s; rmf: tens of minutes)
    python benchmarks/bench_joint.py --skip rmf      # nml only
    python benchmarks/bench_joint.py --reuse         # report finished runs in --workdir, no rerun

Each run is ``infer`` on the shipped joint run file in ``--workdir/{nml,rmf}``; the report
(``benchmarks/results/joint.json``) holds per run the wall seconds (whole call, and the summary's),
likelihood calls, effective sample sizes, log-evidence and medians; the JSD in bits per quantity (the
package's binned-KDE estimator); and the targets (nml <= 60 s, rmf <= 900 s on 2 workers, every JSD <=
0.02) with pass/fail. Worker processes run BLAS single-threaded; the load average is recorded.
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
from nucleiml.inference import infer, jsd_bits, load_run_config  # noqa: E402
from nucleiml.parameters import NMP_NAMES  # noqa: E402

DERIVED = ("M_max", "R_14", "Lambda_14")
TARGETS = {"nml_seconds": 60.0, "rmf_seconds": 900.0, "jsd_bits": 0.02}


def run(model: str, workdir: Path, workers: int, reuse: bool) -> dict:
    out = workdir / model
    t0 = time.perf_counter()
    reused = reuse and (out / "summary.json").exists()
    if not reused:
        cfg = load_run_config("joint").replace(
            model={"name": model, "workers": workers if model == "rmf" else None}
        )
        infer(cfg, out, overwrite=out.exists(), progress=False)
    wall = time.perf_counter() - t0
    s = json.loads((out / "summary.json").read_text())
    if reused:  # the run's own record of its sessions (sampling, reweighting, outputs)
        wall = s["wall_seconds"]
    return {
        "seconds": round(wall, 1),
        "summary_wall_seconds": s["wall_seconds"],
        "likelihood_calls": s["likelihood_calls"],
        "log_evidence": s["log_evidence"],
        "effective_samples": (s.get("constraints_method") or {}).get("ess_joint"),
        "medians": {k: v["median"] for k, v in s["nmp"].items()}
        | {k: s["derived"]["quantities"][k].get("median") for k in DERIVED},
        "load_average_after": os.getloadavg(),
    }


def columns(path: Path) -> dict:
    import pyarrow.parquet as pq

    t = pq.read_table(path / "posterior.parquet")
    return {k: t.column(k).to_numpy() for k in (*NMP_NAMES, *DERIVED)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", default="benchmarks/results/joint_runs")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip", choices=("nml", "rmf"))
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--out", default="benchmarks/results/joint.json")
    args = ap.parse_args()
    workdir = Path(args.workdir)
    record = {"benchmark": "joint", "nucleiml": nucleiml.__version__, "python": platform.python_version(),
              "load_average_before": os.getloadavg(), "targets": TARGETS, "runs": {}}  # fmt: skip
    for model in ("nml", "rmf"):
        if model != args.skip:
            record["runs"][model] = run(model, workdir, args.workers, args.reuse)
            print(model, record["runs"][model]["seconds"], "s")
    if len(record["runs"]) == 2:
        a, b = columns(workdir / "nml"), columns(workdir / "rmf")
        jsd = {}
        for k in a:
            x, y = a[k][np.isfinite(a[k])], b[k][np.isfinite(b[k])]
            jsd[k] = round(jsd_bits(x, y), 4)
        record["jsd_bits"] = jsd
        record["pass"] = {
            "nml_seconds": record["runs"]["nml"]["seconds"] <= TARGETS["nml_seconds"],
            "rmf_seconds": record["runs"]["rmf"]["seconds"] <= TARGETS["rmf_seconds"],
            "jsd": all(v <= TARGETS["jsd_bits"] for v in jsd.values()),
        }
        print(json.dumps(jsd, indent=1))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
