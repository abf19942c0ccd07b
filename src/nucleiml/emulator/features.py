"""Inputs and targets of the emulator networks: feature assembly, scalers and target transforms (numpy only).

A network input row is built from the seven nuclear-matter parameters (NMPs, in the order ``rho0, E0, K0,
Q0, mstar, J0, L0``; fm^-3, MeV, mstar = M*/M) and the nucleus (Z, N), followed by optional *derived*
features of the nucleus that are exact functions of (Z, N) (e.g. ``A^(1/3)``). Every feature is then
standardised, ``(x - mean) / std``, with statistics of the training rows stored beside the weights.

Regression targets go through a named transform before standardisation:

- ``identity``: the observable itself (B in MeV, Rch in fm), as in the seed paper;
- ``per_nucleon``: B / A (MeV), the binding energy per nucleon;
- ``per_a13``: Rch / A^(1/3) (fm), the radius constant r0 of Rch = r0 A^(1/3);
- ``per_liquid_drop``: B / B_LD(Z, N), B relative to a fixed Bethe-Weizsaecker formula (size, Coulomb and
  isospin trends across nuclei).

The last three remove the trivial mass-number dependence, so that one network sees targets of similar size
for 16O and 208Pb. Only names from the registries below can be stored in a model file (no code is ever
read from a file).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..parameters import NMP_NAMES, ParameterError

__all__ = [
    "BASE_FEATURES",
    "DERIVED_FEATURES",
    "TARGET_TRANSFORMS",
    "Scaler",
    "TargetTransform",
    "assemble",
    "check_feature_names",
]

BASE_FEATURES = (*NMP_NAMES, "Z", "N")
"""The seven NMPs and the nucleus: every model takes at least these inputs, in this order."""

DERIVED_FEATURES: Mapping[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    # exact functions of (Z, N) that make the size and isospin dependence of nuclei nearly linear
    "A13": lambda Z, N: np.cbrt(Z + N),  # A^(1/3), the radius scale
    "I": lambda Z, N: (N - Z) / (Z + N),  # isospin asymmetry (N - Z) / A
    "Z2A13": lambda Z, N: Z * Z / np.cbrt(Z + N),  # Coulomb scale Z^2 / A^(1/3)
}
"""Named derived features of the nucleus; a model lists the ones it uses after ``BASE_FEATURES``."""


def check_feature_names(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` as a tuple if it is ``BASE_FEATURES`` followed by distinct known derived features."""
    names = tuple(names)
    base = len(BASE_FEATURES)
    if names[:base] != BASE_FEATURES:
        raise ParameterError(f"features must start with {list(BASE_FEATURES)}, got {list(names)}")
    extra = names[base:]
    unknown = [n for n in extra if n not in DERIVED_FEATURES]
    if unknown or len(set(extra)) != len(extra):
        raise ParameterError(
            f"derived features must be distinct names from {sorted(DERIVED_FEATURES)}, got {list(extra)}"
        )
    return names


def assemble(nmp: np.ndarray, Z, N, names: Sequence[str], dtype=np.float64) -> np.ndarray:
    """The (n, len(names)) feature matrix of NMP rows ``nmp`` (n, 7) with proton and neutron numbers ``Z``
    and ``N`` (scalars or (n,) arrays)."""
    nmp = np.asarray(nmp, dtype=np.float64)
    n = nmp.shape[0]
    Z = np.broadcast_to(np.asarray(Z, dtype=np.float64), (n,))
    N = np.broadcast_to(np.asarray(N, dtype=np.float64), (n,))
    out = np.empty((n, len(names)), dtype=dtype)
    out[:, :7] = nmp
    out[:, 7] = Z
    out[:, 8] = N
    for j, name in enumerate(names[len(BASE_FEATURES) :], start=len(BASE_FEATURES)):
        out[:, j] = DERIVED_FEATURES[name](Z, N)
    return out


@dataclass(frozen=True)
class Scaler:
    """Standardisation ``(x - mean) / scale`` per column; ``mean`` and ``scale`` are 1-D float64 arrays."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Scaler:
        """Mean and standard deviation of the columns of ``x`` (a constant column gets scale 1)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        if x.shape[0] == 0:
            raise ValueError("cannot fit a scaler on zero rows")
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale = np.where(scale > 1e-12 * np.maximum(np.abs(mean), 1.0), scale, 1.0)
        return cls(mean=mean, scale=scale)

    def transform(self, x: np.ndarray, dtype=np.float32) -> np.ndarray:
        return ((np.asarray(x, dtype=np.float64) - self.mean) / self.scale).astype(dtype, copy=False)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=np.float64) * self.scale + self.mean

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": [float(v) for v in self.mean], "scale": [float(v) for v in self.scale]}

    @classmethod
    def from_dict(cls, data: Mapping) -> Scaler:
        mean = np.asarray(data["mean"], dtype=np.float64)
        scale = np.asarray(data["scale"], dtype=np.float64)
        if (
            mean.ndim != 1
            or mean.shape != scale.shape
            or not (np.all(np.isfinite(mean)) and np.all(scale > 0))
        ):
            raise ValueError("scaler needs equal-length finite 'mean' and positive 'scale' lists")
        return cls(mean=mean, scale=scale)


def liquid_drop_binding_energy(Z, N) -> np.ndarray:
    """Bethe-Weizsaecker binding energy (MeV) without pairing, with fixed textbook coefficients (volume
    15.75, surface 17.8, Coulomb 0.711, asymmetry 23.7 MeV): a smooth reference of the size, Coulomb and
    isospin trends of B across nuclei, not a fit to anything in NucleiML."""
    Z = np.asarray(Z, dtype=np.float64)
    A = Z + np.asarray(N, dtype=np.float64)
    return 15.75 * A - 17.8 * A ** (2 / 3) - 0.711 * Z * (Z - 1) / np.cbrt(A) - 23.7 * (A - 2 * Z) ** 2 / A


# transform name -> (forward(x, Z, N), inverse(t, Z, N), unit of the transformed target)
_TRANSFORMS: Mapping[str, tuple[Callable, Callable, str]] = {
    "identity": (lambda x, Z, N: x, lambda t, Z, N: t, "observable unit"),
    "per_nucleon": (lambda x, Z, N: x / (Z + N), lambda t, Z, N: t * (Z + N), "MeV per nucleon"),
    "per_a13": (lambda x, Z, N: x / np.cbrt(Z + N), lambda t, Z, N: t * np.cbrt(Z + N), "fm"),
    "per_liquid_drop": (
        lambda x, Z, N: x / liquid_drop_binding_energy(Z, N),
        lambda t, Z, N: t * liquid_drop_binding_energy(Z, N),
        "fraction of the liquid-drop B",
    ),
}
TARGET_TRANSFORMS = tuple(_TRANSFORMS)


@dataclass(frozen=True)
class TargetTransform:
    """A named target transform followed by standardisation (see the module docstring)."""

    name: str
    scaler: Scaler

    def __post_init__(self) -> None:
        if self.name not in _TRANSFORMS:
            raise ValueError(f"unknown target transform {self.name!r}; known: {', '.join(_TRANSFORMS)}")

    @classmethod
    def fit(cls, name: str, x: np.ndarray, Z, N) -> TargetTransform:
        if name not in _TRANSFORMS:
            raise ValueError(f"unknown target transform {name!r}; known: {', '.join(_TRANSFORMS)}")
        t = _TRANSFORMS[name][0](np.asarray(x, dtype=np.float64), np.asarray(Z, float), np.asarray(N, float))
        return cls(name=name, scaler=Scaler.fit(t))

    def forward(self, x, Z, N, dtype=np.float32) -> np.ndarray:
        """Observable (MeV or fm) -> standardised network target."""
        t = _TRANSFORMS[self.name][0](
            np.asarray(x, dtype=np.float64), np.asarray(Z, float), np.asarray(N, float)
        )
        return self.scaler.transform(t[:, None] if np.ndim(t) == 1 else t, dtype=dtype)[:, 0]

    def inverse(self, y, Z, N) -> np.ndarray:
        """Standardised network output -> observable (float64, MeV or fm)."""
        t = self.scaler.inverse(np.asarray(y).reshape(-1))
        return _TRANSFORMS[self.name][1](t, np.asarray(Z, float), np.asarray(N, float))

    def to_dict(self) -> dict:
        return {"name": self.name, **self.scaler.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping) -> TargetTransform:
        return cls(name=str(data["name"]), scaler=Scaler.from_dict(data))
