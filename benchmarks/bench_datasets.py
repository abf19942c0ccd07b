"""Dataset generation benchmark: rows per second with 1 and 2 local workers, and peak memory vs --samples.

Runs ``python -m nucleiml generate`` in a subprocess on a fresh temporary directory, timing it and
sampling the resident memory of the whole process tree (driver + workers) every 0.05 s with psutil
(installed with the ``data`` extra, via dask.distributed). Writes ``benchmarks/results/bench_datasets.json``.

    python benchmarks/bench_datasets.py                       # default: 200 samples of the paper nuclei
    python benchmarks/bench_datasets.py --samples 48 --nuclei 16O,40Ca --chunk-size 8

Wall times include starting the worker processes (~1 s); ``rows_per_s_card`` uses the generation time
recorded in the card (the same span, measured inside the driver); ``cpu_s`` is the CPU time of the driver
and its workers, so ``rows_per_cpu_s`` shows the parallel overhead even when other jobs share the cores.
The machine may be shared: the 1-minute load average before each run is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

import nucleiml


def tree_rss(proc: psutil.Process) -> tuple[int, int]:
    """(sum, max) of the resident set sizes of ``proc`` and its descendants, bytes."""
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    sizes = []
    for p in procs:
        try:
            sizes.append(p.memory_info().rss)
        except psutil.NoSuchProcess:
            pass
    return sum(sizes), max(sizes, default=0)


def run(samples: int, nuclei: str, workers: int, chunk_size: int, seed: int, src: str | None = None) -> dict:
    """One ``nucleiml generate`` run in a fresh directory; ``src``: a NucleiML source tree to run instead of
    the installed package (e.g. a checkout of an older commit, for before/after comparisons)."""
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="bench-ds-") as tmp:
        out = Path(tmp) / "ds"
        cmd = [sys.executable, "-m", "nucleiml", "generate", "--samples", str(samples), "--nuclei", nuclei]
        cmd += ["--out", str(out), "--workers", str(workers), "--chunk-size", str(chunk_size)]
        cmd += ["--seed", str(seed), "--quiet", "--json"]
        load = os.getloadavg()[0]
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        ps = psutil.Process(proc.pid)
        peak_sum = peak_max = 0
        while proc.poll() is None:
            s, m = tree_rss(ps)
            peak_sum, peak_max = max(peak_sum, s), max(peak_max, m)
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        stdout, stderr = proc.communicate()
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # driver + its reaped workers
        cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        if proc.returncode != 0:
            raise SystemExit(f"generate failed ({proc.returncode}): {stderr.strip()}")
        card = json.loads(stdout)
    rows = card["rows"]
    return {
        "samples": samples,
        "nuclei": nuclei,
        "workers": workers,
        "chunk_size": chunk_size,
        "rows": rows,
        "wall_s": round(wall, 3),
        "card_wall_s": card["wall_seconds"],
        "rows_per_s": round(rows / wall, 3),
        "rows_per_s_card": round(rows / card["wall_seconds"], 3),
        "cpu_s": round(cpu, 3),
        "rows_per_cpu_s": round(rows / cpu, 3),
        "peak_rss_tree_MB": round(peak_sum / 2**20, 1),
        "peak_rss_largest_process_MB": round(peak_max / 2**20, 1),
        "load_average_before": load,
        "counts": card["counts"]["total"],
        "source": src or "installed",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--nuclei", default="paper")
    ap.add_argument("--chunk-size", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--memory-nuclei", default="16O,208Pb", help="nuclei of the memory-vs-samples runs")
    ap.add_argument("--memory-samples", default="40,160", help="comma-separated --samples of the memory runs")
    ap.add_argument(
        "--baseline-src",
        help="also run the 2-worker case with this source tree (e.g. a worktree of an older commit) first, "
        "and report the speed ratio and both class balances",
    )
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts of the speed runs")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "bench_datasets.json"))
    args = ap.parse_args()

    baseline = None
    if args.baseline_src:
        baseline = run(args.samples, args.nuclei, 2, args.chunk_size, args.seed, src=args.baseline_src)
        print(
            f"baseline ({args.baseline_src}), 2 workers: {baseline['rows_per_s']:.2f} rows/s; {baseline['counts']}"
        )

    speed = []
    counts = sorted({int(w) for w in args.workers.split(",")})
    for workers in counts:
        r = run(args.samples, args.nuclei, workers, args.chunk_size, args.seed)
        print(
            f"workers={workers}: {r['rows']} rows in {r['wall_s']:.1f} s -> {r['rows_per_s']:.2f} rows/s "
            f"(card {r['rows_per_s_card']:.2f}; {r['rows_per_cpu_s']:.2f} rows per CPU s); peak RSS {r['peak_rss_tree_MB']:.0f} MB; load {r['load_average_before']:.2f}",
            flush=True,
        )
        speed.append(r)
    by_workers = {r["workers"]: r for r in speed}
    speedup = None
    if 1 in by_workers and 2 in by_workers:
        speedup = by_workers[2]["rows_per_s"] / by_workers[1]["rows_per_s"]
        print(f"speed-up 2 vs 1 workers: {speedup:.2f}x (target >= 1.8x)")
    two = by_workers.get(2)
    if baseline and two:
        ratio = two["rows_per_s"] / baseline["rows_per_s"]
        print(f"2 workers, this code vs baseline: {ratio:.2f}x rows/s; classes now {two['counts']}")
    memory = []
    for n in () if args.skip_memory else (int(x) for x in args.memory_samples.split(",")):
        r = run(n, args.memory_nuclei, 2, args.chunk_size, args.seed)
        print(
            f"memory: --samples {n}: peak RSS tree {r['peak_rss_tree_MB']:.0f} MB, largest process {r['peak_rss_largest_process_MB']:.0f} MB",
            flush=True,
        )
        memory.append(r)

    result = {
        "benchmark": "bench_datasets",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "nucleiml": nucleiml.__version__,
            "platform": platform.platform(),
        },
        "speed": speed,
        "speedup_2_vs_1": None if speedup is None else round(speedup, 3),
        "baseline_2_workers": baseline,
        "speedup_vs_baseline_2_workers": round(two["rows_per_s"] / baseline["rows_per_s"], 3)
        if baseline and two
        else None,
        "memory_vs_samples": memory,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
