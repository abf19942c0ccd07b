"""Benchmark of the emulator: predictions per second on one core, single-row latency, training wall time,
model size.

Run:  python benchmarks/bench_emulator.py [--model DIR ...] [--batch 100000] [--baseline-src DIR]
                                          [--out benchmarks/results/emulator.json]

Each ``--model`` (default: the model shipped with NucleiML; if none is shipped, untrained models with the
architectures of the ``default`` and ``paper`` presets, since speed does not depend on the weight values)
is timed on a batch of NMP rows drawn from the default prior:

- ``full``: ``Emulator.predict(nmp, nucleus)`` as a user calls it, including the exact couplings inversion
  that decides nc_a; beside it the same with the scan inversion (``full_scan``: the inversion before the
  quartic one, ``couplings_from_nmp_array(method="scan")``), measured in the same run;
- ``networks``: the three networks, scalers and class logic on a batch of rows that all have physical
  couplings, with the inversion done beforehand (``predict(..., inversion=em.invert(nmp))``, the path of
  several nuclei of the same rows; for a model without coupling features ``couplings_ok=True``);
- ``inversion``: the couplings inversion alone, quartic and scan;
- ``latency``: one row per call, as a user's own MCMC calls it: ``predict`` for 40Ca and for 208Pb, and
  ``predict_nuclei`` for (40Ca, 208Pb) and for (40Ca, 48Ca, 208Pb), in microseconds per call and per
  nucleus, with the quartic inversion (one row in Python floats) and with the scan;
- ``skin_cost`` (models with the neutron-skin regressor, as the shipped one): the full batch and the one-row
  calls of the model beside the same model without its skin network, taking turns in the same run: what
  predicting Rn - Rp costs.

``--baseline-src DIR`` also times the full batch and the latency with the package source in DIR (e.g. a
checkout of an earlier commit's ``src``) in a subprocess of the same run, before and after this code's
figures (the better of the two is reported): today's code beside the old.

Times are the best of ``--repeat`` runs, both wall clock and CPU time of this process (the CPU time is
less disturbed by other processes on the machine); figures compared in one process (quartic and scan)
take turns run by run. BLAS and OpenMP are pinned to one thread so the figures
are per core; the load average is recorded (run it on idle cores). Training wall time comes from the
model's metadata (one core, as recorded by ``nucleiml train``); the size is that of the model directory.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import nucleiml  # noqa: E402
from nucleiml.datasets import default_prior  # noqa: E402
from nucleiml.emulator import MLP, Emulator, ModelFormatError, Scaler, get_preset  # noqa: E402
from nucleiml.emulator.features import assemble, couplings_of  # noqa: E402
from nucleiml.nuclear_matter import couplings_from_nmp_array  # noqa: E402
from nucleiml.nuclei import NUCLEUS_SETS  # noqa: E402
from nucleiml.parameters import NMP_NAMES  # noqa: E402

NUCLEI = {nuc.name: (nuc.Z, nuc.N) for nuc in NUCLEUS_SETS["paper"]}


def untrained(preset_name: str) -> Emulator:
    """An emulator with the architecture of a preset and random weights (for timing only)."""
    preset = get_preset(preset_name)
    rng = np.random.default_rng(0)
    prior = default_prior()
    s = prior.sample(1000, rng)
    x = np.stack([s[k] for k in NMP_NAMES], axis=1)
    ok, couplings = couplings_of(x, prior.masses)  # coupling features (default preset) need them
    x, couplings = x[ok], {k: v[ok] for k, v in couplings.items()}
    feats = np.concatenate(
        [assemble(x, z, n, preset.features, couplings=couplings) for z, n in NUCLEI.values()]
    )
    nets = {}
    outputs = {"classifier": ("sigmoid", 1) if preset.mode == "hybrid" else ("softmax", 4)}
    for name in preset.network_names:
        spec = preset.network(name)
        out_act, width = outputs.get(name, ("linear", 1))
        sizes = [len(preset.features), *spec.hidden, width]
        layers = [(rng.normal(0, 1 / np.sqrt(a), (a, b)), np.zeros(b)) for a, b in itertools.pairwise(sizes)]
        nets[name] = MLP.from_layers(layers, spec.activation, out_act)
    meta = {
        "mode": preset.mode,
        "features": list(preset.features),
        "feature_scaler": Scaler.fit(feats).to_dict(),
        "class_names": ["convergent", "nc_a", "nc_b", "nc_c"],
        "nuclei": [
            {
                "name": k,
                "Z": z,
                "N": n,
                "binding_energy_exp": 8.0 * (z + n),
                "binding_energy_rel_error": 0.005,
            }
            for k, (z, n) in NUCLEI.items()
        ],
        "prior_box": {k: [prior.nmp[k].low, prior.nmp[k].high] for k in NMP_NAMES},
        "masses": dict(prior.masses),
        "nc_c_threshold": 0.2,
        "networks": {
            "binding_energy": {"target_transform": {"name": "per_nucleon", "mean": [8.0], "scale": [0.3]}},
            "charge_radius": {"target_transform": {"name": "per_a13", "mean": [0.9], "scale": [0.02]}},
            "neutron_skin": {"target_transform": {"name": "identity", "mean": [0.15], "scale": [0.08]}},
            "neutron_radius": {"target_transform": {"name": "per_a13", "mean": [0.95], "scale": [0.02]}},
        },
        "preset": preset.to_dict(),
    }
    return Emulator(meta, nets)


def best_time(fn, repeat: int) -> tuple[float, float]:
    """(wall, CPU) seconds of ``fn()``, each the best of ``repeat`` runs."""
    return best_times([fn], repeat)[0]


def best_times(fns, repeat: int) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of each of ``fns``, the best of ``repeat`` rounds in which they take turns (so
    that a change of the machine's load during the run falls on all of them alike)."""
    best = [[np.inf, np.inf] for _ in fns]
    for _ in range(repeat):
        for b, fn in zip(best, fns):
            t, c = time.perf_counter(), time.process_time()
            fn()
            b[0], b[1] = min(b[0], time.perf_counter() - t), min(b[1], time.process_time() - c)
    return [(w, c) for w, c in best]


def _with_inversion(em: Emulator, method: str, fn):
    """``fn`` run with the emulator's inversion set to ``method`` ("quartic" or "scan")."""

    def run():
        em._inversion_method = method
        try:
            return fn()
        finally:
            em._inversion_method = "quartic"

    return run


def prior_rows(n: int, seed: int) -> np.ndarray:
    s = default_prior().sample(n, np.random.default_rng(seed))
    return np.stack([s[k] for k in NMP_NAMES], axis=1)


def per_second(batch: int, times: tuple[float, float]) -> dict:
    return {"wall": batch / times[0], "cpu": batch / times[1]}


def bench_batch(em: Emulator, batch: int, repeat: int) -> dict:
    """Predictions and inversions per second on a batch of prior draws (and of rows with couplings)."""
    x = prior_rows(batch, 1)
    nucleus = em.nuclei[-1]
    full = [_with_inversion(em, m, lambda: em.predict(x, nucleus)) for m in ("quartic", "scan")]
    t_new, t_old = best_times(full, repeat)
    out = {"full": per_second(batch, t_new), "full_scan": per_second(batch, t_old)}
    x_all = prior_rows(4 * batch, 2)
    x_ok = x_all[em.couplings_ok(x_all)][:batch]
    if x_ok.shape[0] < batch:
        raise RuntimeError("too few prior draws with physical couplings for the networks figure")
    if getattr(em, "uses_couplings", False):
        inv = em.invert(x_ok)
        t_net = best_time(lambda: em.predict(x_ok, nucleus, inversion=inv), repeat)
    else:
        t_net = best_time(lambda: em.predict(x_ok, nucleus, couplings_ok=True), repeat)
    out["networks"] = per_second(batch, t_net)
    methods = ("quartic", "scan")
    fns = [lambda m=m: couplings_from_nmp_array(x, **em.masses, method=m) for m in methods]
    for method, t in zip(methods, best_times(fns, repeat)):
        out[f"inversions_{method}"] = per_second(batch, t)
    return out


LATENCY_CALLS = {
    "predict 40Ca": ("predict", "40Ca"),
    "predict 208Pb": ("predict", "208Pb"),
    "predict_nuclei 40Ca,208Pb": ("predict_nuclei", ["40Ca", "208Pb"]),
    "predict_nuclei 40Ca,48Ca,208Pb": ("predict_nuclei", ["40Ca", "48Ca", "208Pb"]),
}


def bench_latency(em: Emulator, rows: int, repeat: int, methods=(None,)) -> dict:
    """Microseconds per call (and per nucleus) of one-row calls over ``rows`` prior draws, for each
    inversion method of ``methods`` (None: whatever the emulator does), the methods taking turns."""
    x = prior_rows(rows, 3)
    out: dict = {m: {} for m in methods}
    for name, (fn, nuclei) in LATENCY_CALLS.items():
        if any(n not in em.nuclei for n in np.atleast_1d(nuclei)):
            continue
        call = getattr(em, fn)
        call(x[:1], nuclei)  # warm the per-nucleus caches

        def loop(call=call, nuclei=nuclei):
            for i in range(rows):
                call(x[i : i + 1], nuclei)

        fns = [loop if m is None else _with_inversion(em, m, loop) for m in methods]
        k = len(nuclei) if isinstance(nuclei, list) else 1
        for m, (wall, cpu) in zip(methods, best_times(fns, repeat)):
            out[m][name] = {
                "us_per_call": {"wall": 1e6 * wall / rows, "cpu": 1e6 * cpu / rows},
                "us_per_nucleus": {"wall": 1e6 * wall / rows / k, "cpu": 1e6 * cpu / rows / k},
            }
    return out if methods != (None,) else out[None]


def without_skin(em: Emulator) -> Emulator:
    """The same model without its neutron-skin network (the other networks and metadata as they are)."""
    meta = {k: v for k, v in em.metadata.items() if k != "networks"}
    skin = ("neutron_skin", "neutron_radius")  # the skin's regressor, of the skin or of Rn
    meta["networks"] = {k: v for k, v in em.metadata["networks"].items() if k not in skin}
    return Emulator(meta, {k: v for k, v in em.networks.items() if k not in skin})


def bench_skin_cost(em: Emulator, batch: int, repeat: int, latency_rows: int) -> dict:
    """Full predictions per second (batch of prior draws) and one-row latencies (us per call) of ``em`` and of
    ``em`` without its skin network, taking turns."""
    plain = without_skin(em)
    x = prior_rows(batch, 1)
    nucleus = em.nuclei[-1]
    t_skin, t_plain = best_times([lambda m=m: m.predict(x, nucleus) for m in (em, plain)], repeat)
    out = {"full": {"with_skin": per_second(batch, t_skin), "without_skin": per_second(batch, t_plain)}}
    rows = prior_rows(latency_rows, 3)
    for name, (fn, nuclei) in LATENCY_CALLS.items():
        if name not in ("predict 208Pb", "predict_nuclei 40Ca,48Ca,208Pb") or any(
            n not in em.nuclei for n in np.atleast_1d(nuclei)
        ):
            continue
        loops = []
        for m in (em, plain):
            call = getattr(m, fn)
            call(rows[:1], nuclei)  # warm the caches

            def loop(call=call, nuclei=nuclei):
                for i in range(latency_rows):
                    call(rows[i : i + 1], nuclei)

            loops.append(loop)
        t_skin, t_plain = best_times(loops, repeat)
        out[name] = {
            "us_per_call_with_skin": {
                "wall": 1e6 * t_skin[0] / latency_rows,
                "cpu": 1e6 * t_skin[1] / latency_rows,
            },
            "us_per_call_without_skin": {
                "wall": 1e6 * t_plain[0] / latency_rows,
                "cpu": 1e6 * t_plain[1] / latency_rows,
            },
        }
    return out


def bench(em: Emulator, label: str, batch: int, repeat: int, latency_rows: int) -> dict:
    size = sum(p.stat().st_size for p in Path(em.path).iterdir() if p.is_file()) if em.path else None
    meta = em.metadata
    result = {
        "model": label,
        "path": str(em.path) if em.path else None,
        "preset": meta.get("preset", {}).get("name"),
        "mode": em.mode,
        "nuclei": list(em.nuclei),
        "architecture": {
            k: {"hidden": list(v.hidden), "activation": v.activation} for k, v in em.networks.items()
        },
        "parameters": sum(v.n_parameters for v in em.networks.values()),
        "batch": batch,
        "nucleus": em.nuclei[-1],
        "model_bytes": size,
        "training_seconds": meta.get("training", {}).get("seconds"),
        "training_rows": meta.get("dataset", {}).get("rows_per_network"),
    }
    result["per_second"] = bench_batch(em, batch, repeat)
    result["latency"] = bench_latency(em, latency_rows, repeat, methods=("quartic", "scan"))
    if "neutron_skin" in em.observables:
        result["skin_cost"] = bench_skin_cost(em, batch, repeat, latency_rows)
    # the figures of earlier versions of this file, under their names
    ps = result["per_second"]
    result["predictions_per_second_full"] = ps["full"]["wall"]
    result["predictions_per_second_networks"] = ps["networks"]["wall"]
    result["inversions_per_second"] = ps["inversions_quartic"]["wall"]
    return result


def baseline(src: str, batch: int, repeat: int, latency_rows: int) -> dict:
    """The full batch and the latency of the shipped model with the package source in ``src``, timed in a
    subprocess by :func:`baseline_worker` of this file."""
    env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
    args = [sys.executable, __file__, "--worker", "--batch", str(batch), "--repeat", str(repeat)]
    args += ["--latency-rows", str(latency_rows)]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    return {"src": str(src), **json.loads(done.stdout.strip().splitlines()[-1])}


def _best_of(a: dict, b: dict) -> dict:
    """Two baseline runs merged: the better figure of each (highest rate, lowest latency)."""
    out = {"src": a["src"], "version": a["version"], "runs": [a, b]}
    out["full"] = {k: max(a["full"][k], b["full"][k]) for k in a["full"]}
    out["latency"] = {
        name: {unit: {k: min(v[unit][k], b["latency"][name][unit][k]) for k in v[unit]} for unit in v}
        for name, v in a["latency"].items()
    }
    return out


def baseline_worker(batch: int, repeat: int, latency_rows: int) -> None:
    """Print (JSON) what :func:`baseline` needs, with whatever nucleiml is importable."""
    em = Emulator.load()
    x = prior_rows(batch, 1)
    full = per_second(batch, best_time(lambda: em.predict(x, em.nuclei[-1]), repeat))
    print(
        json.dumps(
            {
                "version": nucleiml.__version__,
                "full": full,
                "latency": bench_latency(em, latency_rows, repeat),
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--model", action="append", default=[], metavar="DIR", help="model directory (repeatable)"
    )
    ap.add_argument("--batch", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--latency-rows", type=int, default=300, help="one-row calls per latency figure")
    ap.add_argument("--baseline-src", metavar="DIR", help="also time the package source in DIR (subprocess)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", default="benchmarks/results/emulator.json")
    args = ap.parse_args()
    if args.worker:
        baseline_worker(args.batch, args.repeat, args.latency_rows)
        return
    models: list[tuple[str, Emulator]] = []
    for path in args.model:
        models.append((path, Emulator.load(path)))
    if not models:
        try:
            models.append(("shipped default", Emulator.load()))
        except ModelFormatError:
            models += [(f"untrained, {p} preset architecture", untrained(p)) for p in ("default", "paper")]
    report = {
        "package_version": nucleiml.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "threads": 1,
        "load_average_at_start": list(os.getloadavg()),
        "results": [],
    }
    first = (
        baseline(args.baseline_src, args.batch, args.repeat, args.latency_rows) if args.baseline_src else None
    )
    for label, em in models:
        r = bench(em, label, args.batch, args.repeat, args.latency_rows)
        report["results"].append(r)
        print_result(label, r)
    if args.baseline_src:  # before and after this code's figures: the best of the two
        second = baseline(args.baseline_src, args.batch, args.repeat, args.latency_rows)
        b = report["baseline"] = _best_of(first, second)
        print(
            f"baseline {b['src']} ({b['version']}): {b['full']['wall']:.3g} full predictions/s (CPU {b['full']['cpu']:.3g})"
        )
        for name, v in b["latency"].items():
            print(f"  {name}: {v['us_per_call']['wall']:.0f} us per call (CPU {v['us_per_call']['cpu']:.0f})")
    report["load_average_at_end"] = list(os.getloadavg())
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")


def print_result(label: str, r: dict) -> None:
    ps = r["per_second"]
    print(
        f"{label}: {ps['full']['wall']:.3g} full predictions/s (CPU {ps['full']['cpu']:.3g}; scan inversion "
        f"{ps['full_scan']['wall']:.3g}, CPU {ps['full_scan']['cpu']:.3g}); networks {ps['networks']['wall']:.3g}/s; "
        f"inversions {ps['inversions_quartic']['wall']:.3g}/s (scan {ps['inversions_scan']['wall']:.3g}/s); "
        f"{r['parameters']} parameters"
        + (f", {r['model_bytes'] / 1e3:.0f} kB" if r["model_bytes"] else "")
        + (f"; training {sum(r['training_seconds'].values()):.0f} s" if r["training_seconds"] else ""),
        flush=True,
    )
    for name, v in r["latency"]["quartic"].items():
        old = r["latency"]["scan"][name]
        print(
            f"  {name}: {v['us_per_call']['wall']:.0f} us per call, {v['us_per_nucleus']['wall']:.0f} per nucleus "
            f"(CPU {v['us_per_nucleus']['cpu']:.0f}); scan inversion {old['us_per_nucleus']['wall']:.0f} per nucleus",
            flush=True,
        )
    cost = r.get("skin_cost")
    if cost:
        full = cost["full"]
        print(
            f"  skin regressor: {full['with_skin']['wall']:.3g} full predictions/s with it, "
            f"{full['without_skin']['wall']:.3g} without (CPU {full['with_skin']['cpu']:.3g} / "
            f"{full['without_skin']['cpu']:.3g})",
            flush=True,
        )
        for name, v in cost.items():
            if name != "full":
                print(
                    f"    {name}: {v['us_per_call_with_skin']['wall']:.0f} us per call with the skin, "
                    f"{v['us_per_call_without_skin']['wall']:.0f} without",
                    flush=True,
                )


if __name__ == "__main__":
    main()
