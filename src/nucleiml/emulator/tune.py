"""Grid search over layers, neurons and epochs with k-fold cross-validation by sample (seed Table I).

The grid is a TOML file::

    preset = "paper"                       # base preset: every other setting comes from it
    networks = ["classifier", "binding_energy", "charge_radius"]
    layers = [1, 2, 3]                     # hidden layers
    neurons = [32, 64, 128]                # neurons per hidden layer
    epochs = [100, 200, 500]
    folds = 3                              # k of the k-fold cross-validation
    seed = 0
    max_samples = 5000                     # optional: use at most this many training samples
    nuclei = "set2"                        # optional: only these nuclei of the dataset

The folds split the train split of the dataset by ``sample_id`` (a hash of (sample_id, seed), as
``nucleiml dataset split`` does), so all nuclei of one NMP sample sit in the same fold. Each setting is
trained k times, on k - 1 folds, and scored on the held-out fold: validation loss (cross-entropy, or MAPE
in per cent for the regressors), accuracy (classifier) and the 95 % band of |dX/X| (regressors). When the
learning rate is constant and the last epoch's weights are kept, the epoch counts of one (layers,
neurons, fold) are read off one training run at checkpoints, which equals training each count separately.

Results go to ``grid.csv`` and ``grid.md`` (mean and standard deviation over folds; best setting per
network marked).
"""

from __future__ import annotations

import csv
import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .._toml import read_toml
from ..datasets.summary import _uniform_hash
from ..parameters import ParameterError
from .features import Scaler, TargetTransform
from .presets import NETWORK_NAMES, Preset, get_preset

__all__ = ["Grid", "grid_search", "load_grid"]

_KEYS = ("preset", "networks", "layers", "neurons", "epochs", "folds", "seed", "max_samples", "nuclei")


def _int_list(where: str, value, hi: int) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise ParameterError(f"grid: {where} must be a non-empty list of integers")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= hi:
            raise ParameterError(f"grid: {where} entries must be integers in [1, {hi}], got {v!r}")
    return tuple(sorted(set(value)))


@dataclass(frozen=True)
class Grid:
    """A validated grid (see the module docstring)."""

    preset: Preset
    networks: tuple[str, ...]
    layers: tuple[int, ...]
    neurons: tuple[int, ...]
    epochs: tuple[int, ...]
    folds: int = 3
    seed: int = 0
    max_samples: int | None = None
    nuclei: tuple[str, ...] | None = None

    @classmethod
    def from_dict(cls, data: Mapping, source: str = "grid") -> Grid:
        unknown = sorted(set(data) - set(_KEYS))
        if unknown:
            raise ParameterError(
                f"{source}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_KEYS)}"
            )
        for key in ("layers", "neurons", "epochs"):
            if key not in data:
                raise ParameterError(f"{source}: missing {key} (a list of integers)")
        nets = data.get("networks", list(NETWORK_NAMES))
        if not isinstance(nets, list) or not nets or any(n not in NETWORK_NAMES for n in nets):
            raise ParameterError(
                f"{source}: networks must be a list drawn from {', '.join(NETWORK_NAMES)}, got {nets!r}"
            )
        folds = data.get("folds", 3)
        if isinstance(folds, bool) or not isinstance(folds, int) or not 2 <= folds <= 20:
            raise ParameterError(f"{source}: folds must be an integer in [2, 20], got {folds!r}")
        seed = data.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ParameterError(f"{source}: seed must be a non-negative integer, got {seed!r}")
        ms = data.get("max_samples")
        if ms is not None and (isinstance(ms, bool) or not isinstance(ms, int) or ms < 2):
            raise ParameterError(f"{source}: max_samples must be an integer >= 2, got {ms!r}")
        nuclei = data.get("nuclei")
        if nuclei is not None:
            from ..nuclei import parse_nuclei

            nuclei = tuple(n.name for n in parse_nuclei(nuclei))
        return cls(
            nuclei=nuclei,
            preset=get_preset(data.get("preset", "paper")),
            networks=tuple(dict.fromkeys(nets)),
            layers=_int_list("layers", data["layers"], 8),
            neurons=_int_list("neurons", data["neurons"], 4096),
            epochs=_int_list("epochs", data["epochs"], 100_000),
            folds=folds,
            seed=seed,
            max_samples=ms,
        )


def load_grid(path: str | Path) -> Grid:
    """Read a grid TOML file (errors name the file and the key)."""
    p = Path(path)
    _, data = read_toml(p, "grid", ParameterError)
    return Grid.from_dict(data, source=f"grid file {str(p)!r}")


def _scores(name: str, net, z: np.ndarray, y: np.ndarray, target: TargetTransform | None, Z, N, obs) -> dict:
    """Held-out loss (as in training), accuracy or 95 % band of one trained network (numpy forward)."""
    out = net(z).astype(np.float64)
    if name == "classifier":
        if out.shape[1] == 1:  # sigmoid: binary cross-entropy
            p = np.clip(out[:, 0], 1e-7, 1 - 1e-7)
            loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
            acc = float(np.mean((p > 0.5) == (y > 0.5)))
        else:
            p = np.clip(out[np.arange(len(y)), y.astype(int)], 1e-7, 1.0)
            loss = float(-np.mean(np.log(p)))
            acc = float(np.mean(out.argmax(axis=1) == y))
        return {"loss": loss, "accuracy": acc, "abs95": float("nan")}
    pred = target.inverse(out[:, 0], Z, N)
    rel = (obs - pred) / obs
    return {
        "loss": float(100 * np.mean(np.abs(rel))),
        "accuracy": float("nan"),
        "abs95": float(np.quantile(np.abs(rel), 0.95)),
    }


def grid_search(dataset, grid: Grid, out: str | Path, *, progress: bool = False, log=None) -> list[dict]:
    """Run ``grid`` on the train split of ``dataset``; write ``out/grid.csv`` and ``out/grid.md``; return the
    rows (one per network and setting, averaged over folds)."""
    from .training import features_of

    say = log or (lambda *_: None)
    rows, info = _grid_rows(dataset, grid)
    preset = grid.preset
    fold = np.minimum((_uniform_hash(rows.sample_id, grid.seed + 1) * grid.folds).astype(int), grid.folds - 1)
    x_all = features_of(rows, preset.features, info["card"]["prior"]["masses"])
    results = []
    t_start = time.perf_counter()
    for name in grid.networks:
        for layers, neurons in itertools.product(grid.layers, grid.neurons):
            setting = _Setting(name, layers, neurons)
            scores, seconds = _cross_validate(setting, grid, rows, x_all, fold, progress)
            for e in grid.epochs:
                row = _grid_row(setting, e, grid.folds, scores[e], seconds[e])
                results.append(row)
                say(_row_line(row))
    _write(results, Path(out), grid, info, time.perf_counter() - t_start)
    return results


def _grid_rows(dataset, grid: Grid):
    """The train split of ``dataset``, restricted to ``grid.nuclei`` and to ``grid.max_samples`` samples
    drawn with ``grid.seed``; and the dataset's info."""
    from .tables import load_rows

    rows, info = load_rows(dataset, "train")
    if grid.nuclei is not None:
        missing = [n for n in grid.nuclei if n not in rows.nuclei]
        if missing:
            raise ParameterError(f"grid: nuclei {', '.join(missing)} are not in the train split of {dataset}")
        rows = rows.only_nuclei(grid.nuclei)
    if grid.max_samples is not None:
        ids = np.unique(rows.sample_id)
        if ids.size > grid.max_samples:
            keep = np.random.default_rng(grid.seed).choice(ids, grid.max_samples, replace=False)
            rows = rows.subset(np.isin(rows.sample_id, keep))
    return rows, info


class _Setting(NamedTuple):
    network: str
    layers: int
    neurons: int


class _Fold(NamedTuple):
    """Scaled inputs and (transformed) targets of one fold; ``va`` indexes the validation rows, ``obs_va``
    holds their untransformed regression targets (None for the classifier)."""

    z_tr: np.ndarray
    y_tr: np.ndarray
    z_va: np.ndarray
    y_va: np.ndarray
    target: TargetTransform | None
    va: np.ndarray
    obs_va: np.ndarray | None


def _fold_data(name: str, spec, rows, x_all, idx, y_all, in_va) -> _Fold:
    """Training and validation data of one fold: rows ``idx[~in_va]`` and ``idx[in_va]``."""
    from .training import scaled

    tr, va = idx[~in_va], idx[in_va]
    scaler = Scaler.fit(x_all[tr])
    z_tr, z_va = scaled(scaler, x_all[tr]), scaled(scaler, x_all[va])
    if name == "classifier":
        return _Fold(z_tr, y_all[~in_va], z_va, y_all[in_va], None, va, None)
    vals_tr, vals_va = y_all[~in_va], y_all[in_va]
    tt = TargetTransform.fit(spec.target_transform, vals_tr, rows.Z[tr], rows.N[tr])
    y_tr = tt.forward(vals_tr, rows.Z[tr], rows.N[tr])
    y_va = tt.forward(vals_va, rows.Z[va], rows.N[va])
    return _Fold(z_tr, y_tr, z_va, y_va, tt, va, vals_va)


def _cross_validate(setting: _Setting, grid: Grid, rows, x_all, fold, progress: bool):
    """Validation scores per epoch count (a list over folds) and training seconds per epoch count (summed
    over folds) of one network and size. With a constant learning rate and no best-epoch restore, one run
    per fold to the largest epoch count gives every smaller one as a checkpoint."""
    from .training import classifier_targets, fit_network, network_seed, regressor_data

    name, layers, neurons = setting
    preset = grid.preset
    if name == "classifier":
        mask, y_all = classifier_targets(preset.mode, rows.label)
    else:
        mask, y_all = regressor_data(rows, name, preset)
    idx = np.flatnonzero(mask)
    f = fold[idx]
    spec0 = preset.network(name).replace(hidden=(neurons,) * layers)
    shared = spec0.schedule == "constant" and not spec0.restore_best
    runs = [max(grid.epochs)] if shared else list(grid.epochs)
    scores: dict[int, list[dict]] = {e: [] for e in grid.epochs}
    seconds = {e: 0.0 for e in grid.epochs}
    for k in range(grid.folds):
        if not np.any(f != k) or not np.any(f == k):
            raise ParameterError(f"fold {k} of {name} is empty: too few samples for {grid.folds} folds")
        d = _fold_data(name, spec0, rows, x_all, idx, y_all, f == k)
        for epochs in runs:
            t0 = time.perf_counter()
            net, _, saved = fit_network(
                spec0.replace(epochs=epochs),
                d.z_tr,
                d.y_tr,
                None,
                None,
                seed=network_seed(grid.seed, f"{name}/{k}"),
                target_scaler=None if d.target is None else d.target.scaler,
                progress=progress,
                desc=f"{name} {layers}x{neurons} fold {k + 1}/{grid.folds}",
                checkpoints=grid.epochs if shared else (),
            )
            dt = time.perf_counter() - t0
            for e, m in (saved if shared else {epochs: net}).items():
                Z, N = rows.Z[d.va], rows.N[d.va]
                scores[e].append(_scores(name, m, d.z_va, d.y_va, d.target, Z, N, d.obs_va))
                seconds[e] += dt * (e / epochs if shared else 1.0)
    return scores, seconds


def _grid_row(setting: _Setting, epochs: int, folds: int, scores: list[dict], seconds: float) -> dict:
    """One row of the grid table: the fold scores' mean (and the loss's spread)."""
    return {
        "network": setting.network,
        "layers": setting.layers,
        "neurons": setting.neurons,
        "epochs": epochs,
        "folds": folds,
        "loss_mean": float(np.mean([v["loss"] for v in scores])),
        "loss_std": float(np.std([v["loss"] for v in scores])),
        "accuracy_mean": float(np.mean([v["accuracy"] for v in scores])),
        "abs95_mean": float(np.mean([v["abs95"] for v in scores])),
        "train_seconds_per_fold": seconds / folds,
    }


def _row_line(row: dict) -> str:
    score = (
        f", accuracy {row['accuracy_mean']:.4f}"
        if row["network"] == "classifier"
        else f", 95 % band {100 * row['abs95_mean']:.3g} %"
    )
    return (
        f"{row['network']:>15} {row['layers']} x {row['neurons']:<4} {row['epochs']:>5} epochs: "
        f"loss {row['loss_mean']:.4g} +- {row['loss_std']:.2g}" + score
    )


def _write(results: list[dict], out: Path, grid: Grid, info: dict, seconds: float) -> None:
    out.mkdir(parents=True, exist_ok=True)
    cols = list(results[0]) if results else []
    with open(out / "grid.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(results)
    best = {}
    for r in results:
        if r["network"] not in best or r["loss_mean"] < best[r["network"]]["loss_mean"]:
            best[r["network"]] = r
    md = [
        f"# Grid search ({grid.folds}-fold cross-validation by sample_id)",
        "",
        f"Dataset `{info['dataset']}` (train split), base preset `{grid.preset.name}`, seed {grid.seed}"
        + (f", at most {grid.max_samples} samples" if grid.max_samples else "")
        + (f", nuclei {', '.join(grid.nuclei)}" if grid.nuclei else "")
        + f"; {seconds:.0f} s in all. Loss on the held-out fold: cross-entropy (classifier) or MAPE in % (regressors); "
        "'95 % band': 95th percentile of |dX/X| in %. Best setting per network in bold.",
        "",
        "| network | layers | neurons | epochs | loss (mean +- std) | accuracy | 95 % band (%) | s per fold |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        b = r is best[r["network"]]
        cells = [
            r["network"],
            str(r["layers"]),
            str(r["neurons"]),
            str(r["epochs"]),
            f"{r['loss_mean']:.4g} +- {r['loss_std']:.2g}",
            f"{r['accuracy_mean']:.4f}" if np.isfinite(r["accuracy_mean"]) else "-",
            f"{100 * r['abs95_mean']:.3g}" if np.isfinite(r["abs95_mean"]) else "-",
            f"{r['train_seconds_per_fold']:.1f}",
        ]
        md.append("| " + " | ".join(f"**{c}**" if b else c for c in cells) + " |")
    md += [
        "",
        "Best (seed Table I layout):",
        "",
        "| neural network | epochs | layers | neurons per layer |",
        "|---|---:|---:|---:|",
    ]
    for name, r in best.items():
        md.append(f"| {name} | {r['epochs']} | {r['layers']} | {r['neurons']} |")
    (out / "grid.md").write_text("\n".join(md) + "\n", encoding="utf-8")
