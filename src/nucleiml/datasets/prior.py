"""Priors over the seven nuclear-matter parameters (NMPs), as data: frozen dataclasses read from TOML.

A prior gives, per NMP, an independent distribution -- ``uniform`` on [low, high] or ``gaussian`` (mean,
std) truncated to [low, high] -- and the fixed meson and nucleon masses. Units: rho0 in fm^-3; E0, K0, Q0,
J0, L0 in MeV; mstar = M*/M dimensionless; masses in MeV. The default prior ships with the package
(``nucleiml/data/default_prior.toml``). File format::

    [masses]
    m_sigma = 500.0     # MeV; also m_omega, m_rho, M
    [nmp.rho0]
    distribution = "uniform"
    low = 0.14
    high = 0.17
    [nmp.K0]
    distribution = "gaussian"
    mean = 240.0
    std = 20.0
    low = 180.0
    high = 320.0
    ...

Sampling draws one uniform variate per sample and NMP (in the order of ``NMP_NAMES``) from an explicit
``numpy.random.Generator`` and maps it through the inverse CDF, so a (seed, chunk) pair fixes the samples.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType

import numpy as np

from .._paths import as_path
from .._toml import read_toml
from ..constants import (
    DEFAULT_M_OMEGA_MEV,
    DEFAULT_M_RHO_MEV,
    DEFAULT_M_SIGMA_MEV,
    DEFAULT_NUCLEON_MASS_MEV,
)
from ..parameters import (
    MASS_NAMES,
    NMP,
    NMP_INFO,
    NMP_NAMES,
    Couplings,
    ParameterError,
    _is_finite_real,
    check_int,
    shown,
)

__all__ = [
    "DISTRIBUTIONS",
    "Distribution",
    "Prior",
    "PriorError",
    "default_prior",
    "load_prior",
]

DISTRIBUTIONS = ("uniform", "gaussian")
"""Allowed values of ``distribution``."""

_DEFAULT_FILE = "default_prior.toml"


class PriorError(ParameterError):
    """A prior specification is invalid (names the file, the field and what is allowed)."""


def _real(where: str, value: object) -> float:
    if not _is_finite_real(value):
        raise PriorError(f"{where} must be a finite real number, got {shown(value)}")
    return float(value)


@dataclass(frozen=True)
class Distribution:
    """Distribution of one NMP: ``kind`` "uniform" on [low, high], or "gaussian" with ``mean`` and ``std``
    truncated to [low, high]. Values in the unit of the NMP (fm^-3 for rho0, MeV for energies)."""

    kind: str
    low: float
    high: float
    mean: float | None = None
    std: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in DISTRIBUTIONS:
            raise PriorError(
                f"distribution must be one of {', '.join(map(repr, DISTRIBUTIONS))}, got {self.kind!r}"
            )
        if not self.low < self.high:
            raise PriorError(f"need low < high, got low = {self.low!r}, high = {self.high!r}")
        if self.kind == "gaussian":
            if self.mean is None or self.std is None:
                raise PriorError("a gaussian distribution needs mean and std")
            if not self.std > 0:
                raise PriorError(f"std must be > 0, got {self.std!r}")
            if not self.low <= self.mean <= self.high:
                raise PriorError(
                    f"mean = {self.mean!r} must lie in [low, high] = [{self.low!r}, {self.high!r}]"
                )
        elif self.mean is not None or self.std is not None:
            raise PriorError("mean and std are only allowed for distribution = 'gaussian'")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF: map uniform variates u in [0, 1) to values of this distribution."""
        if self.kind == "uniform":
            return self.low + (self.high - self.low) * u
        from scipy.special import ndtr, ndtri

        a = ndtr((self.low - self.mean) / self.std)
        b = ndtr((self.high - self.mean) / self.std)
        x = self.mean + self.std * ndtri(a + (b - a) * u)
        return np.clip(x, self.low, self.high)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"distribution": self.kind, "low": self.low, "high": self.high}
        if self.kind == "gaussian":
            out.update(mean=self.mean, std=self.std)
        return out


@dataclass(frozen=True)
class Prior:
    """Independent distributions of the seven NMPs (``nmp``, keyed and ordered by ``NMP_NAMES``) and fixed
    masses (``masses``: m_sigma, m_omega, m_rho, M in MeV)."""

    nmp: Mapping[str, Distribution]
    masses: Mapping[str, float]

    def __post_init__(self) -> None:
        missing = [k for k in NMP_NAMES if k not in self.nmp]
        unknown = [k for k in self.nmp if k not in NMP_NAMES]
        if missing or unknown:
            raise PriorError(
                f"prior must give exactly the NMPs {', '.join(NMP_NAMES)}"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; unknown {', '.join(unknown)}" if unknown else "")
            )
        for name in NMP_NAMES:
            d = self.nmp[name]
            lo, hi, lo_open = NMP.RANGES[name]
            if (d.low <= lo if lo_open else d.low < lo) or d.high > hi:
                unit = f" {NMP_INFO[name][0]}" if NMP_INFO[name][0] else ""
                raise PriorError(
                    f"nmp.{name}: range [{d.low:g}, {d.high:g}] leaves the allowed range "
                    f"{'(' if lo_open else '['}{lo:g}, {hi:g}]{unit}"
                )
        masses = {k: _real(f"masses.{k}", self.masses.get(k, _DEFAULT_MASSES[k])) for k in MASS_NAMES}
        unknown = [k for k in self.masses if k not in MASS_NAMES]
        if unknown:
            raise PriorError(f"unknown mass(es) {', '.join(unknown)}; allowed: {', '.join(MASS_NAMES)}")
        for k, v in masses.items():
            lo, hi, _ = Couplings.RANGES[k]
            if not lo <= v <= hi:
                raise PriorError(f"masses.{k} = {v!r} is outside the allowed range [{lo:g}, {hi:g}] MeV")
        object.__setattr__(self, "nmp", MappingProxyType({k: self.nmp[k] for k in NMP_NAMES}))
        object.__setattr__(self, "masses", MappingProxyType(masses))

    def sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``n`` samples as a dict of float arrays keyed by ``NMP_NAMES`` (fm^-3, MeV).

        Draws ``rng.random((7, n))`` once: the values depend only on the generator state and ``n``.

        Raises
        ------
        ParameterError
            If ``n`` is not an integer in [0, 1e9] or ``rng`` not a numpy Generator.
        """
        if not isinstance(rng, np.random.Generator):
            raise PriorError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        n = check_int("n", n, 0, 10**9)
        u = rng.random((len(NMP_NAMES), n))
        return {k: self.nmp[k].ppf(u[i]) for i, k in enumerate(NMP_NAMES)}

    def to_dict(self) -> dict[str, object]:
        """Plain data in the TOML layout: ``{"masses": {...}, "nmp": {name: {...}}}``."""
        return {"masses": dict(self.masses), "nmp": {k: d.to_dict() for k, d in self.nmp.items()}}

    @classmethod
    def from_dict(cls, data: Mapping, *, source: str = "prior") -> Prior:
        """Build from plain data (parsed TOML or a dataset card); errors name ``source`` and the field."""
        if not isinstance(data, Mapping):
            raise PriorError(f"{source}: expected a table with [masses] and [nmp.<name>] sections")
        unknown = [k for k in data if k not in ("masses", "nmp")]
        if unknown:
            raise PriorError(f"{source}: unknown section(s) {', '.join(unknown)}; allowed: masses, nmp")
        masses_raw = data.get("masses", {})
        if not isinstance(masses_raw, Mapping):
            raise PriorError(f"{source}: [masses] must be a table of {', '.join(MASS_NAMES)} in MeV")
        nmp_raw = data.get("nmp")
        if not isinstance(nmp_raw, Mapping):
            raise PriorError(f"{source}: missing [nmp.<name>] tables for {', '.join(NMP_NAMES)}")
        try:
            masses = {k: _real(f"masses.{k}", v) for k, v in masses_raw.items()}
            dists: dict[str, Distribution] = {}
            for name, spec in nmp_raw.items():
                where = f"nmp.{name}"
                if name not in NMP_NAMES:
                    raise PriorError(f"unknown NMP {where}; allowed: {', '.join(NMP_NAMES)}")
                if not isinstance(spec, Mapping):
                    raise PriorError(f"{where} must be a table with distribution, low, high (and mean, std)")
                bad = [k for k in spec if k not in ("distribution", "low", "high", "mean", "std")]
                if bad:
                    raise PriorError(
                        f"{where}: unknown key(s) {', '.join(bad)}; allowed: distribution, low, high, mean, std"
                    )
                kind = spec.get("distribution")
                if kind not in DISTRIBUTIONS:
                    raise PriorError(
                        f"{where}.distribution must be one of {', '.join(map(repr, DISTRIBUTIONS))}, got {kind!r}"
                    )
                for key in ("low", "high"):
                    if key not in spec:
                        raise PriorError(f"{where}: missing {key} (the range of the {kind} distribution)")
                try:
                    dists[name] = Distribution(
                        kind=kind,
                        low=_real(f"{where}.low", spec["low"]),
                        high=_real(f"{where}.high", spec["high"]),
                        mean=_real(f"{where}.mean", spec["mean"]) if "mean" in spec else None,
                        std=_real(f"{where}.std", spec["std"]) if "std" in spec else None,
                    )
                except PriorError as exc:
                    msg = str(exc)
                    raise PriorError(msg if msg.startswith(where) else f"{where}: {msg}") from None
            return cls(nmp=dists, masses=masses)
        except PriorError as exc:
            raise PriorError(f"{source}: {exc}") from None


_DEFAULT_MASSES = {
    "m_sigma": DEFAULT_M_SIGMA_MEV,
    "m_omega": DEFAULT_M_OMEGA_MEV,
    "m_rho": DEFAULT_M_RHO_MEV,
    "M": DEFAULT_NUCLEON_MASS_MEV,
}


def load_prior(path: str | Path | None = None) -> Prior:
    """Read a prior TOML file (None: the default prior shipped with the package).

    Raises
    ------
    PriorError
        If the path is not a path, the file cannot be read, is not UTF-8 TOML, or a field is invalid (the
        message names the file and the field).
    """
    if path is None:
        return default_prior()
    p = as_path(path, "prior file", PriorError)
    _, data = read_toml(p, "prior", PriorError)
    return Prior.from_dict(data, source=f"prior file {str(p)!r}")


def default_prior() -> Prior:
    """The default (uniform, deliberately wide) prior: ``nucleiml/data/default_prior.toml``."""
    text = resources.files("nucleiml").joinpath("data", _DEFAULT_FILE).read_text(encoding="utf-8")
    return Prior.from_dict(tomllib.loads(text), source=f"nucleiml/data/{_DEFAULT_FILE}")
