"""Inputs and targets of the emulator networks: feature assembly, scalers and target transforms (numpy only).

A network input row is built from the seven nuclear-matter parameters (NMPs, in the order ``rho0, E0, K0,
Q0, mstar, J0, L0``; fm^-3, MeV, mstar = M*/M) and the nucleus (Z, N), followed by optional *derived*
features: of the nucleus, exact functions of (Z, N) (e.g. ``A^(1/3)``), and of the Lagrangian couplings
that the NMPs map to (:func:`nucleiml.couplings_from_nmp_array`, exact and cheap; the solver works with
the couplings, so observables and non-convergence are smoother functions of them than of the NMPs). Every
feature is then standardised, ``(x - mean) / std``, with statistics of the training rows stored beside the
weights. Coupling features are undefined (NaN) where no physical couplings exist (the exact *nc_a* class);
no network is evaluated there.

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

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..parameters import COUPLING_NAMES, NMP_NAMES, ParameterError

__all__ = [
    "BASE_FEATURES",
    "COUPLING_FEATURES",
    "DERIVED_FEATURES",
    "OPTIONAL_NETWORKS",
    "RN",
    "SKIN",
    "TARGET_TRANSFORMS",
    "Scaler",
    "TargetTransform",
    "assemble",
    "check_feature_names",
]

SKIN = "neutron_skin"
"""The optional regressor of the neutron skin Rn - Rp itself (fm, on convergent rows)."""
RN = "neutron_radius"
"""The optional regressor of the point-neutron radius Rn (fm, on convergent rows), from which the emulator
predicts the skin Rn - Rp with Rp from its charge radius; the ``default`` preset's (it predicts the skin
better than the skin regressor: docs/emulator.md, 'Neutron skins')."""
OPTIONAL_NETWORKS = (SKIN, RN)
"""At most one of them per preset."""

BASE_FEATURES = (*NMP_NAMES, "Z", "N")
"""The seven NMPs and the nucleus: every model takes at least these inputs, in this order."""

DERIVED_FEATURES: Mapping[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    # exact functions of (Z, N) that make the size and isospin dependence of nuclei nearly linear
    "A13": lambda Z, N: np.cbrt(Z + N),  # A^(1/3), the radius scale
    "I": lambda Z, N: (N - Z) / (Z + N),  # isospin asymmetry (N - Z) / A
    "Z2A13": lambda Z, N: Z * Z / np.cbrt(Z + N),  # Coulomb scale Z^2 / A^(1/3)
    # shell structure: sum of <l.s> over the occupied orbitals of the independent-particle shell model
    "ls_p": lambda Z, N: spin_orbit_sum(Z),
    "ls_n": lambda Z, N: spin_orbit_sum(N),
}
"""Named derived features of the nucleus; a model lists the ones it uses after ``BASE_FEATURES``."""

SHELL_MODEL_ORBITALS = (
    # (l, 2j) in the filling order of the independent-particle shell model with spin-orbit coupling
    # (Mayer-Jensen; between 82 and 126 the neutron order), magic numbers 2, 8, 20, 28, 50, 82, 126, 184
    (0, 1), (1, 3), (1, 1), (2, 5), (0, 1), (2, 3), (3, 7), (1, 3), (3, 5), (1, 1), (4, 9), (4, 7), (2, 5),
    (2, 3), (0, 1), (5, 11), (3, 7), (5, 9), (6, 13), (1, 3), (3, 5), (1, 1), (4, 9), (2, 5), (6, 11),
    (4, 7), (0, 1), (2, 3), (7, 15),
)  # fmt: skip
"""Orbitals (l, 2j) of one nucleon species in filling order, for 0 to 184 nucleons."""


def spin_orbit_sum(n_nucleons) -> np.ndarray:
    """Sum of <l.s> (hbar^2) over ``n_nucleons`` nucleons of one species filling :data:`SHELL_MODEL_ORBITALS`
    in order, a partly filled last orbital counted by its share.

    <l.s> is l/2 for j = l + 1/2 and -(l + 1)/2 for j = l - 1/2, so spin-orbit partners that are both full
    cancel: the sum is zero at the harmonic-oscillator magic numbers 2, 8, 20, 40 and grows with each
    j = l + 1/2 orbital filled without its partner: the sum is 12 at 28 nucleons, 20 at 50, 30 at 82 and 42
    at 126 (tested). A fixed, parameter-free function of the nucleon number that marks spin-orbit closed
    shells (e.g. N = Z = 28 in 56Ni, between 48Ca and the nickel isotopes), which Z and N alone do not; what
    it did for the unseen-nuclei bands is measured in the README (section "The shipped default model").

    Raises
    ------
    ParameterError
        If a nucleon number is negative or above 184.
    """
    n = np.asarray(n_nucleons, dtype=np.float64)
    if np.any(n < 0) or np.any(n > _ORBITAL_EDGES[-1]):
        raise ParameterError(f"nucleon number must be within 0..{int(_ORBITAL_EDGES[-1])}, got {n_nucleons}")
    filled = np.clip(n[..., None] - _ORBITAL_EDGES[:-1], 0.0, _ORBITAL_SIZES)
    return filled @ _ORBITAL_LS


_ORBITAL_SIZES = np.array([j2 + 1.0 for _, j2 in SHELL_MODEL_ORBITALS])
_ORBITAL_EDGES = np.concatenate([[0.0], np.cumsum(_ORBITAL_SIZES)])
_ORBITAL_LS = np.array([0.5 * l if j2 == 2 * l + 1 else -0.5 * (l + 1) for l, j2 in SHELL_MODEL_ORBITALS])


C_FLOOR = 1e-6
"""The quartic omega coupling C (>= 0) enters ``log10_C`` as log10(C + C_FLOOR): C = 0 (a common choice)
and the prior's values 1e-4 to 2e-2 stay finite and apart."""

COUPLING_FEATURES: Mapping[str, Callable[[Mapping[str, np.ndarray]], np.ndarray]] = {
    **{name: (lambda c, name=name: np.asarray(c[name], dtype=np.float64)) for name in COUPLING_NAMES},
    # the sign of B decides whether the sigma self-interaction is bounded below (B > 0) or not
    "sign_B": lambda c: np.sign(np.asarray(c["B"], dtype=np.float64)),
    "log10_1p_abs_B": lambda c: np.log10(1.0 + np.abs(np.asarray(c["B"], dtype=np.float64))),
    "log10_C": lambda c: np.log10(np.asarray(c["C"], dtype=np.float64) + C_FLOOR),
}
"""Named features of the Lagrangian couplings (``g_sigma, g_omega, g_rho, A`` [fm^-1], ``B, C, Lambda_v``,
dimensionless; this package's conventions, :class:`nucleiml.Couplings`) and three transforms of B and C.
A model lists the ones it uses after its nucleus features."""


COUPLING_FEATURES_FLOAT: Mapping[str, Callable[[Mapping[str, float]], float]] = {
    **{name: (lambda c, name=name: c[name]) for name in COUPLING_NAMES},
    "sign_B": lambda c: float(np.sign(c["B"])),
    "log10_1p_abs_B": lambda c: math.log10(1.0 + abs(c["B"])),
    "log10_C": lambda c: math.log10(c["C"] + C_FLOOR),
}
""":data:`COUPLING_FEATURES` of one row's couplings as floats (the one-row path of prediction; the same
values to round-off)."""


def check_feature_names(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` as a tuple if it is ``BASE_FEATURES`` followed by distinct known nucleus features and then
    distinct known coupling features."""
    names = tuple(names)
    base = len(BASE_FEATURES)
    if names[:base] != BASE_FEATURES:
        raise ParameterError(f"features must start with {list(BASE_FEATURES)}, got {list(names)}")
    extra = names[base:]
    n_nuc = 0
    while n_nuc < len(extra) and extra[n_nuc] in DERIVED_FEATURES:
        n_nuc += 1
    wrong = [n for n in extra[n_nuc:] if n not in COUPLING_FEATURES]
    if wrong or len(set(extra)) != len(extra):
        raise ParameterError(
            f"after {list(BASE_FEATURES)} come distinct nucleus features from {sorted(DERIVED_FEATURES)}, "
            f"then distinct coupling features from {list(COUPLING_FEATURES)}; got {list(extra)}"
        )
    return names


def nucleus_feature(name: str, Z, N):
    """The nucleus feature ``name`` ("Z", "N" or one of :data:`DERIVED_FEATURES`) for proton and neutron
    numbers ``Z``, ``N`` (float64 scalars or arrays)."""
    if name == "Z":
        return Z
    if name == "N":
        return N
    return DERIVED_FEATURES[name](Z, N)


def nucleus_columns(names: Sequence[str]) -> np.ndarray:
    """Indices of the features that depend on the nucleus only (Z, N and the derived nucleus features)."""
    return np.array([j for j, n in enumerate(names) if n in ("Z", "N") or n in DERIVED_FEATURES], dtype=int)


def uses_couplings(names: Sequence[str]) -> bool:
    """Whether any feature is a function of the couplings (then :func:`assemble` needs them)."""
    return any(n in COUPLING_FEATURES for n in names)


def couplings_of(nmp: np.ndarray, masses: Mapping[str, float]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(ok, couplings) of NMP rows ``nmp`` (n, 7) inverted with meson and nucleon ``masses`` (MeV): ``ok``
    (n,) bool is False where no physical couplings exist (nc_a); ``couplings`` maps each coupling name to an
    (n,) array, NaN where not ``ok``."""
    from ..nuclear_matter import couplings_from_nmp_array

    inv = couplings_from_nmp_array(np.asarray(nmp, dtype=np.float64), **masses)
    return inv.ok, inv.couplings


def assemble(
    nmp: np.ndarray, Z, N, names: Sequence[str], dtype=np.float64, couplings: Mapping | None = None
) -> np.ndarray:
    """The (n, len(names)) feature matrix of NMP rows ``nmp`` (n, 7) with proton and neutron numbers ``Z``
    and ``N`` (scalars or (n,) arrays) and, if ``names`` has coupling features, the couplings of the rows
    (a mapping of (n,) arrays keyed by :data:`nucleiml.parameters.COUPLING_NAMES`; NaN rows stay NaN)."""
    nmp = np.asarray(nmp, dtype=np.float64)
    n = nmp.shape[0]
    Z = np.broadcast_to(np.asarray(Z, dtype=np.float64), (n,))
    N = np.broadcast_to(np.asarray(N, dtype=np.float64), (n,))
    out = np.empty((n, len(names)), dtype=dtype)
    out[:, :7] = nmp
    out[:, 7] = Z
    out[:, 8] = N
    if uses_couplings(names) and couplings is None:
        raise ValueError("these features include couplings: pass couplings=")
    for j, name in enumerate(names[len(BASE_FEATURES) :], start=len(BASE_FEATURES)):
        if name in DERIVED_FEATURES:
            out[:, j] = nucleus_feature(name, Z, N)
        else:
            out[:, j] = COUPLING_FEATURES[name](couplings)
    return out


@dataclass(frozen=True)
class Scaler:
    """Standardisation ``(x - mean) / scale`` per column; ``mean`` and ``scale`` are 1-D float64 arrays."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Scaler:
        """Mean and standard deviation of the columns of ``x`` over their finite entries (NaN: undefined,
        e.g. coupling features of nc_a rows); a constant column gets scale 1."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        if x.shape[0] == 0:
            raise ValueError("cannot fit a scaler on zero rows")
        finite = np.isfinite(x)
        if not finite.any(axis=0).all():
            raise ValueError("cannot fit a scaler on a column without finite values")
        mean = np.nanmean(np.where(finite, x, np.nan), axis=0)
        scale = np.nanstd(np.where(finite, x, np.nan), axis=0)
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

    def factor(self, Z, N) -> float:
        """g(Z, N) with ``inverse(y) = scaler.inverse(y) * g`` for one nucleus: every transform is a
        product, so this gives :meth:`inverse`'s numbers bit for bit with g computed once per nucleus."""
        return float(_TRANSFORMS[self.name][1](1.0, np.asarray(Z, float), np.asarray(N, float)))

    def to_dict(self) -> dict:
        return {"name": self.name, **self.scaler.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping) -> TargetTransform:
        return cls(name=str(data["name"]), scaler=Scaler.from_dict(data))
