"""Public interface of the neutron-star chain: configuration, results, ``star`` and ``star_batch``.

couplings (or NMPs, inverted exactly) -> beta-equilibrated n, p, e, mu core (:mod:`.matter`) -> SLy4
crust and bridge (:mod:`.crust`) -> TOV with tidal deformability (:mod:`.tov`) -> the stable M-R-Lambda
sequence and its summary (:mod:`.sequence`). A tabulated EoS enters at the crust step
(:func:`star_from_table`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np

from ..parameters import NMP, Couplings, ParameterError, couplings_columns
from ..presets import get_preset
from .crust import Junction, find_junction, glue_core, glue_table, load_crust
from .matter import BetaEquilibrium, beta_equilibrium_kernel, scaled_couplings_arrays
from .sequence import StarStatus, sequence_kernel

__all__ = [
    "SUMMARY_FIELDS",
    "StarBatch",
    "StarConfig",
    "StarResult",
    "StarSummary",
    "beta_equilibrium",
    "star",
    "star_batch",
    "star_from_table",
]

CORE_START_DENSITY = 0.04
"""Lowest density of the core grid, fm^-3 (the smallest junction density allowed)."""


@dataclass(frozen=True)
class StarConfig:
    """Settings of the neutron-star chain (validated on construction).

    junction : density where the crust-core bridge meets the core, fm^-3 in [0.04, 0.16], or
        ``"half_rho0"`` for half of each set's saturation density. Taken at the first core grid density at
        or above it; moved up where the core is unstable there (see :mod:`nucleiml.stars.crust`).
    crust_end : the SLy4 crust table is used up to its last row at or below this density, fm^-3, in
        [2.5e-4, 0.076]; the bridge P = a + b eps^(4/3) spans from there to the junction.
    max_junction : largest junction density allowed when the junction has to move up, fm^-3.
    n_max : top of the core density grid, fm^-3, in [0.5, 4].
    points_per_octave : core grid density: n_k = 0.04 * 2^(k / points_per_octave) fm^-3, in [8, 200].
    n_intervals : enthalpy intervals of the TOV node grid (one RK4 step each), in [16, 4000].
    stretch : node spacing refinement towards the surface (0 = uniform), in [0, 8].
    min_central_pressure : smallest central pressure of the sequence, MeV fm^-3, in [0.1, 100].
    star_stride : a star is centred on every star_stride-th node, in [1, 8].
    """

    junction: float | str = 0.08
    crust_end: float = 0.04
    max_junction: float = 0.16
    n_max: float = 2.0
    points_per_octave: int = 28
    n_intervals: int = 96
    stretch: float = 3.0
    min_central_pressure: float = 5.0
    star_stride: int = 2

    def __post_init__(self) -> None:
        def need(cond: bool, name: str, allowed: str) -> None:
            if not cond:
                v = getattr(self, name)
                shown = (
                    f"an integer of {len(str(abs(v)))} digits"
                    if isinstance(v, int) and abs(v) > 1e15
                    else repr(v)
                )
                raise ParameterError(f"StarConfig.{name} = {shown[:80]} must be {allowed}")

        def real(v, lo, hi) -> bool:
            if isinstance(v, bool) or not isinstance(v, int | float):
                return False
            try:
                return math.isfinite(float(v)) and lo <= float(v) <= hi
            except OverflowError:  # an int beyond the float range
                return False

        def integer(v, lo, hi) -> bool:
            return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi

        need(
            self.junction == "half_rho0" or real(self.junction, CORE_START_DENSITY, 0.16),
            "junction",
            "a density in [0.04, 0.16] fm^-3 or 'half_rho0'",
        )
        need(real(self.crust_end, 2.5e-4, 0.076), "crust_end", "in [2.5e-4, 0.076] fm^-3")
        need(real(self.max_junction, CORE_START_DENSITY, 0.3), "max_junction", "in [0.04, 0.3] fm^-3")
        need(real(self.n_max, 0.5, 4.0), "n_max", "in [0.5, 4] fm^-3")
        need(integer(self.points_per_octave, 8, 200), "points_per_octave", "an integer in [8, 200]")
        need(integer(self.n_intervals, 16, 4000), "n_intervals", "an integer in [16, 4000]")
        need(real(self.stretch, 0.0, 8.0), "stretch", "in [0, 8]")
        need(real(self.min_central_pressure, 0.1, 100.0), "min_central_pressure", "in [0.1, 100] MeV fm^-3")
        need(integer(self.star_stride, 1, 8), "star_stride", "an integer in [1, 8]")

    def density_grid(self) -> np.ndarray:
        """The core's baryon-density grid, fm^-3."""
        k = math.floor(self.points_per_octave * math.log2(self.n_max / CORE_START_DENSITY) + 1e-9)
        return CORE_START_DENSITY * 2.0 ** (np.arange(k + 1) / self.points_per_octave)


SUMMARY_FIELDS = {
    "M_max": "Msun",
    "R_M_max": "km",
    "n_c_M_max": "fm^-3",
    "eps_c_M_max": "MeV fm^-3",
    "R_14": "km",
    "Lambda_14": "",
    "R_20": "km",
    "Lambda_20": "",
    "cs2_max": "c^2",
    "junction_density": "fm^-3",
}
"""Summary quantities and their units: the maximum mass, its radius, central baryon and energy densities;
radius and tidal deformability at 1.4 and 2.0 Msun; the largest c_s^2 up to the centre of the maximum-mass
star; the density where crust and core were joined."""


@dataclass(frozen=True)
class StarSummary:
    """Summary of one EoS's star sequence (units in :data:`SUMMARY_FIELDS`); NaN where undefined (e.g.
    R_20 when M_max < 2 Msun, M_max when the sequence is cut before its maximum). ``status`` says why
    the sequence is cut and ``reason`` in words; ``junction_moved`` whether the junction had to move above
    the requested density."""

    status: StarStatus
    M_max: float
    R_M_max: float
    n_c_M_max: float
    eps_c_M_max: float
    R_14: float
    Lambda_14: float
    R_20: float
    Lambda_20: float
    cs2_max: float
    junction_density: float
    junction_moved: bool

    @property
    def ok(self) -> bool:
        return self.status == StarStatus.OK

    @property
    def reason(self) -> str:
        return self.status.message

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["status"] = self.status.name
        out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class StarResult:
    """One EoS's stable M-R-Lambda sequence and its summary.

    ``sequence`` maps h_c, n_c (fm^-3), eps_c, P_c (MeV fm^-3), mass (Msun), radius (km), k2 and Lambda
    to 1-D arrays over the stars of the stable branch, in increasing central density.
    """

    summary: StarSummary
    sequence: dict


@dataclass(frozen=True)
class StarBatch:
    """Results of many EoS: ``summary`` maps each :data:`SUMMARY_FIELDS` name to an (m,) array, plus
    ``status`` (int8 :class:`StarStatus` codes) and ``junction_moved``; ``sequence`` maps the star
    columns to (m, s) arrays, NaN outside each stable branch."""

    summary: dict
    sequence: dict

    def __len__(self) -> int:
        return int(self.summary["status"].size)

    def result(self, i: int) -> StarResult:
        """The single result of EoS ``i``."""
        s = self.summary
        values = {k: float(s[k][i]) for k in SUMMARY_FIELDS}
        summ = StarSummary(
            status=StarStatus(int(s["status"][i])), junction_moved=bool(s["junction_moved"][i]), **values
        )
        keep = np.isfinite(self.sequence["mass"][i])
        return StarResult(summary=summ, sequence={k: v[i][keep] for k, v in self.sequence.items()})


# --------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------
def _columns(couplings) -> dict:
    """The batch as (m,) columns (:func:`~nucleiml.parameters.couplings_columns`), at least one set."""
    cols = couplings_columns(couplings)
    if cols["M"].size == 0:
        raise ParameterError("star_batch needs at least one parameter set")
    return cols


def _requested_junction(cols: dict, cfg: StarConfig) -> np.ndarray:
    m = cols["M"].size
    if cfg.junction != "half_rho0":
        return np.full(m, float(cfg.junction))
    from ..nuclear_matter import NoSaturationError, saturation_density

    out = np.full(m, np.nan)
    for i in range(m):
        c = Couplings(**{k: float(v[i]) for k, v in cols.items()})
        try:
            out[i] = max(0.5 * saturation_density(c), CORE_START_DENSITY)
        except (NoSaturationError, ValueError):
            out[i] = np.inf  # no saturation point: no junction
    return out


# --------------------------------------------------------------------------------------------------
# The chain
# --------------------------------------------------------------------------------------------------
def _chain(core: BetaEquilibrium, requested: np.ndarray, cfg: StarConfig) -> StarBatch:
    crust = load_crust().upto(cfg.crust_end)
    junction = find_junction(core, requested, float(crust.pressure[-1]), cfg.max_junction)
    table, top_status = glue_core(core, crust, junction)
    seq = sequence_kernel(
        table,
        top_status,
        n_intervals=cfg.n_intervals,
        stretch=cfg.stretch,
        min_central_pressure=cfg.min_central_pressure,
        star_stride=cfg.star_stride,
    )
    return _batch(seq, junction)


def _batch(seq, junction: Junction) -> StarBatch:
    summary = dict(seq.summary)
    summary["junction_density"] = junction.density
    summary["junction_moved"] = junction.moved
    status = np.where(junction.index >= 0, seq.status, StarStatus.NO_JUNCTION).astype(np.int8)
    summary["status"] = status
    names = ("h_c", "n_c", "eps_c", "P_c", "mass", "radius", "k2", "Lambda")
    return StarBatch(summary=summary, sequence={k: getattr(seq, k) for k in names})


def star_batch(couplings, config: StarConfig | None = None) -> StarBatch:
    """Neutron-star sequences of many parameter sets at once.

    Parameters
    ----------
    couplings : sequence of Couplings, or a mapping of (m,) arrays keyed by the coupling and mass names
        (masses may be scalars); or NMPs (an :class:`~nucleiml.parameters.NMP`, a sequence of them, or an
        (m, 7) array / mapping accepted by :func:`~nucleiml.couplings_from_nmp_array`), inverted exactly
        first (sets without physical couplings get the status NO_COUPLINGS).
    config : StarConfig, optional.

    Returns
    -------
    StarBatch
        Every member ends with a status, never an exception. A member's results do not depend on the
        other members of the batch.

    Raises
    ------
    ParameterError
        For couplings outside their ranges or of the wrong type (naming the field and the range).
    """
    cfg = config or StarConfig()
    if _is_nmp(couplings):
        return _nmp_batch(couplings, cfg)
    cols = _columns(couplings)
    core = beta_equilibrium_kernel(scaled_couplings_arrays(cols), cfg.density_grid())
    return _chain(core, _requested_junction(cols, cfg), cfg)


def _is_nmp(obj) -> bool:
    if isinstance(obj, NMP):
        return True
    if isinstance(obj, np.ndarray):
        return (obj.ndim == 2 and obj.shape[1] == 7) or obj.shape == (7,)
    if isinstance(obj, Mapping):
        return "rho0" in obj
    if isinstance(obj, list | tuple) and obj and isinstance(obj[0], NMP):
        return True
    return False


def _nmp_batch(nmp, cfg: StarConfig) -> StarBatch:
    from ..nuclear_matter import couplings_from_nmp_array

    if isinstance(nmp, NMP):
        nmp = [nmp]
    inv = couplings_from_nmp_array(nmp)
    m = inv.ok.size
    idx = np.nonzero(inv.ok)[0]
    cols = {k: np.asarray(v)[idx] for k, v in inv.couplings.items()}
    cols.update({k: np.full(idx.size, float(v)) for k, v in inv.masses.items()})
    sub = star_batch(cols, cfg) if idx.size else None
    return _scatter_batch(sub, idx, m)


def _scatter_batch(sub: StarBatch | None, idx: np.ndarray, m: int) -> StarBatch:
    """A batch of m members holding ``sub``'s results at ``idx`` and NO_COUPLINGS elsewhere."""
    summary = {k: np.full(m, np.nan) for k in SUMMARY_FIELDS}
    summary["status"] = np.full(m, StarStatus.NO_COUPLINGS, dtype=np.int8)
    summary["junction_moved"] = np.zeros(m, dtype=bool)
    width = sub.sequence["mass"].shape[1] if sub is not None else 1
    sequence = {
        k: np.full((m, width), np.nan)
        for k in ("h_c", "n_c", "eps_c", "P_c", "mass", "radius", "k2", "Lambda")
    }
    if sub is not None:
        for k in summary:
            summary[k][idx] = sub.summary[k]
        for k in sequence:
            sequence[k][idx] = sub.sequence[k]
    return StarBatch(summary=summary, sequence=sequence)


def star(source, config: StarConfig | None = None) -> StarResult:
    """The M-R-Lambda sequence and summary of one EoS.

    Parameters
    ----------
    source : Couplings, a preset name (``"FSUGold2"``) or an :class:`~nucleiml.parameters.NMP`.
    config : StarConfig, optional.

    Returns
    -------
    StarResult
        ``result.summary.status`` says whether (and why not) the sequence reached its maximum mass.

    Raises
    ------
    ParameterError
        For a source of the wrong type; UnknownPresetError for an unknown preset name.
    """
    if isinstance(source, str):
        source = get_preset(source)
    if not isinstance(source, Couplings | NMP):
        raise ParameterError(f"star expects Couplings, a preset name or NMP, got {type(source).__name__}")
    return star_batch([source] if isinstance(source, Couplings) else source, config).result(0)


def star_from_table(n_b, energy_density, pressure, config: StarConfig | None = None) -> StarResult:
    """The M-R-Lambda sequence of a tabulated EoS: baryon density n_b (fm^-3), energy density including
    the rest mass and pressure (MeV fm^-3), each strictly increasing. A table that starts above the crust
    (first n_b above ``config.crust_end``) gets the SLy4 crust and a bridge P = a + b eps^(4/3) to its
    first row (``summary.junction_density`` is then that row's n_b); one that starts inside the crust's
    range is used as it is (junction_density NaN). The table is cut at its first acausal row (status
    ACAUSAL if the mass still rises there); a sequence whose mass still rises at the table's end gets the
    status NO_MAXIMUM.

    ``n_b = None``: the baryon density is not given; it follows from d ln n = deps / (eps + P) up to its
    value at the first row, taken as eps / 939.565 MeV (the neutron's rest energy per baryon), so the
    reported central densities are approximate (exact up to that one factor).

    Raises
    ------
    ParameterError
        Naming the column and the first row that is not finite, not positive or not increasing.
    """
    cfg = config or StarConfig()
    crust = load_crust().upto(cfg.crust_end)
    if n_b is None:
        n_b = _density_from_eos(energy_density, pressure)
    table, added = glue_table(n_b, energy_density, pressure, crust)
    with np.errstate(invalid="ignore", divide="ignore"):
        cs2 = (table.energy_density + table.pressure) / table.deps_dh
    acausal = np.nonzero(cs2[0] >= 1.0)[0]
    top = np.array([StarStatus.OK], dtype=np.int8)
    if acausal.size:  # cut the table at its first acausal row
        k = int(acausal[0])
        table = type(table)(**{f: np.where(np.arange(table.h.shape[1]) < k, v, np.inf if f == "h" else np.nan)
                              for f, v in vars(table).items()})  # fmt: skip
        top[:] = StarStatus.ACAUSAL
    seq = sequence_kernel(
        table,
        top,
        n_intervals=cfg.n_intervals,
        stretch=cfg.stretch,
        min_central_pressure=cfg.min_central_pressure,
    )
    joined = np.array([float(np.asarray(n_b, dtype=float)[0]) if added else np.nan])
    return _batch(seq, Junction(density=joined, moved=np.zeros(1, bool), index=np.zeros(1, int))).result(0)


def _density_from_eos(energy_density, pressure) -> np.ndarray:
    """Baryon density (fm^-3) of a table of eps and P (MeV fm^-3) without one: ln n = int deps / (eps + P),
    trapezoidal, from n = eps / 939.565 MeV at the first row (columns validated with a placeholder n)."""
    from .table import check_table

    eps = np.asarray(energy_density)
    _, eps, P = check_table(np.arange(1.0, np.size(eps) + 1.0), eps, pressure)
    step = np.diff(eps) * 0.5 * (1.0 / (eps[1:] + P[1:]) + 1.0 / (eps[:-1] + P[:-1]))
    return eps[0] / 939.565 * np.exp(np.concatenate([[0.0], np.cumsum(step)]))


def beta_equilibrium(couplings: Couplings, n_b) -> BetaEquilibrium:
    """Beta-equilibrated n, p, e, mu matter of one parameter set at the increasing baryon densities
    ``n_b`` (fm^-3): arrays of shape (len(n_b),) (see :class:`~nucleiml.stars.matter.BetaEquilibrium`).
    The solution is continued upwards from 0.04 fm^-3, or from the first density if lower.

    Raises
    ------
    ParameterError
        If ``couplings`` is not a Couplings or ``n_b`` is not increasing, positive and finite.
    """
    if not isinstance(couplings, Couplings):
        raise ParameterError(f"beta_equilibrium expects Couplings, got {type(couplings).__name__}")
    n = np.atleast_1d(np.asarray(n_b, dtype=float))
    if n.ndim != 1 or not np.all(np.isfinite(n)) or np.any(n <= 0) or np.any(np.diff(n) <= 0):
        raise ParameterError(
            "n_b must be a 1-D array of finite, positive, strictly increasing densities (fm^-3)"
        )
    start = min(CORE_START_DENSITY, float(n[0]))
    ramp = start * 2.0 ** (np.arange(64) / 28)
    ramp = ramp[ramp < n[0]]
    grid = np.concatenate([ramp, n])
    core = beta_equilibrium_kernel(scaled_couplings_arrays(_columns(couplings)), grid)
    return BetaEquilibrium(**{f: v[0, ramp.size :] for f, v in vars(core).items()})
