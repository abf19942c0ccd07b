"""Benchmark of the emulator: predictions per second on one core, training wall time, model size.

Run:  python benchmarks/bench_emulator.py [--model DIR ...] [--batch 100000] [--out benchmarks/results/emulator.json]

Each ``--model`` (default: the model shipped with NucleiML; if none is shipped, untrained models with the
architectures of the ``default`` and ``paper`` presets, since speed does not depend on the weight values)
is timed on a batch of NMP rows drawn from the default prior:

- ``full``: ``Emulator.predict(nmp, nucleus)`` as a user calls it, including the exact couplings inversion
  that decides nc_a;
- ``networks``: the three networks, scalers and class logic on a batch of rows that all have physical
  couplings, with the inversion done beforehand (``predict(..., inversion=em.invert(nmp))``, the path of
  several nuclei of the same rows; for a model without coupling features ``couplings_ok=True``);
- ``inversion``: the couplings inversion alone.

BLAS and OpenMP are pinned to one thread so the figures are per core; the load average is recorded because
other processes on the machine slow the figures down (run it on idle cores). Training wall time comes from the
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
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import nucleiml  # noqa: E402
from nucleiml.datasets import default_prior  # noqa: E402
from nucleiml.emulator import MLP, Emulator, ModelFormatError, Scaler, get_preset  # noqa: E402
from nucleiml.emulator.features import assemble, couplings_of  # noqa: E402
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
    for name in ("classifier", "binding_energy", "charge_radius"):
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
        },
        "preset": preset.to_dict(),
    }
    return Emulator(meta, nets)


def best_time(fn, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench(em: Emulator, label: str, batch: int, repeat: int) -> dict:
    prior = default_prior()
    s = prior.sample(batch, np.random.default_rng(1))
    x = np.stack([s[k] for k in NMP_NAMES], axis=1)
    nucleus = em.nuclei[-1]
    t_full = best_time(lambda: em.predict(x, nucleus), repeat)
    many = prior.sample(4 * batch, np.random.default_rng(2))
    x_all = np.stack([many[k] for k in NMP_NAMES], axis=1)
    x_ok = x_all[em.couplings_ok(x_all)][:batch]
    if x_ok.shape[0] < batch:
        raise RuntimeError("too few prior draws with physical couplings for the networks figure")
    if getattr(em, "uses_couplings", False):
        inv = em.invert(x_ok)
        t_net = best_time(lambda: em.predict(x_ok, nucleus, inversion=inv), repeat)
    else:
        t_net = best_time(lambda: em.predict(x_ok, nucleus, couplings_ok=True), repeat)
    t_inv = best_time(lambda: em.couplings_ok(x), repeat)
    size = sum(p.stat().st_size for p in Path(em.path).iterdir() if p.is_file()) if em.path else None
    meta = em.metadata
    return {
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
        "nucleus": nucleus,
        "predictions_per_second_full": batch / t_full,
        "predictions_per_second_networks": batch / t_net,
        "inversions_per_second": batch / t_inv,
        "model_bytes": size,
        "training_seconds": meta.get("training", {}).get("seconds"),
        "training_rows": meta.get("dataset", {}).get("rows_per_network"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--model", action="append", default=[], metavar="DIR", help="model directory (repeatable)"
    )
    ap.add_argument("--batch", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default="benchmarks/results/emulator.json")
    args = ap.parse_args()
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
    for label, em in models:
        r = bench(em, label, args.batch, args.repeat)
        report["results"].append(r)
        print(
            f"{label}: {r['predictions_per_second_networks']:.3g} predictions/s (networks), "
            f"{r['predictions_per_second_full']:.3g} /s with the exact nc_a inversion "
            f"({r['inversions_per_second']:.3g} inversions/s); {r['parameters']} parameters"
            + (f", {r['model_bytes'] / 1e3:.0f} kB" if r["model_bytes"] else "")
            + (f"; training {sum(r['training_seconds'].values()):.0f} s" if r["training_seconds"] else ""),
            flush=True,
        )
    report["load_average_at_end"] = list(os.getloadavg())
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
