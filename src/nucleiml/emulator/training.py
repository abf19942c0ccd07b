"""Training the emulator networks with PyTorch on CPU: all torch code of NucleiML lives in this module.

PyTorch comes with the ``ml`` extra (``pip install "nucleiml[ml]"``); prediction does not need it.

Reproducibility: every random choice (initial weights, batch order) comes from a ``torch.Generator``
seeded from the user's seed and the network's name, and training runs single-threaded
(``torch.set_num_threads(1)``), so the same seed, data and preset give bitwise the same weights.

Initialisation follows the seed's Keras defaults: Glorot-uniform weights and zero biases for hidden layers,
normal (std 0.05) output weights. Optimiser: Adam (learning rate 1e-3 by default), per-epoch training loss
(mean over batches) and validation loss (whole validation set) recorded, and accuracies for classifiers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import __version__
from .._extras import MissingExtraError
from ..datasets.labels import CONVERGENT, LABELS, NC_A, NC_B, NC_C
from ..nuclei import NucleusError, parse_nuclei, parse_nucleus
from ..parameters import NMP_NAMES
from .extrapolation import can_extrapolate
from .features import Scaler, TargetTransform, assemble, couplings_of, uses_couplings
from .forward import MLP
from .metrics import finite_json
from .presets import OPTIONAL_NETWORKS, NetworkSpec, Preset, get_preset
from .references import select_references

__all__ = [
    "History",
    "MissingTorchError",
    "extend_emulator",
    "fit_network",
    "network_seed",
    "require_torch",
    "train_emulator",
]


class MissingTorchError(MissingExtraError):
    """PyTorch (the ``ml`` extra) is needed for training but is not installed."""


def require_torch():
    """Import torch or raise :class:`MissingTorchError` with the install command."""
    from .._extras import require

    return require("torch", "ml", "training the emulator (prediction works without it)", MissingTorchError)


def network_seed(seed: int, name: str) -> int:
    """The torch seed of network ``name`` for a user seed (independent streams per network)."""
    key = sum(ord(c) * 31**i for i, c in enumerate(name)) % 2**32
    return int(np.random.SeedSequence([int(seed), key]).generate_state(1, dtype=np.uint64)[0] % 2**63)


@dataclass
class History:
    """Per-epoch curves: training loss (mean over the epoch's batches), validation loss, accuracies
    (classifiers; None otherwise), learning rate; the epoch whose weights were kept; wall time (s)."""

    loss_name: str
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] | None = None
    val_accuracy: list[float] | None = None
    learning_rate: list[float] = field(default_factory=list)
    kept_epoch: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {
            "loss_name": self.loss_name,
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
            "train_accuracy": self.train_accuracy,
            "val_accuracy": self.val_accuracy,
            "learning_rate": self.learning_rate,
            "kept_epoch": self.kept_epoch,
            "seconds": self.seconds,
        }


def _build(torch, n_in: int, spec: NetworkSpec, n_out: int, gen):
    nn = torch.nn
    act = {"relu": nn.ReLU, "tanh": nn.Tanh, "silu": nn.SiLU}[spec.activation]
    layers, width = [], n_in
    for w in spec.hidden:
        lin = nn.Linear(width, w)
        nn.init.xavier_uniform_(lin.weight, generator=gen)
        nn.init.zeros_(lin.bias)
        layers += [lin, act()]
        width = w
    out = nn.Linear(width, n_out)
    nn.init.normal_(out.weight, 0.0, 0.05, generator=gen)
    nn.init.zeros_(out.bias)
    layers.append(out)
    return nn.Sequential(*layers)


def _export(model, spec: NetworkSpec, output: str) -> MLP:
    lins = [m for m in model if hasattr(m, "weight")]
    return MLP.from_layers(
        [(m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy()) for m in lins],
        spec.activation,
        output,
    )


def _lr(spec: NetworkSpec, epoch: int) -> float:
    if spec.schedule == "constant" or spec.epochs == 1:
        return spec.learning_rate
    f = spec.final_lr_fraction
    return spec.learning_rate * (f + (1 - f) * 0.5 * (1 + math.cos(math.pi * epoch / (spec.epochs - 1))))


def fit_network(
    spec: NetworkSpec,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray | None,
    y_val: np.ndarray | None,
    *,
    seed: int,
    target_scaler: Scaler | None = None,
    progress: bool = False,
    desc: str = "",
    checkpoints: Sequence[int] = (),
) -> tuple[MLP, History, dict[int, MLP]]:
    """Train one network; returns (numpy network, curves, {epoch: network} at ``checkpoints``).

    ``x``: scaled inputs (n, d) float32. ``y``: class indices (int, loss cross_entropy), 0/1 (loss
    binary_cross_entropy) or standardised targets (mape / mse); for ``mape`` the ``target_scaler`` maps the
    standardised target back to the (transformed) observable, so the loss is the relative error in per cent.
    ``checkpoints``: 1-based epochs after which a copy of the weights is returned (the grid search uses them
    to score several epoch counts with one training run when the learning rate is constant).
    """
    torch = require_torch()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # bitwise reproducible; restored on return
    try:
        return _fit(
            torch, spec, x_train, y_train, x_val, y_val, seed, target_scaler, progress, desc, checkpoints
        )
    finally:
        torch.set_num_threads(threads)


CLASSIFIER_LOSSES = ("cross_entropy", "binary_cross_entropy")
OUTPUT_OF_LOSS = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}
"""Output activation of the exported network per loss (regression losses: linear)."""


class _Objective:
    """The loss of a network spec and, for classifiers, the count of correct predictions (torch tensors).

    For ``mape`` the standardised targets are mapped back with ``target_scaler``, so that the loss is the
    mean relative error of the (transformed) observable in per cent."""

    def __init__(self, torch, kind: str, target_scaler: Scaler | None):
        self.torch, self.kind = torch, kind
        self.classifier = kind in CLASSIFIER_LOSSES
        self.output = OUTPUT_OF_LOSS.get(kind, "linear")
        if kind == "mape":
            if target_scaler is None:
                raise ValueError("loss 'mape' needs the target scaler")
            self.t_mean = float(target_scaler.mean[0])
            self.t_scale = float(target_scaler.scale[0])

    def n_outputs(self, y_train: np.ndarray) -> int:
        if self.kind == "cross_entropy":
            return max(int(y_train.max()) + 1, 4)
        return 1

    def targets(self, y: np.ndarray):
        if self.kind == "cross_entropy":
            return self.torch.from_numpy(np.asarray(y, dtype=np.int64))
        return self.torch.from_numpy(np.asarray(y, dtype=np.float32).reshape(-1, 1))

    def loss(self, out, y):
        F = self.torch.nn.functional
        if self.kind == "cross_entropy":
            return F.cross_entropy(out, y)
        if self.kind == "binary_cross_entropy":
            return F.binary_cross_entropy_with_logits(out, y)
        if self.kind == "mse":
            return self.torch.mean((out - y) ** 2)
        t_true = y * self.t_scale + self.t_mean
        return 100.0 * self.torch.mean(self.torch.abs((out - y) * self.t_scale) / self.torch.abs(t_true))

    def n_correct(self, out, y) -> int:
        if self.kind == "cross_entropy":
            return int((out.argmax(dim=1) == y).sum())
        return int(((out > 0).float() == y).sum())


def _progress_bar(progress: bool, epochs: int, desc: str):
    """A tqdm bar over the epochs, or None (no progress wanted, or tqdm missing)."""
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=epochs, desc=desc or "training", unit="epoch", leave=True)


def _train_epoch(torch, model, opt, objective: _Objective, xt, yt, batch_size: int, gen) -> tuple[float, int]:
    """One pass over the shuffled training rows; returns (mean loss, correct predictions)."""
    model.train()
    n = xt.shape[0]
    perm = torch.randperm(n, generator=gen)
    xs, ys = xt[perm], yt[perm]
    total, correct = 0.0, 0
    for start in range(0, n, batch_size):
        xb, yb = xs[start : start + batch_size], ys[start : start + batch_size]
        opt.zero_grad(set_to_none=True)
        out = model(xb)
        loss = objective.loss(out, yb)
        loss.backward()
        opt.step()
        total += float(loss.detach()) * xb.shape[0]
        if objective.classifier:
            correct += objective.n_correct(out.detach(), yb)
    return total / n, correct


def _validate(torch, model, objective: _Objective, xv, yv, hist: History) -> float:
    """Validation loss (and accuracy, for classifiers) recorded in ``hist``; returns the loss."""
    model.eval()
    with torch.no_grad():
        out = model(xv)
        vloss = float(objective.loss(out, yv))
        if objective.classifier:
            hist.val_accuracy.append(objective.n_correct(out, yv) / len(xv))
    hist.val_loss.append(vloss)
    return vloss


def _fit(torch, spec, x_train, y_train, x_val, y_val, seed, target_scaler, progress, desc, checkpoints):
    gen = torch.Generator().manual_seed(seed)
    objective = _Objective(torch, spec.loss, target_scaler)
    model = _build(torch, x_train.shape[1], spec, objective.n_outputs(y_train), gen)
    opt = torch.optim.Adam(model.parameters(), lr=spec.learning_rate, weight_decay=spec.weight_decay)
    xt = torch.from_numpy(np.ascontiguousarray(x_train, dtype=np.float32))
    yt = objective.targets(y_train)
    has_val = x_val is not None and len(x_val) > 0
    if has_val:
        xv = torch.from_numpy(np.ascontiguousarray(x_val, dtype=np.float32))
        yv = objective.targets(y_val)
    classifier = objective.classifier
    hist = History(
        loss_name=spec.loss,
        train_accuracy=[] if classifier else None,
        val_accuracy=[] if classifier else None,
    )
    best, best_state = math.inf, None
    saved: dict[int, MLP] = {}
    bar = _progress_bar(progress, spec.epochs, desc)
    t0 = time.perf_counter()
    try:
        for epoch in range(spec.epochs):
            lr = _lr(spec, epoch)
            for g in opt.param_groups:
                g["lr"] = lr
            loss, correct = _train_epoch(torch, model, opt, objective, xt, yt, spec.batch_size, gen)
            hist.train_loss.append(loss)
            hist.learning_rate.append(lr)
            if classifier:
                hist.train_accuracy.append(correct / xt.shape[0])
            vloss = _validate(torch, model, objective, xv, yv, hist) if has_val else loss
            if spec.restore_best and vloss < best:
                best = vloss
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                hist.kept_epoch = epoch + 1
            if epoch + 1 in checkpoints:
                saved[epoch + 1] = _export(model, spec, objective.output)
            if bar is not None:
                post = {"loss": f"{loss:.4g}", **({"val": f"{vloss:.4g}"} if has_val else {})}
                bar.set_postfix(post, refresh=False)
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    if spec.restore_best and best_state is not None:
        model.load_state_dict(best_state)
    else:
        hist.kept_epoch = spec.epochs
    hist.seconds = time.perf_counter() - t0
    return _export(model, spec, objective.output), hist, saved


# ---------------------------------------------------------------------------------------------- orchestration


def classifier_targets(mode: str, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row mask, targets) of the classifier: softmax4 learns the class index of every row; hybrid learns
    converged (1: convergent or nc_c) against nc_b (0) on the rows with physical couplings."""
    label = np.asarray(label).astype(str)
    if mode == "softmax4":
        index = {c: i for i, c in enumerate(LABELS)}
        return np.ones(label.size, dtype=bool), np.array([index[c] for c in label], dtype=np.int64)
    mask = label != NC_A
    return mask, np.isin(label[mask], (CONVERGENT, NC_C)).astype(np.float32)


def regressor_mask(rows_label: np.ndarray, which: str) -> np.ndarray:
    label = np.asarray(rows_label).astype(str)
    return label == CONVERGENT if which == "convergent" else np.isin(label, (CONVERGENT, NC_C))


def regressor_data(rows, name: str, preset: Preset) -> tuple[np.ndarray, np.ndarray]:
    """(row mask, target values in MeV or fm) of regressor ``name`` on ``rows`` under ``preset``: the rows
    of ``preset.<name>_rows`` (the neutron skin Rn - Rp and the neutron radius Rn: convergent rows);
    binding energies clipped to B_exp (1 +- binding_energy_clip) if set."""
    from ..experiment import experiment

    if name in OPTIONAL_NETWORKS:
        values = getattr(rows, name)
        mask = regressor_mask(rows.label, "convergent") & np.isfinite(values)
        return mask, values[mask].copy()
    mask = regressor_mask(rows.label, getattr(preset, f"{name}_rows"))
    values = getattr(rows, name)[mask].copy()
    if name == "binding_energy" and preset.binding_energy_clip is not None:
        c = preset.binding_energy_clip
        nuc = rows.nucleus[mask]
        for n in np.unique(nuc):
            b_exp = experiment(str(n)).binding_energy
            m = nuc == n
            values[m] = np.clip(values[m], b_exp * (1 - c), b_exp * (1 + c))
    return mask, values


def features_of(rows, names, masses) -> np.ndarray:
    """The feature matrix of dataset ``rows`` (coupling features from the exact inversion of their NMPs
    with the training prior's ``masses``, as at prediction time; NaN for nc_a rows)."""
    cpl = couplings_of(rows.nmp, masses)[1] if uses_couplings(names) else None
    return assemble(rows.nmp, rows.Z, rows.N, names, couplings=cpl)


def scaled(scaler: Scaler, x: np.ndarray) -> np.ndarray:
    """Standardised features; undefined coupling features (nc_a rows, which only a softmax4 classifier
    sees, and whose class the exact inversion decides anyway) become 0, the training mean."""
    return np.nan_to_num(scaler.transform(x), nan=0.0)


def choose_nc_b_threshold(em, rows, recall: float, say=lambda *_: None, min_rows: int = 20) -> float | None:
    """The largest P(nc_b) threshold (at most 0.5) whose nc_b recall on ``rows`` reaches ``recall``; None
    (plain argmax) if ``rows`` hold fewer than ``min_rows`` nc_b rows of the model's nuclei."""
    p_ncb = []
    for nuc in em.nuclei:
        m = (rows.nucleus == nuc) & (rows.label == NC_B)
        if m.any():
            p_ncb.append(em.predict(rows.nmp[m], nuc, couplings_ok=True)["probabilities"][:, 2])
    p = np.concatenate(p_ncb) if p_ncb else np.zeros(0)
    if p.size < min_rows:
        say(f"  nc_b threshold: only {p.size} nc_b validation rows, labels stay the most probable class")
        return None
    t = float(min(0.5, np.quantile(p, 1.0 - recall)))
    t = max(t, 1e-3)
    say(f"  nc_b threshold {t:.3g}: nc_b recall {np.mean(p >= t):.3f} on {p.size} validation rows")
    return t


def _robust_sigma(dev: np.ndarray) -> float:
    d = dev[np.isfinite(dev)]
    if d.size < 2:
        return 0.01
    q16, q84 = np.quantile(d, [0.16, 0.84])
    return float(max(0.5 * (q84 - q16), 1e-4))


def train_emulator(
    dataset: str | Path,
    out: str | Path | None = None,
    preset: str | Preset = "default",
    *,
    nuclei=None,
    seed: int = 0,
    progress: bool = True,
    log=None,
):
    """Train classifier and regressors on the train split of ``dataset`` (validation curves on its
    validation split), save to ``out`` (if given) and return the :class:`~nucleiml.emulator.Emulator`.

    ``nuclei``: train on these nuclei of the dataset only (e.g. ``"paper"`` for the unseen-nuclei study);
    default all. ``log``: callable receiving progress lines (default: none).
    """
    require_torch()
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    preset = get_preset(preset)
    say = log or (lambda *_: None)
    data = _training_data(dataset, nuclei, preset)
    say(
        f"training preset {preset.name!r} on {len(data.train)} rows ({', '.join(data.nuclei)}), "
        f"validating on {len(data.val)}"
    )
    trained = [_train_network(name, preset, data, seed, progress, say) for name in preset.network_names]
    networks = {t.name: t.network for t in trained}
    meta = _metadata(preset, data, trained, seed)
    em = _calibrated(meta, networks, data, preset, say)
    if out is not None:
        from .format import save_model

        save_model(out, meta, networks, data.info["card"])
        em.path = Path(out)
    return em


class _TrainingData(NamedTuple):
    """The train and validation rows of the nuclei trained on, and their scaled network inputs."""

    train: object  # tables.Rows
    val: object
    info: dict  # load_rows' description of the dataset (card, hashes, split card)
    nuclei: tuple[str, ...]
    x_scaler: Scaler
    z_train: np.ndarray
    z_val: np.ndarray


def _training_data(dataset, nuclei, preset: Preset) -> _TrainingData:
    """Load the splits, keep ``nuclei`` (None: all; NucleusError for one the dataset lacks) and scale the
    inputs with statistics of the training rows."""
    from .tables import load_rows

    train, info = load_rows(dataset, "train")
    val, _ = load_rows(dataset, "validation")
    available = train.nuclei
    names = available
    if nuclei is not None:
        names = tuple(n.name for n in parse_nuclei(nuclei))
        missing = [n for n in names if n not in available]
        if missing:
            raise NucleusError(
                f"nuclei {', '.join(missing)} are not in the training data of {dataset} "
                f"(it has {', '.join(available)})"
            )
        train, val = train.only_nuclei(list(names)), val.only_nuclei(list(names))
    masses = info["card"]["prior"]["masses"]
    x_tr = features_of(train, preset.features, masses)
    x_va = features_of(val, preset.features, masses)
    x_scaler = Scaler.fit(x_tr)
    return _TrainingData(train, val, info, names, x_scaler, scaled(x_scaler, x_tr), scaled(x_scaler, x_va))


class _Trained(NamedTuple):
    name: str
    network: MLP
    history: dict
    rows: int  # training rows used
    meta: dict  # per-network metadata (target transform and rows for regressors)


def _train_network(name: str, preset: Preset, data: _TrainingData, seed: int, progress, say) -> _Trained:
    """Targets of network ``name`` (classifier classes, or transformed regressor targets) and its training."""
    spec = preset.network(name)
    train, val = data.train, data.val
    if name == "classifier":
        m_tr, y_tr = classifier_targets(preset.mode, train.label)
        m_va, y_va = classifier_targets(preset.mode, val.label)
        scaler = None
        meta = {"target": "converged vs nc_b" if preset.mode == "hybrid" else "four classes"}
    else:
        m_tr, values_tr = regressor_data(train, name, preset)
        m_va, values_va = regressor_data(val, name, preset)
        tt = TargetTransform.fit(spec.target_transform, values_tr, train.Z[m_tr], train.N[m_tr])
        y_tr = tt.forward(values_tr, train.Z[m_tr], train.N[m_tr])
        y_va = tt.forward(values_va, val.Z[m_va], val.N[m_va])
        scaler = tt.scaler
        rows = "convergent" if name in OPTIONAL_NETWORKS else getattr(preset, f"{name}_rows")
        meta = {"target_transform": tt.to_dict(), "rows": rows}
    if not m_tr.any():
        raise ValueError(f"no training rows for the {name} network in {data.info['dataset']}")
    net, hist, _ = fit_network(
        spec,
        data.z_train[m_tr],
        y_tr,
        data.z_val[m_va],
        y_va,
        seed=network_seed(seed, name),
        target_scaler=scaler,
        progress=progress,
        desc=name,
    )
    rows = int(m_tr.sum())
    vloss = hist.val_loss[hist.kept_epoch - 1] if hist.val_loss else float("nan")
    say(
        f"  {name}: {rows} rows, {spec.epochs} epochs in {hist.seconds:.1f} s, kept epoch "
        f"{hist.kept_epoch}, validation loss {vloss:.4g}"
    )
    return _Trained(name, net, hist.to_dict(), rows, meta)


def _nucleus_metadata(names) -> list[dict]:
    """Z, N and experimental binding energy of the nuclei trained on (the relative error of the binding
    energy, used by the soft nc_c rule, is set by :func:`_calibrated`)."""
    from ..experiment import experiment

    out = []
    for nm in names:
        nuc = parse_nucleus(nm)
        out.append(
            {
                "name": nuc.name,
                "Z": nuc.Z,
                "N": nuc.N,
                "binding_energy_exp": float(experiment(nuc).binding_energy),
                "binding_energy_rel_error": 0.01,  # replaced from the validation rows
            }
        )
    return out


def _reference_nmp(data: _TrainingData) -> list[list[float]]:
    """The reference sets of :mod:`.references` for extrapolating to unseen nuclei (none for a model with too
    few training nuclei to extrapolate through)."""
    if not can_extrapolate(len(data.nuclei)):
        return []
    return select_references(data.train, data.nuclei).tolist()


def _metadata(preset: Preset, data: _TrainingData, trained: list[_Trained], seed: int) -> dict:
    """The model's metadata (before calibration): inputs, scalers, classes, nuclei, prior box, networks,
    provenance and training curves."""
    card, info = data.info["card"], data.info
    prior = card["prior"]
    histories = {t.name: t.history for t in trained}
    return {
        "mode": preset.mode,
        "features": list(preset.features),
        "feature_scaler": data.x_scaler.to_dict(),
        "class_names": list(LABELS),
        "nuclei": _nucleus_metadata(data.nuclei),
        "prior_box": {k: [float(prior["nmp"][k]["low"]), float(prior["nmp"][k]["high"])] for k in NMP_NAMES},
        "masses": {k: float(v) for k, v in prior["masses"].items()},
        "nc_c_threshold": float(card.get("nc_c_threshold", 0.2)),
        "reference_nmp": _reference_nmp(data),
        # the regressors first, then the classifier: the key order model.json has always had
        "networks": {t.name: t.meta for t in sorted(trained, key=lambda t: t.name == "classifier")},
        "package_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seed": seed,
        "preset": preset.to_dict(),
        "dataset": {
            "path": info["dataset"],
            "card_sha256": info["card_sha256"],
            "split": info["split_card"],
            "train_rows": len(data.train),
            "validation_rows": len(data.val),
            "rows_per_network": {t.name: t.rows for t in trained},
        },
        "training": {"seconds": {k: h["seconds"] for k, h in histories.items()}, "history": histories},
    }


def _calibrated(meta: dict, networks: dict, data: _TrainingData, preset: Preset, say):
    """The emulator after the calibrations that need its own predictions, recorded in ``meta``: per
    nucleus the relative error of the binding energy (soft nc_c rule), the nc_b threshold (if the preset
    asks for an nc_b recall) and the scores on the validation rows."""
    from .evaluation import evaluate_rows
    from .model import Emulator

    train, val = data.train, data.val
    em = Emulator(meta, networks)
    # convergent validation rows: the error near the threshold, not that of the clipped far-away solutions
    conv_va = regressor_mask(val.label, "convergent")
    ref = val if conv_va.any() else train
    ref_mask = conv_va if conv_va.any() else regressor_mask(train.label, "convergent")
    for d in meta["nuclei"]:
        m = ref_mask & (ref.nucleus == d["name"])
        if m.any():
            pred = em.predict(ref.nmp[m], d["name"], couplings_ok=True, mask_nonconvergent=False)
            d["binding_energy_rel_error"] = _robust_sigma(
                (ref.binding_energy[m] - pred["binding_energy"]) / ref.binding_energy[m]
            )
    em = Emulator(meta, networks)
    if preset.nc_b_recall is not None:
        meta["nc_b_threshold"] = choose_nc_b_threshold(em, val, preset.nc_b_recall, say)
        em = Emulator(meta, networks)
    if len(val):
        meta["validation"] = finite_json(evaluate_rows(em, val, summary_only=True))
        em = Emulator(meta, networks)
    return em


# ---------------------------------------------------------------------------------------------- extension


COUNT_SLACK = 1e-3
"""Largest change of a split's class count, as a fraction of its rows, that :func:`extend_emulator` accepts
in regenerated training data: labels next to the nc_b boundary flip under round-off (a regeneration of
set2 with a later solver changed 20 of 500,000 labels, docs/emulator.md, 'Neutron skins')."""


def _same_training_data(base_meta: dict, data: _TrainingData, x_scaler: Scaler) -> dict:
    """Raise ValueError unless ``data`` are the rows a model with metadata ``base_meta`` was trained on: the
    same samples and rows per split (``dataset.split`` of the model), the same input statistics of the
    training rows (its ``feature_scaler``, to 1e-9 relative: the same NMP samples) and class counts per split
    within :data:`COUNT_SLACK` of the split's rows. Returns the class-count changes (split -> class -> new
    minus recorded) for the model's record."""
    recorded = (base_meta.get("dataset") or {}).get("split") or {}
    split = data.info.get("split_card") or {}
    where = f"dataset {data.info['dataset']}"
    for key in ("samples", "rows"):
        if recorded.get(key) != split.get(key):
            raise ValueError(
                f"{where}: split {key} {split.get(key)} differ from those the model was trained on "
                f"({recorded.get(key)}): not the model's training data"
            )
    base = Scaler.from_dict(base_meta["feature_scaler"])
    for what in ("mean", "scale"):
        a, b = getattr(base, what), getattr(x_scaler, what)
        if a.shape != b.shape or not np.allclose(a, b, rtol=1e-9, atol=0.0):
            raise ValueError(
                f"{where}: the training rows' feature {what}s differ from the model's feature_scaler: not the "
                "model's training data"
            )
    changes = {}
    for name, counts in (split.get("counts") or {}).items():
        old = (recorded.get("counts") or {}).get(name, {})
        diff = {c: int(counts.get(c, 0)) - int(old.get(c, 0)) for c in sorted(set(counts) | set(old))}
        if any(abs(v) > COUNT_SLACK * recorded["rows"][name] for v in diff.values()):
            raise ValueError(
                f"{where}: {name} class counts {counts} differ from the model's {old} by more than "
                f"{COUNT_SLACK:g} of the rows: not the model's training data"
            )
        changes[name] = {c: v for c, v in diff.items() if v}
    return changes


def extend_emulator(
    base: str | Path | None,
    dataset: str | Path,
    out: str | Path | None = None,
    preset: str | Preset = "default",
    *,
    seed: int | None = None,
    progress: bool = True,
    log=None,
):
    """Add to a trained model the networks of ``preset`` it lacks (the neutron-skin regressor), trained on
    the train split of ``dataset``, without touching its other weights; save to ``out`` (if given).

    Parameters
    ----------
    base : str, Path or None
        Model directory (None: the shipped default model).
    dataset : str or Path
        The dataset the base model was trained on, with its splits; checked by the samples and rows per
        split recorded in the model, the statistics of the training inputs (its ``feature_scaler``) and the
        class counts per split (within :data:`COUNT_SLACK`; the changes are recorded).
    out : str, Path or None
        Directory to write the extended model to.
    preset : str or Preset
        Where the new networks' specs come from (``default``: the skin's regressor, of Rn: 3 x 64 SiLU, MAPE
        of Rn / A^(1/3), 600 epochs).
    seed : int or None
        Training seed (None: the base model's), combined with the network name as in :func:`train_emulator`.
    progress, log
        Progress bars; a callable receiving progress lines.

    Returns
    -------
    Emulator
        The extended model: the base's networks bit for bit, the new ones added, ``validation`` recomputed
        (every figure the base had is unchanged, since its weights are).

    Raises
    ------
    ValueError
        If the model has every network of the preset already, or the dataset is not its training data.
    """
    from .model import Emulator

    require_torch()
    preset, say = get_preset(preset), log or (lambda *_: None)
    em = Emulator.load(base)
    meta = {k: v for k, v in dict(em.metadata).items() if k not in ("weights_sha256", "metadata_sha256")}
    meta = {**meta, "networks": {k: dict(v) for k, v in meta["networks"].items()}}
    has = set(em.networks)
    new = [
        n
        for n in preset.network_names
        if n not in has and not (n in OPTIONAL_NETWORKS and has & set(OPTIONAL_NETWORKS))
    ]
    if not new:
        raise ValueError(f"the model {em.path} has every network of preset {preset.name!r} already")
    seed = int(meta.get("seed", 0)) if seed is None else seed
    data = _training_data(dataset, list(em.nuclei), preset.replace(features=tuple(em.features)))
    changes = _same_training_data(meta, data, data.x_scaler)
    base_scaler = Scaler.from_dict(meta["feature_scaler"])  # the base's inputs, exactly
    x_tr = features_of(data.train, em.features, em.masses)
    x_va = features_of(data.val, em.features, em.masses)
    data = data._replace(z_train=scaled(base_scaler, x_tr), z_val=scaled(base_scaler, x_va))
    say(f"adding {', '.join(new)} to {em.path} (seed {seed}), {len(data.train)} training rows")
    trained = [_train_network(name, preset, data, seed, progress, say) for name in new]
    networks = {**em.networks, **{t.name: t.network for t in trained}}
    for t in trained:
        meta["networks"][t.name] = t.meta
        meta["training"]["history"][t.name] = t.history
        meta["training"]["seconds"][t.name] = t.history["seconds"]
        meta["dataset"]["rows_per_network"][t.name] = t.rows
        meta["preset"][t.name] = preset.network(t.name).to_dict()
    meta["extended"] = {
        "networks": new,
        "seed": seed,
        "package_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "dataset": {
            "path": data.info["dataset"],
            "card_sha256": data.info["card_sha256"],
            "class_count_changes": changes,
        },
        "base_weights_sha256": em.metadata.get("weights_sha256"),
    }
    return _finish_extension(meta, networks, data, out, em)


def _finish_extension(meta: dict, networks: dict, data: _TrainingData, out, base):
    """The extended model with its validation scores recomputed, saved to ``out`` with the base's dataset
    card (if any)."""
    from .evaluation import evaluate_rows
    from .format import read_dataset_card, save_model
    from .model import Emulator

    em = Emulator(meta, networks)
    if len(data.val):
        meta["validation"] = finite_json(evaluate_rows(em, data.val, summary_only=True))
        em = Emulator(meta, networks)
    if out is not None:
        card = read_dataset_card(base.path) if base.path is not None else None
        save_model(out, meta, networks, card)
        em.path = Path(out)
    return em
