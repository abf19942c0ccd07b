"""Public interface of the spherical RMF solver: configuration, results, ``solve`` and ``solve_batch``.

Method: the Dirac equation is solved in a spherical harmonic-oscillator basis with the small component
taken in one more major shell than the large one (Gambhir, Ring, Thimet, Ann. Phys. 198, 132 (1990)),
which is free of spurious states; the meson and Coulomb fields are solved on a radial grid with a
spectrally accurate sine-series Green's function; the self-consistent loop uses Anderson mixing. A batch
of parameter sets for one nucleus shares the basis, the Green's functions and every BLAS call.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..constants import HBARC_MEV_FM, PROTON_FORM_FACTOR_FM2
from ..nuclei import Nucleus, parse_nucleus
from ..parameters import (
    MASS_NAMES,
    Couplings,
    ParameterError,
    _is_finite_real,
    couplings_columns,
)
from .basis import HOBasis, make_basis
from .scf import (
    ANNEALED,
    PRIMARY,
    STABILIZED,
    GreenMatrices,
    SolverStatus,
    green_matrices,
    intruders_in_skipped_blocks,
    max_occupied_l,
    run_scf,
)

__all__ = [
    "BatchResult",
    "Level",
    "NucleusResult",
    "SolverConfig",
    "SolverStatus",
    "solve",
    "solve_batch",
]

OCCUPIED = 1e-6
"""Occupation probabilities below this (or within it of 1) count as empty (full) in reports."""


def center_of_mass_correction(A: int) -> float:
    """E_cm = -(3/4) 41 A^(-1/3) MeV (harmonic-oscillator estimate), added to the total energy."""
    return -0.75 * 41.0 * A ** (-1.0 / 3.0)


PRIMARY_ITERATIONS = 100
"""Default budget of the primary iteration. Members it converges (about 75 % of the default prior's
members with physical couplings, and every member near published parameter sets, in about 20 iterations)
keep the original iteration's result bit for bit; the others, and those still wandering among
oscillating fields at iteration 20 (see :data:`nucleiml.solver.scf.PRIMARY`), are solved with the
stabilized iteration, which keeps the cost of a prior draw near that of a typical one."""


def default_shells(A: int) -> int:
    """Default number N_F of oscillator shells for mass number A.

    Chosen from a convergence study against the published coordinate-space tables (NL3 and FSUGold2,
    16O to 208Pb): with 14 shells up to A = 40 and 16 beyond, B agrees to < 0.011 % and Rp, Rn to < 1.1 mfm;
    more shells do not improve on that (the basis-truncation error oscillates at the 1e-4 level).
    """
    return 14 if A <= 40 else 16


@dataclass(frozen=True)
class SolverConfig:
    """Numerical settings of the solver (all validated; defaults reproduce published tables to < 0.05 %).

    n_shells : oscillator shells N_F of the large component (None: by mass number, see default_shells).
    oscillator_length : b in fm (None: hbar c / sqrt(M hbar omega), hbar omega = 41 A^(-1/3) MeV).
    grid_step : radial grid step in fm.
    box_padding : box radius beyond the outermost classical turning point sqrt(2 N_F + 3) b, in units of b.
    max_iterations : iteration budget of the self-consistent loop (all phases together).
    primary_iterations : iterations of the primary (original, fast) iteration before members it has not
        converged are solved again with the stabilized iteration (nuclear-matter start, semi-implicit meson
        self-interactions, guarded against wrong-sign fields) and, if that fails too, the annealed one
        (occupations narrowed from 3 MeV); see :mod:`nucleiml.solver.scf`. 0: no primary phase, every
        member starts in the stabilized iteration: faster on the default prior and near published sets, but
        results differ from the primary's within the tolerance, and some members the primary iteration
        converges land on another self-consistent configuration (13 of 335 such 208Pb prior draws); see the
        README's solver section.
    tolerance : convergence threshold on the largest change of any field in one iteration, MeV.
    mixing : linear mixing fraction; history: Anderson history length (0 = plain linear mixing).
    coulomb : include the Coulomb field (False only for symmetry tests).
    smearing : final Fermi-Dirac width of the occupations, MeV (0: sharp filling). 0.05 MeV is far below
        shell gaps, so closed shells are filled sharply (to exp(-gap/0.05 MeV)), while levels that cross at
        the Fermi surface end degenerate and equally filled instead of flipping from one iteration to the next.
    smearing_start : initial width, MeV, reduced by a factor 0.7 per iteration down to ``smearing``.
    time_budget : wall-clock budget per call in seconds (None: unlimited; the iteration budget still holds).
    """

    n_shells: int | None = None
    oscillator_length: float | None = None
    grid_step: float = 0.1
    box_padding: float = 3.5
    max_iterations: int = 300
    primary_iterations: int = PRIMARY_ITERATIONS
    tolerance: float = 1e-4
    mixing: float = 0.5
    history: int = 6
    coulomb: bool = True
    time_budget: float | None = None
    smearing: float = 0.05
    smearing_start: float = 1.0

    def __post_init__(self) -> None:
        def need(cond: bool, name: str, allowed: str) -> None:
            if not cond:
                raise ParameterError(f"SolverConfig.{name} = {getattr(self, name)!r} must be {allowed}")

        def finite(v) -> bool:
            return isinstance(v, int | float) and _is_finite_real(v)

        need(
            self.n_shells is None or (isinstance(self.n_shells, int) and 4 <= self.n_shells <= 30),
            "n_shells",
            "None or an integer in [4, 30]",
        )
        need(
            self.oscillator_length is None
            or (finite(self.oscillator_length) and 0.5 <= self.oscillator_length <= 5.0),
            "oscillator_length",
            "None or in [0.5, 5] fm",
        )
        need(finite(self.grid_step) and 0.01 <= self.grid_step <= 0.5, "grid_step", "in [0.01, 0.5] fm")
        need(finite(self.box_padding) and 1.0 <= self.box_padding <= 10.0, "box_padding", "in [1, 10]")
        need(
            isinstance(self.max_iterations, int) and 1 <= self.max_iterations <= 100000,
            "max_iterations",
            "an integer in [1, 100000]",
        )
        need(
            isinstance(self.primary_iterations, int) and 0 <= self.primary_iterations <= 100000,
            "primary_iterations",
            "an integer in [0, 100000]",
        )
        need(finite(self.tolerance) and 1e-10 <= self.tolerance <= 1.0, "tolerance", "in [1e-10, 1] MeV")
        need(finite(self.mixing) and 0.0 < self.mixing <= 1.0, "mixing", "in (0, 1]")
        need(isinstance(self.history, int) and 0 <= self.history <= 50, "history", "an integer in [0, 50]")
        need(isinstance(self.coulomb, bool), "coulomb", "a bool")
        need(finite(self.smearing) and 0.0 <= self.smearing <= 1.0, "smearing", "in [0, 1] MeV")
        need(
            finite(self.smearing_start) and 0.0 <= self.smearing_start <= 10.0,
            "smearing_start",
            "in [0, 10] MeV",
        )
        need(
            self.time_budget is None or (finite(self.time_budget) and self.time_budget > 0),
            "time_budget",
            "None or > 0 s",
        )


@dataclass(frozen=True)
class Level:
    """A single-particle level: species ('p' or 'n'), spectroscopic label (e.g. '1s1/2'), energy
    epsilon - M in MeV, degeneracy 2j + 1 and occupation probability in [0, 1]."""

    species: str
    label: str
    energy: float
    degeneracy: int
    occupation: float


@dataclass(frozen=True)
class NucleusResult:
    """Ground state of one nucleus for one parameter set.

    ``converged`` False is the seed's *Non-convergent B*; then ``status``/``reason`` say why and the
    observables are NaN. Energies in MeV (``binding_energy`` > 0 for bound nuclei, including
    E_cm = -(3/4) 41 A^(-1/3) MeV), radii in fm (rms of point distributions; charge radius
    sqrt(Rp^2 + 0.64 fm^2)). ``partially_filled`` names levels with fractional occupation (equal filling).
    ``densities`` (on request) maps 'r' (fm), 'rho_p', 'rho_n', 'rho_s' (fm^-3), 'S', 'V', 'R', 'Vc' (MeV).
    """

    nucleus: Nucleus
    status: SolverStatus
    binding_energy: float
    charge_radius: float
    proton_radius: float
    neutron_radius: float
    iterations: int
    levels: tuple[Level, ...] = field(default=(), repr=False)
    partially_filled: tuple[str, ...] = ()
    densities: Mapping[str, np.ndarray] | None = field(default=None, repr=False, compare=False)

    @property
    def converged(self) -> bool:
        return self.status == SolverStatus.CONVERGED

    @property
    def reason(self) -> str:
        return self.status.message

    @property
    def skin(self) -> float:
        """Neutron skin Rn - Rp (fm)."""
        return self.neutron_radius - self.proton_radius

    @property
    def binding_energy_per_nucleon(self) -> float:
        return self.binding_energy / self.nucleus.A

    def to_dict(self) -> dict:
        return {
            "nucleus": self.nucleus.name,
            "Z": self.nucleus.Z,
            "N": self.nucleus.N,
            "converged": self.converged,
            "status": self.status.name.lower(),
            "reason": self.reason,
            "binding_energy": self.binding_energy,
            "charge_radius": self.charge_radius,
            "proton_radius": self.proton_radius,
            "neutron_radius": self.neutron_radius,
            "skin": self.skin,
            "iterations": self.iterations,
            "partially_filled": list(self.partially_filled),
        }


@dataclass(frozen=True)
class BatchResult:
    """Results of :func:`solve_batch` as arrays over the batch (NaN where not converged)."""

    nucleus: Nucleus
    status: np.ndarray
    binding_energy: np.ndarray
    charge_radius: np.ndarray
    proton_radius: np.ndarray
    neutron_radius: np.ndarray
    iterations: np.ndarray
    seconds: float
    levels: tuple = field(default=(), repr=False, compare=False)
    densities: tuple = field(default=(), repr=False, compare=False)

    @property
    def converged(self) -> np.ndarray:
        return self.status == SolverStatus.CONVERGED

    def __len__(self) -> int:
        return int(self.status.size)

    def result(self, i: int) -> NucleusResult:
        """The :class:`NucleusResult` of member i (with its single-particle levels)."""
        levels = self.levels[i] if self.levels else ()
        return NucleusResult(
            nucleus=self.nucleus,
            status=SolverStatus(int(self.status[i])),
            binding_energy=float(self.binding_energy[i]),
            charge_radius=float(self.charge_radius[i]),
            proton_radius=float(self.proton_radius[i]),
            neutron_radius=float(self.neutron_radius[i]),
            iterations=int(self.iterations[i]),
            levels=levels,
            partially_filled=tuple(
                f"{lv.species}:{lv.label}" for lv in levels if OCCUPIED < lv.occupation < 1.0 - OCCUPIED
            ),
            densities=self.densities[i] if self.densities else None,
        )


# --------------------------------------------------------------------------------------------------
def _oscillator_length(A: int, M: float) -> float:
    return HBARC_MEV_FM / math.sqrt(M * 41.0 * A ** (-1.0 / 3.0))


@lru_cache(maxsize=32)
def _basis(n_shells: int, b: float, h: float, padding: float) -> HOBasis:
    return make_basis(n_shells, b, h, b * (math.sqrt(2 * n_shells + 3) + padding))


@lru_cache(maxsize=32)
def _green(n_shells: int, b: float, h: float, padding: float, masses: tuple) -> GreenMatrices:
    ms, mw, mr = (m / HBARC_MEV_FM for m in masses)
    return green_matrices(_basis(n_shells, b, h, padding), ms, mw, mr)


_as_columns = couplings_columns  # one parser of coupling batches (parameters.couplings_columns)


def _levels_of(basis: HOBasis, out, member: int, M: float) -> tuple[Level, ...]:
    """Occupied levels of both species, plus the lowest empty level of each, in energy order."""
    levels = []
    for q, name in enumerate(("p", "n")):
        e, occ = out.levels[q]
        order = np.argsort(e[member])
        n_occ = int(np.count_nonzero(occ[member] > OCCUPIED))
        for k in order[: n_occ + 1]:
            bi, radial = out.level_blocks[k]
            blk = basis.blocks[bi]
            levels.append(
                Level(
                    species=name,
                    label=f"{radial + 1}{blk.label}",
                    energy=float(e[member, k] * HBARC_MEV_FM - M),
                    degeneracy=blk.degeneracy,
                    occupation=float(occ[member, k]),
                )
            )
    return tuple(levels)


def _rms_radius(rho: np.ndarray, r: np.ndarray, h: float, n: int) -> np.ndarray:
    """Point rms radius (fm) of n nucleons with density rho(r) (fm^-3, rows of a batch) on the grid r."""
    return np.sqrt(4 * np.pi * h * (rho * r**4).sum(axis=-1) / n)


def _merge(out, again, redo):
    """Replace the members ``redo`` of ``out`` by the run ``again`` of them (a later phase, or a run with all
    kappa blocks after a restricted-block one); the level lists are mapped onto ``again``'s blocks."""
    n_levels = again.levels[0][0].shape[1]
    merged_levels = []
    for (e, occ), (e2, occ2) in zip(out.levels, again.levels, strict=True):
        E = np.full((e.shape[0], n_levels), np.inf)
        O = np.zeros((e.shape[0], n_levels))
        rows = np.flatnonzero(~redo)
        # map the restricted level list into the full one (same block order, some blocks missing)
        pos = {lb: j for j, lb in enumerate(again.level_blocks)}
        cols = [pos[lb] for lb in out.level_blocks]
        E[np.ix_(rows, cols)] = e[rows]
        O[np.ix_(rows, cols)] = occ[rows]
        E[redo], O[redo] = e2, occ2
        merged_levels.append((E, O))
    for name in ("status", "iterations", "energy", "rho_p", "rho_n", "rho_s", "residual"):
        getattr(out, name)[redo] = getattr(again, name)
    for k in out.fields:
        out.fields[k][redo] = again.fields[k]
    out.levels = merged_levels
    out.level_blocks = again.level_blocks
    return out


def _kernel_couplings(cols: dict, idx: np.ndarray, M: float) -> dict:
    """Couplings of the members ``idx`` in the kernel's form (fm^-1 powers)."""
    return {
        "M": np.full(idx.size, M / HBARC_MEV_FM),
        "g_sigma2": cols["g_sigma"][idx] ** 2,
        "g_omega2": cols["g_omega"][idx] ** 2,
        "g_rho2": cols["g_rho"][idx] ** 2,
        "A": cols["A"][idx],
        "B": cols["B"][idx],
        "C": cols["C"][idx],
        "Lambda_v": cols["Lambda_v"][idx],
    }


def _kernel_settings(cfg: SolverConfig) -> dict:
    return {
        "tol": cfg.tolerance / HBARC_MEV_FM,
        "mixing": cfg.mixing,
        "history": cfg.history,
        "coulomb": cfg.coulomb,
        "smearing": cfg.smearing / HBARC_MEV_FM,
        "smearing_start": max(cfg.smearing, cfg.smearing_start) / HBARC_MEV_FM,
    }


def _remaining(cfg: SolverConfig, t0: float) -> float | None:
    return None if cfg.time_budget is None else cfg.time_budget - (time.perf_counter() - t0)


RESTARTED = (
    SolverStatus.MAX_ITERATIONS,
    SolverStatus.UNPHYSICAL_FIELDS,
    SolverStatus.WRONG_SIGN,
    SolverStatus.STALLED,
)
"""Outcomes after which a member is solved again by the next scheme of :data:`PHASES`."""


PHASES = (PRIMARY, STABILIZED, ANNEALED)
"""The iteration schemes a member goes through, each only if the ones before did not converge it."""


def _phases(basis, green, kc: dict, nuc: Nucleus, cfg: SolverConfig, t0: float, l_max):
    """The primary iteration for ``min(primary_iterations, max_iterations)`` iterations, then the
    stabilized and the annealed one (:data:`PHASES`), each for the members the previous phases did not
    converge, with the rest of each member's own ``max_iterations`` budget (batch-mates do not matter);
    a member's iterations are summed over its phases (with ``primary_iterations`` 0 the primary phase
    leaves every member MAX_ITERATIONS after no iteration, so the stabilized one starts with the whole
    budget)."""
    settings = _kernel_settings(cfg)
    out = run_scf(
        basis,
        green,
        kc,
        nuc.Z,
        nuc.N,
        max_iter=min(cfg.primary_iterations, cfg.max_iterations),
        time_budget=_remaining(cfg, t0),
        l_max=l_max,
        scheme=PRIMARY,
        **settings,
    )
    for scheme in PHASES[1:]:
        retry = np.isin(out.status, RESTARTED)
        budget = cfg.max_iterations - out.iterations[retry]
        if not np.any(budget > 0):
            break
        sub = {k: v[retry] for k, v in kc.items()}
        again = run_scf(
            basis,
            green,
            sub,
            nuc.Z,
            nuc.N,
            max_iter=budget,
            time_budget=_remaining(cfg, t0),
            l_max=l_max,
            scheme=scheme,
            **settings,
        )
        again.iterations += out.iterations[retry]
        out = _merge(out, again, retry)
    return out


def _solve_group(basis, green, kc: dict, nuc: Nucleus, cfg: SolverConfig, t0: float):
    """Solve one group of members sharing basis and meson masses, diagonalising only the kappa blocks
    that can be occupied and re-solving with all blocks the members for which that was wrong."""
    l_max = max_occupied_l(nuc.Z, nuc.N)
    out = _phases(basis, green, kc, nuc, cfg, t0, l_max)
    redo = intruders_in_skipped_blocks(basis, out, kc["M"], l_max)
    if np.any(redo):  # a level of a high-l block came below the Fermi energy: solve those with all blocks
        sub = {k: v[redo] for k, v in kc.items()}
        out = _merge(out, _phases(basis, green, sub, nuc, cfg, t0, None), redo)
    return out


def _observables(out, basis, nuc: Nucleus, M: float):
    """(status, B (MeV), Rp, Rn (fm)) of a kernel output; non-finite results become UNPHYSICAL_FIELDS."""
    A = nuc.A
    r, h = basis.r, basis.h
    with np.errstate(invalid="ignore", divide="ignore"):
        be = A * M - out.energy * HBARC_MEV_FM - center_of_mass_correction(A)
        rp = _rms_radius(out.rho_p, r, h, nuc.Z)
        rn = _rms_radius(out.rho_n, r, h, nuc.N) if nuc.N else np.zeros(out.status.size)
    finite = np.isfinite(be) & np.isfinite(rp) & np.isfinite(rn)
    conv = out.status == SolverStatus.CONVERGED
    return np.where(conv & ~finite, SolverStatus.UNPHYSICAL_FIELDS, out.status), be, rp, rn


def _member_densities(out, basis, j: int) -> dict:
    return {
        "r": basis.r.copy(),
        "rho_p": out.rho_p[j].copy(),
        "rho_n": out.rho_n[j].copy(),
        "rho_s": out.rho_s[j].copy(),
        **{k: v[j] * HBARC_MEV_FM for k, v in out.fields.items()},
    }


def _mass_groups(cols: dict) -> dict[tuple, np.ndarray]:
    """Members grouped by their meson and nucleon masses (each group shares a basis and Green's functions)."""
    groups: dict[tuple, list[int]] = {}
    for i, key in enumerate(map(tuple, np.stack([cols[k] for k in MASS_NAMES], axis=1))):
        groups.setdefault(key, []).append(i)
    return {k: np.array(v) for k, v in groups.items()}


def solve_batch(
    couplings,
    nucleus,
    config: SolverConfig | None = None,
    *,
    levels: bool = False,
    densities: bool = False,
) -> BatchResult:
    """Solve one nucleus for many parameter sets at once.

    ``couplings``: a sequence of :class:`Couplings` or a mapping of 1-D arrays keyed by the coupling and
    mass names (masses may be scalars). Members with identical meson masses share one basis and one set of
    Green's functions; every member ends with a status, never an exception.

    Raises
    ------
    ParameterError
        If a column is not real numbers, is mis-shaped or out of range (the message names it), the
        sequence holds something else than Couplings, or ``config`` is not a SolverConfig.
    NucleusError
        If ``nucleus`` is not a nucleus.
    """
    nuc = parse_nucleus(nucleus)
    if config is not None and not isinstance(config, SolverConfig):
        raise ParameterError(f"config must be a SolverConfig or None, got {type(config).__name__}")
    cfg = config or SolverConfig()
    cols = _as_columns(couplings)
    n = cols["M"].size
    t0 = time.perf_counter()
    status = np.full(n, SolverStatus.MAX_ITERATIONS, dtype=np.int8)
    obs = {
        k: np.full(n, np.nan) for k in ("binding_energy", "charge_radius", "proton_radius", "neutron_radius")
    }
    iterations = np.zeros(n, dtype=np.int32)
    level_lists: list = [()] * n if levels else []
    dens_out: list = [None] * n if densities else []
    n_shells = cfg.n_shells or default_shells(nuc.A)
    for (m_sigma, m_omega, m_rho, M), idx in _mass_groups(cols).items():
        b = cfg.oscillator_length or _oscillator_length(nuc.A, M)
        basis = _basis(n_shells, b, cfg.grid_step, cfg.box_padding)
        green = _green(n_shells, b, cfg.grid_step, cfg.box_padding, (m_sigma, m_omega, m_rho))
        out = _solve_group(basis, green, _kernel_couplings(cols, idx, M), nuc, cfg, t0)
        st, be, rp, rn = _observables(out, basis, nuc, M)
        ok = st == SolverStatus.CONVERGED
        status[idx] = st
        iterations[idx] = out.iterations
        obs["binding_energy"][idx] = np.where(ok, be, np.nan)
        obs["proton_radius"][idx] = np.where(ok, rp, np.nan)
        obs["neutron_radius"][idx] = np.where(ok, rn, np.nan)
        obs["charge_radius"][idx] = np.where(ok, np.sqrt(rp**2 + PROTON_FORM_FACTOR_FM2), np.nan)
        for j in np.flatnonzero(ok):
            if levels:
                level_lists[idx[j]] = _levels_of(basis, out, j, M)
            if densities:
                dens_out[idx[j]] = _member_densities(out, basis, j)
    return BatchResult(
        nucleus=nuc,
        status=status,
        iterations=iterations,
        seconds=time.perf_counter() - t0,
        levels=tuple(level_lists),
        densities=tuple(dens_out),
        **obs,
    )


def solve(
    couplings: Couplings, nucleus, config: SolverConfig | None = None, *, densities: bool = False
) -> NucleusResult:
    """Ground state of ``nucleus`` ("208Pb", (Z, N) or a Nucleus) for one parameter set.

    Never raises for valid input: failure to converge is returned as ``converged == False`` with a status.
    """
    if not isinstance(couplings, Couplings):
        raise ParameterError(f"solve expects a Couplings, got {type(couplings).__name__}")
    batch = solve_batch([couplings], nucleus, config, levels=True, densities=densities)
    return batch.result(0)
