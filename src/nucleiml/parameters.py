"""Validated, immutable parameter sets: Lagrangian couplings and nuclear-matter parameters.

Conventions follow the seed paper (Dutra et al., PRC 90, 055203 (2014)):
``M* = M - g_sigma sigma``; self-interactions ``-(A/3) sigma^3 - (B/4) sigma^4 + (C/4)(g_omega^2 omega.omega)^2``
and the cross term ``+(1/2) Lambda_v g_omega^2 g_rho^2 (omega.omega)(rho.rho)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, fields
from numbers import Integral, Real
from types import MappingProxyType

import numpy as np

from .constants import (
    DEFAULT_M_OMEGA_MEV,
    DEFAULT_M_RHO_MEV,
    DEFAULT_M_SIGMA_MEV,
    DEFAULT_NUCLEON_MASS_MEV,
)


class ParameterError(ValueError):
    """A parameter is not a finite number or lies outside its allowed range."""


def shown(value) -> str:
    """``repr(value)`` for an error message, short for integers too long to print (Python refuses to
    convert ints of more than 4300 digits to text) and for long strings."""
    if isinstance(value, Integral) and not isinstance(value, bool) and abs(int(value)).bit_length() > 200:
        return f"an integer of about {int(abs(int(value)).bit_length() * 0.30103) + 1} digits"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_finite_real(value) -> bool:
    """A real number (not a bool) that converts to a finite float."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _check(name: str, value, lo: float, hi: float, *, lo_open: bool = False) -> float:
    """Return ``value`` as float if it is a finite real number in [lo, hi] (or (lo, hi])."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ParameterError(f"{name} must be a real number, got {shown(value)} ({type(value).__name__})")
    try:
        v = float(value)
    except OverflowError:  # an int (or Fraction) beyond the float range: not printable in full
        left = "(" if lo_open else "["
        raise ParameterError(
            f"{name} = a number beyond the float range (|x| > 1.8e308) is outside the allowed "
            f"range {left}{lo}, {hi}]"
        ) from None
    if not math.isfinite(v):
        raise ParameterError(f"{name} must be finite, got {v!r}")
    below = v <= lo if lo_open else v < lo
    if below or v > hi:
        left = "(" if lo_open else "["
        raise ParameterError(f"{name} = {v!r} is outside the allowed range {left}{lo}, {hi}]")
    return v


def check_int(name: str, value, lo: int, hi: int) -> int:
    """Return ``value`` as int if it is an integer (not a bool) in [lo, hi]; else :class:`ParameterError`."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ParameterError(
            f"{name} must be an integer in [{lo}, {hi}], got {value!r} ({type(value).__name__})"
        )
    if not lo <= value <= hi:
        raise ParameterError(f"{name} = {int(value)} is outside the allowed range [{lo}, {hi}]")
    return int(value)


class _RangeChecked:
    """Mixin for frozen dataclasses of floats validated against a class-level ``RANGES`` table
    {field: (lo, hi, lo_open)}."""

    RANGES: MappingProxyType = MappingProxyType({})

    def __post_init__(self) -> None:
        for f in fields(self):
            lo, hi, lo_open = self.RANGES[f.name]
            object.__setattr__(self, f.name, _check(f.name, getattr(self, f.name), lo, hi, lo_open=lo_open))

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping):
        """Build from a mapping of field names to values.

        Raises
        ------
        ParameterError
            If ``data`` is not a mapping, has unknown or missing fields, or a value is invalid.
        """
        if not isinstance(data, Mapping):
            raise ParameterError(f"{cls.__name__}.from_dict expects a mapping, got {type(data).__name__}")
        names = {f.name for f in fields(cls)}
        unknown = [k for k in data if k not in names]
        if unknown:
            raise ParameterError(f"unknown {cls.__name__} field(s): {sorted(map(str, unknown))}")
        missing = [f.name for f in fields(cls) if f.name not in data and f.default is MISSING]
        if missing:
            raise ParameterError(f"{cls.__name__} lacks the field(s) {', '.join(missing)}")
        return cls(**data)


def check_array_ranges(columns: dict, ranges, names) -> None:
    """Raise :class:`ParameterError` naming the first non-finite or out-of-range entry of ``columns[name]``
    (1-D arrays) against ``ranges[name] = (lo, hi, lo_open)``."""
    for name in names:
        v = columns[name]
        lo, hi, lo_open = ranges[name]
        bad = ~np.isfinite(v) | (v > hi) | ((v <= lo) if lo_open else (v < lo))
        if np.any(bad):
            j = int(np.argmax(bad))
            left = "(" if lo_open else "["
            raise ParameterError(
                f"{name}[{j}] = {v[j]!r} is not finite or outside the allowed range {left}{lo}, {hi}]"
            )


@dataclass(frozen=True)
class Couplings(_RangeChecked):
    """Couplings of the nonlinear RMF Lagrangian.

    Attributes
    ----------
    g_sigma, g_omega, g_rho : nucleon-meson couplings (dimensionless, > 0).
    A : cubic sigma self-coupling in fm^-1 (A / hbar c).
    B : quartic sigma self-coupling (dimensionless).
    C : quartic omega self-coupling (dimensionless, >= 0).
    Lambda_v : omega-rho cross coupling (dimensionless).
    m_sigma, m_omega, m_rho, M : meson and nucleon masses in MeV.
    """

    g_sigma: float
    g_omega: float
    g_rho: float
    A: float
    B: float
    C: float
    Lambda_v: float
    m_sigma: float = DEFAULT_M_SIGMA_MEV
    m_omega: float = DEFAULT_M_OMEGA_MEV
    m_rho: float = DEFAULT_M_RHO_MEV
    M: float = DEFAULT_NUCLEON_MASS_MEV

    RANGES = MappingProxyType(
        {
            "g_sigma": (0.0, 100.0, True),
            "g_omega": (0.0, 100.0, True),
            "g_rho": (0.0, 100.0, True),
            "A": (-1e3, 1e3, False),
            "B": (-1e5, 1e5, False),
            "C": (0.0, 1.0, False),
            "Lambda_v": (-1.0, 1.0, False),
            "m_sigma": (100.0, 2000.0, False),
            "m_omega": (100.0, 2000.0, False),
            "m_rho": (100.0, 2000.0, False),
            "M": (500.0, 2000.0, False),
        }
    )


COUPLING_NAMES = ("g_sigma", "g_omega", "g_rho", "A", "B", "C", "Lambda_v")
MASS_NAMES = ("m_sigma", "m_omega", "m_rho", "M")


@dataclass(frozen=True)
class NMP(_RangeChecked):
    """Nuclear-matter parameters at the saturation density of symmetric matter.

    Attributes
    ----------
    rho0 : saturation density in fm^-3.
    E0 : energy per nucleon minus M at rho0, MeV.
    K0 : incompressibility, MeV.
    Q0 : skewness, MeV.
    mstar : Dirac effective mass M*/M (dimensionless).
    J0 : symmetry energy, MeV.
    L0 : slope of the symmetry energy, MeV.
    """

    rho0: float
    E0: float
    K0: float
    Q0: float
    mstar: float
    J0: float
    L0: float

    # Physical (not prior) ranges: generous bounds outside which the model makes no sense.
    RANGES = MappingProxyType(
        {
            "rho0": (0.05, 0.40, True),
            "E0": (-40.0, 0.0, False),
            "K0": (0.0, 1000.0, True),
            "Q0": (-5000.0, 5000.0, False),
            "mstar": (0.2, 1.0, True),
            "J0": (0.0, 100.0, True),
            "L0": (-200.0, 400.0, False),
        }
    )


NMP_NAMES = ("rho0", "E0", "K0", "Q0", "mstar", "J0", "L0")

NMP_INFO = MappingProxyType(
    {
        "rho0": ("fm^-3", "saturation density"),
        "E0": ("MeV", "energy per nucleon at rho0 (minus M)"),
        "K0": ("MeV", "incompressibility"),
        "Q0": ("MeV", "skewness"),
        "mstar": ("", "Dirac effective mass M*/M"),
        "J0": ("MeV", "symmetry energy"),
        "L0": ("MeV", "slope of the symmetry energy"),
        "Ksym": ("MeV", "curvature of the symmetry energy"),
    }
)
"""(unit, description) of each nuclear-matter parameter (and of Ksym, derived from the couplings): the one
table the command line, the prior, the dataset columns, posterior files and plots read ('' = dimensionless)."""

COUPLING_INFO = MappingProxyType(
    {
        "g_sigma": ("", "sigma-nucleon coupling"),
        "g_omega": ("", "omega-nucleon coupling"),
        "g_rho": ("", "rho-nucleon coupling"),
        "A": ("fm^-1", "cubic sigma self-coupling"),
        "B": ("", "quartic sigma self-coupling"),
        "C": ("", "quartic omega self-coupling"),
        "Lambda_v": ("", "omega-rho cross coupling"),
        "m_sigma": ("MeV", "sigma mass"),
        "m_omega": ("MeV", "omega mass"),
        "m_rho": ("MeV", "rho mass"),
        "M": ("MeV", "nucleon mass"),
    }
)
"""(unit, description) of each Lagrangian coupling and mass, in this package's conventions."""


def described(name: str) -> str:
    """``"description [unit]"`` of an NMP, coupling or mass name (the description alone if dimensionless),
    from :data:`NMP_INFO` / :data:`COUPLING_INFO`."""
    unit, description = NMP_INFO[name] if name in NMP_INFO else COUPLING_INFO[name]
    return f"{description} [{unit}]" if unit else description


def real_array(values, what: str) -> np.ndarray:
    """``values`` as a float64 array; :class:`ParameterError` (naming ``what``) for complex numbers, numbers
    beyond the float range and anything that is not a number."""
    try:
        if np.iscomplexobj(values):
            raise ParameterError(f"{what} must be real numbers, got complex values")
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        if isinstance(exc, ParameterError):
            raise
        raise ParameterError(f"{what} must be real numbers (finite, within the float range): {exc}") from None


def as_nmp_matrix(nmp) -> np.ndarray:
    """NMP rows as an (n, 7) float64 array in the order ``rho0, E0, K0, Q0, mstar, J0, L0``.

    Accepts an (n, 7) array (or one row of 7), a mapping of equal-length arrays keyed by the NMP names
    (other keys are ignored), an :class:`~nucleiml.NMP` or a sequence of them. Raises
    :class:`~nucleiml.ParameterError` for a wrong shape, missing names, non-numbers, NaN or infinities.
    """
    if isinstance(nmp, NMP):
        return np.array([[getattr(nmp, k) for k in NMP_NAMES]], dtype=np.float64)
    if isinstance(nmp, Mapping):
        missing = [k for k in NMP_NAMES if k not in nmp]
        if missing:
            raise ParameterError(
                f"NMP mapping lacks {', '.join(missing)}; need all of {', '.join(NMP_NAMES)}"
            )
        cols = [np.atleast_1d(real_array(nmp[k], f"NMP mapping value {k!r}")) for k in NMP_NAMES]
        shapes = {c.shape for c in cols}
        if len(shapes) != 1 or cols[0].ndim != 1:
            raise ParameterError(
                "NMP mapping values must be 1-D arrays of one length, got shapes "
                + ", ".join(f"{k} {c.shape}" for k, c in zip(NMP_NAMES, cols))
            )
        arr = np.stack(cols, axis=1)
    elif isinstance(nmp, Sequence) and len(nmp) > 0 and all(isinstance(v, NMP) for v in nmp):
        arr = np.array([[getattr(v, k) for k in NMP_NAMES] for v in nmp], dtype=np.float64)
    else:
        try:
            arr = real_array(nmp, "nmp")
        except ParameterError as exc:
            raise ParameterError(
                f"nmp must be an (n, 7) array of real numbers in the order {', '.join(NMP_NAMES)}, a mapping of "
                f"arrays or NMP objects; got {type(nmp).__name__} ({exc})"
            ) from None
        if arr.ndim == 1 and arr.shape[0] == 7:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != 7:
            raise ParameterError(
                f"nmp array must have shape (n, 7) with columns {', '.join(NMP_NAMES)}, got shape {arr.shape}"
            )
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ParameterError(f"{NMP_NAMES[j]}[{i}] = {float(arr[i, j])!r} is not a finite number")
    return arr


def _mapping_columns(couplings: Mapping) -> dict[str, np.ndarray]:
    names = (*COUPLING_NAMES, *MASS_NAMES)
    missing = [k for k in names if k not in couplings]
    if missing:
        raise ParameterError(f"couplings mapping lacks {missing}")
    cols = {k: real_array(couplings[k], f"couplings column {k!r}") for k in names}
    for k, v in cols.items():
        if v.ndim > 1:
            raise ParameterError(f"couplings column {k!r} must be a scalar or 1-D, got shape {v.shape}")
    sizes = {v.size for v in cols.values() if v.ndim == 1} - {1}
    if len(sizes) > 1:
        raise ParameterError(
            "couplings columns must have one length (or be scalars), got "
            + ", ".join(f"{k} {v.size}" for k, v in cols.items() if v.ndim == 1)
        )
    n = sizes.pop() if sizes else 1
    cols = {k: np.broadcast_to(np.atleast_1d(v), (n,)).astype(float) for k, v in cols.items()}
    check_array_ranges(cols, Couplings.RANGES, names)
    return cols


def couplings_columns(couplings) -> dict[str, np.ndarray]:
    """A batch of parameter sets as columns: a Couplings, a sequence of them, or a mapping of arrays keyed by
    the coupling and mass names (masses may be scalars) -> dict of (m,) float arrays (A in fm^-1, masses
    in MeV).

    Raises
    ------
    ParameterError
        Naming the column or member that is missing, of the wrong type or shape, or out of range.
    """
    if isinstance(couplings, Couplings):
        couplings = [couplings]
    if isinstance(couplings, Mapping):
        return _mapping_columns(couplings)
    if isinstance(couplings, str | bytes) or not isinstance(couplings, Iterable):
        raise ParameterError(
            f"couplings must be a Couplings, a sequence of them or a mapping of arrays, got {type(couplings).__name__}"
        )
    items = list(couplings)
    for i, c in enumerate(items):
        if not isinstance(c, Couplings):
            raise ParameterError(f"couplings[{i}] must be a Couplings, got {type(c).__name__}")
    return {k: np.array([getattr(c, k) for c in items], dtype=float) for k in (*COUPLING_NAMES, *MASS_NAMES)}
