"""Training presets of the emulator: frozen, validated dataclasses (no torch needed to read them).

- ``paper`` reproduces the seed's networks (Table I and Appendix A): a four-class softmax classifier 1 x 128
  ReLU trained 100 epochs with categorical cross-entropy; binding-energy regressor 2 x 64 ReLU, 500 epochs;
  charge-radius regressor 1 x 64 ReLU, 200 epochs; MAPE loss for both, batch 32, Adam with learning rate
  1e-3 throughout, regressors trained on convergent rows only, inputs and targets standardised.
- ``default`` is what NucleiML ships; it differs from ``paper`` where that was measurably better on the
  same data (README, section "The emulator"): exact nc_a and a convergence network instead of the
  four-class softmax (mode ``hybrid``), a binding-energy regressor trained on all converged rows with
  far-off energies clipped (so that it also decides nc_c) and a charge-radius regressor on convergent rows,
  derived nucleus features (A^(1/3), (N - Z)/A, Z^2/A^(1/3), and the shell-model spin-orbit sums ls_p, ls_n
  that mark spin-orbit closed shells for nuclei outside the training set), the Lagrangian couplings the NMPs map to
  (exact, from the same inversion that decides nc_a) as further inputs, targets relative to a liquid drop (B) and
  per A^(1/3) (Rch), deeper SiLU networks, larger batches with a cosine learning-rate decay from 1e-3, and
  the weights of the epoch with the best validation loss.

``NetworkSpec.replace`` / ``Preset.replace`` give variants (used by the grid search).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from ..parameters import ParameterError
from .features import (
    BASE_FEATURES,
    COUPLING_FEATURES,
    OPTIONAL_NETWORKS,
    SKIN,
    TARGET_TRANSFORMS,
    check_feature_names,
)
from .forward import ACTIVATIONS

__all__ = [
    "LOSSES",
    "NETWORK_NAMES",
    "OPTIONAL_NETWORKS",
    "PRESETS",
    "SCHEDULES",
    "SKIN",
    "NetworkSpec",
    "Preset",
    "get_preset",
]

NETWORK_NAMES = ("classifier", "binding_energy", "charge_radius")
"""The networks every preset has."""
LOSSES = ("cross_entropy", "binary_cross_entropy", "mape", "mse")
SCHEDULES = ("constant", "cosine")
REGRESSOR_ROWS = ("convergent", "converged")


def _positive_int(where: str, value, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= hi:
        raise ParameterError(f"{where} must be an integer in [1, {hi}], got {value!r}")
    return value


@dataclass(frozen=True)
class NetworkSpec:
    """Architecture and training of one network.

    hidden: widths of the hidden layers (1 to 8 layers of 1 to 4096 neurons); activation: relu, tanh or
    silu; epochs; batch_size (rows); learning_rate (Adam; the initial rate for ``schedule="cosine"``,
    which decays it to ``final_lr_fraction`` of itself at the last epoch); loss: cross_entropy (softmax
    classifier), binary_cross_entropy (sigmoid classifier), mape (mean absolute percentage error of the
    observable, %) or mse (of the standardised target); weight_decay (Adam L2); restore_best: keep the
    weights of the epoch with the lowest validation loss; target_transform: identity, per_nucleon or
    per_a13 (regressors only, see :mod:`nucleiml.emulator.features`).
    """

    hidden: tuple[int, ...]
    epochs: int
    loss: str
    activation: str = "relu"
    batch_size: int = 32
    learning_rate: float = 1e-3
    schedule: str = "constant"
    final_lr_fraction: float = 0.01
    weight_decay: float = 0.0
    restore_best: bool = False
    target_transform: str = "identity"

    def __post_init__(self) -> None:
        hidden = tuple(self.hidden) if isinstance(self.hidden, list | tuple) else None
        if not hidden or len(hidden) > 8:
            raise ParameterError(f"hidden must list 1 to 8 layer widths, got {self.hidden!r}")
        for w in hidden:
            _positive_int("hidden layer width", w, 4096)
        object.__setattr__(self, "hidden", hidden)
        _positive_int("epochs", self.epochs, 100_000)
        _positive_int("batch_size", self.batch_size, 1_000_000)
        for name, allowed in (
            ("loss", LOSSES),
            ("activation", tuple(ACTIVATIONS)),
            ("schedule", SCHEDULES),
            ("target_transform", TARGET_TRANSFORMS),
        ):
            if getattr(self, name) not in allowed:
                raise ParameterError(
                    f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}"
                )
        for name, lo, hi in (
            ("learning_rate", 0.0, 1.0),
            ("final_lr_fraction", 0.0, 1.0),
            ("weight_decay", 0.0, 1.0),
        ):
            v = getattr(self, name)
            if (
                isinstance(v, bool)
                or not isinstance(v, int | float)
                or not (lo <= v <= hi)
                or (name == "learning_rate" and v == 0)
            ):
                raise ParameterError(
                    f"{name} must be a number in {'(' if name == 'learning_rate' else '['}{lo:g}, {hi:g}], got {v!r}"
                )
        if not isinstance(self.restore_best, bool):
            raise ParameterError(f"restore_best must be true or false, got {self.restore_best!r}")

    def replace(self, **changes) -> NetworkSpec:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, data: Mapping, where: str = "network") -> NetworkSpec:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ParameterError(
                f"{where}: unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(sorted(names))}"
            )
        try:
            return cls(**{**data, "hidden": tuple(data["hidden"]) if "hidden" in data else ()})
        except TypeError as exc:
            raise ParameterError(f"{where}: {exc}") from None
        except ParameterError as exc:
            raise ParameterError(f"{where}: {exc}") from None


@dataclass(frozen=True)
class Preset:
    """A complete training recipe.

    ``mode``: hybrid or softmax4 (see :mod:`nucleiml.emulator.model`); ``features``: input names;
    ``binding_energy_rows`` / ``charge_radius_rows``: rows each regressor learns from, ``convergent`` or all
    ``converged`` (convergent + nc_c; hybrid needs it for the binding energy, which decides nc_c);
    ``binding_energy_clip``: None, or clip training binding energies to B_exp (1 +- clip) -- converged
    solutions far from experiment (some even with B < 0) only need to be recognised as beyond the nc_c
    threshold, and unclipped they would dominate a relative-error loss; the three network specs; and
    ``nc_b_recall``: None to label by the most probable class, or a target recall of nc_b for which a
    decision threshold on P(nc_b) is chosen on the validation split (trading convergent recall for it)."""

    name: str
    mode: str
    features: tuple[str, ...]
    binding_energy_rows: str
    charge_radius_rows: str
    classifier: NetworkSpec
    binding_energy: NetworkSpec
    charge_radius: NetworkSpec
    binding_energy_clip: float | None = None
    nc_b_recall: float | None = None
    neutron_skin: NetworkSpec | None = None
    neutron_radius: NetworkSpec | None = None

    def __post_init__(self) -> None:
        from .model import MODES

        r = self.nc_b_recall
        if r is not None and (isinstance(r, bool) or not isinstance(r, int | float) or not 0 < r < 1):
            raise ParameterError(f"nc_b_recall must be None or a fraction in (0, 1), got {r!r}")

        if self.mode not in MODES:
            raise ParameterError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        object.__setattr__(self, "features", check_feature_names(self.features))
        for name in ("binding_energy_rows", "charge_radius_rows"):
            if getattr(self, name) not in REGRESSOR_ROWS:
                raise ParameterError(
                    f"{name} must be one of {', '.join(REGRESSOR_ROWS)}, got {getattr(self, name)!r}"
                )
        if self.mode == "hybrid" and self.binding_energy_rows != "converged":
            raise ParameterError(
                "mode 'hybrid' decides nc_c from the predicted binding energy: binding_energy_rows must be 'converged'"
            )
        c = self.binding_energy_clip
        if c is not None and (isinstance(c, bool) or not isinstance(c, int | float) or not 0 < c < 10):
            raise ParameterError(f"binding_energy_clip must be None or a fraction in (0, 10), got {c!r}")
        want = "binary_cross_entropy" if self.mode == "hybrid" else "cross_entropy"
        if self.classifier.loss != want:
            raise ParameterError(
                f"the classifier of mode {self.mode!r} needs loss {want!r}, got {self.classifier.loss!r}"
            )
        if self.classifier.target_transform != "identity":
            raise ParameterError("the classifier has no target transform (use 'identity')")
        for name in ("binding_energy", "charge_radius"):
            if getattr(self, name).loss not in ("mape", "mse"):
                raise ParameterError(
                    f"{name}: a regressor needs loss 'mape' or 'mse', got {getattr(self, name).loss!r}"
                )
        skin, rn = self.neutron_skin, self.neutron_radius
        if skin is not None and rn is not None:
            raise ParameterError(
                "a preset has at most one of neutron_skin and neutron_radius (the skin's regressor)"
            )
        if skin is not None and (not isinstance(skin, NetworkSpec) or skin.loss != "mse"):
            raise ParameterError(
                "neutron_skin: the skin regressor needs loss 'mse' (skins cross zero, so a relative error is "
                f"undefined), got {getattr(skin, 'loss', skin)!r}"
            )
        if rn is not None and (not isinstance(rn, NetworkSpec) or rn.loss not in ("mape", "mse")):
            raise ParameterError(
                f"neutron_radius: a regressor needs loss 'mape' or 'mse', got {getattr(rn, 'loss', rn)!r}"
            )

    @property
    def network_names(self) -> tuple[str, ...]:
        """The networks this preset trains: :data:`NETWORK_NAMES` and the optional ones it has."""
        return NETWORK_NAMES + tuple(n for n in OPTIONAL_NETWORKS if getattr(self, n) is not None)

    def network(self, name: str) -> NetworkSpec:
        if name not in self.network_names:
            raise ParameterError(f"unknown network {name!r}; known: {', '.join(self.network_names)}")
        return getattr(self, name)

    def replace(self, **changes) -> Preset:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "mode": self.mode,
            "features": list(self.features),
            "binding_energy_rows": self.binding_energy_rows,
            "charge_radius_rows": self.charge_radius_rows,
            "binding_energy_clip": self.binding_energy_clip,
            "nc_b_recall": self.nc_b_recall,
            **{n: self.network(n).to_dict() for n in self.network_names},
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> Preset:
        return cls(
            name=str(data["name"]),
            mode=str(data["mode"]),
            features=tuple(data["features"]),
            binding_energy_rows=str(data["binding_energy_rows"]),
            charge_radius_rows=str(data["charge_radius_rows"]),
            binding_energy_clip=data.get("binding_energy_clip"),
            nc_b_recall=data.get("nc_b_recall"),
            **{n: NetworkSpec.from_dict(data[n], n) for n in NETWORK_NAMES},
            **{n: NetworkSpec.from_dict(data[n], n) for n in OPTIONAL_NETWORKS if data.get(n) is not None},
        )


PAPER = Preset(
    name="paper",
    mode="softmax4",
    features=BASE_FEATURES,
    binding_energy_rows="convergent",
    charge_radius_rows="convergent",
    classifier=NetworkSpec(hidden=(128,), epochs=100, loss="cross_entropy"),
    binding_energy=NetworkSpec(hidden=(64, 64), epochs=500, loss="mape"),
    charge_radius=NetworkSpec(hidden=(64,), epochs=200, loss="mape"),
)

_DEFAULT_RADIUS = NetworkSpec(
    hidden=(64, 64, 64),
    epochs=300,
    loss="mape",
    activation="silu",
    batch_size=128,
    schedule="cosine",
    restore_best=True,
    target_transform="per_a13",
)
"""The default preset's radius regressor: of Rch, and (trained for 600 epochs) of Rn."""

DEFAULT = Preset(
    name="default",
    mode="hybrid",
    features=(*BASE_FEATURES, "A13", "I", "Z2A13", "ls_p", "ls_n", *COUPLING_FEATURES),
    binding_energy_rows="converged",
    charge_radius_rows="convergent",
    binding_energy_clip=0.4,
    classifier=NetworkSpec(
        hidden=(64, 64),
        epochs=200,
        loss="binary_cross_entropy",
        activation="silu",
        batch_size=128,
        schedule="cosine",
        restore_best=True,
    ),
    binding_energy=NetworkSpec(
        hidden=(64, 64, 64, 64),
        epochs=400,
        loss="mape",
        activation="silu",
        batch_size=128,
        schedule="cosine",
        restore_best=True,
        target_transform="per_liquid_drop",
    ),
    charge_radius=_DEFAULT_RADIUS,
    neutron_radius=_DEFAULT_RADIUS.replace(epochs=600),  # Rn: the charge radius's network, trained longer
)

PRESETS: Mapping[str, Preset] = {"paper": PAPER, "default": DEFAULT}


def get_preset(name: str | Preset) -> Preset:
    if isinstance(name, Preset):
        return name
    try:
        return PRESETS[str(name).strip().lower()]
    except KeyError:
        raise ParameterError(f"unknown training preset {name!r}; known: {', '.join(PRESETS)}") from None
