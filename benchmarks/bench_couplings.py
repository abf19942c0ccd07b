"""Benchmark of the vectorised NMP -> couplings inversion: samples per second on one core.

Run:  python benchmarks/bench_couplings.py [--samples 100000] [--out benchmarks/results/couplings.json]

Samples are drawn from the package's default prior (src/nucleiml/data/default_prior.toml); the figure counts every sample,
whether or not it has physical couplings. The cost depends on the prior's mix: a sample leaves the scan over C
once its smallest root is found (in batches of >= 256), samples without a root scan the whole grid, and only
samples that pass every other check get the scalar-field scan.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import nucleiml  # noqa: E402
from nucleiml.datasets.prior import default_prior  # noqa: E402
from nucleiml.nuclear_matter import InversionFailure, couplings_from_nmp_array  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--chunk", type=int, default=10_000, help="samples per vectorised call")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default="benchmarks/results/couplings.json")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    table = default_prior().sample(args.samples, rng)
    best = np.inf
    codes = None
    for _ in range(args.repeat):
        t = time.perf_counter()
        parts = []
        for start in range(0, args.samples, args.chunk):
            chunk = {k: v[start : start + args.chunk] for k, v in table.items()}
            parts.append(couplings_from_nmp_array(chunk).code)
        best = min(best, time.perf_counter() - t)
        codes = np.concatenate(parts)
    counts = Counter(InversionFailure(int(c)).name for c in codes)
    report = {
        "package_version": nucleiml.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "threads": 1,
        "samples": args.samples,
        "chunk": args.chunk,
        "seconds": best,
        "samples_per_second": args.samples / best,
        "target_samples_per_second": 1e4,
        "outcomes": dict(counts),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(
        f"{args.samples / best:,.0f} samples/s on one core ({best:.2f} s for {args.samples}); outcomes {dict(counts)}"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
