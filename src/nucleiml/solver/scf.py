"""Batched self-consistent iteration of the spherical RMF equations: the loop over the fixed-point map.

All quantities are in powers of fm^-1 (energies and fields divided by hbar c). Each iteration applies the
pure map of :mod:`.fixed_point` (Dirac equation in the HO basis, occupations, densities, meson and Coulomb
fields) to the members still iterating, backs off members whose trial fields were unphysical, and mixes the
fields of the others (:class:`.mixing.AndersonMixer`). Occupations use Fermi-Dirac functions annealed to a
small width, so that a partly filled last level or two levels crossing at the Fermi surface end equally
filled; convergence is declared only at the final width.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..constants import ALPHA_EM, HBARC_MEV_FM
from .basis import HOBasis
from .fields import sine_matrix, yukawa_green
from .fixed_point import (
    N_FIELDS,
    TYPICAL_SCALAR_DEPTH,
    TYPICAL_VECTOR_DEPTH,
    MapResult,
    SCFProblem,
    _dirac_step,
    fixed_point_map,
    make_problem,
    split_fields,
)
from .mixing import AndersonMixer


class SolverStatus(enum.IntEnum):
    """Outcome of a finite-nucleus solve (anything but CONVERGED is the seed's *Non-convergent B*)."""

    CONVERGED = 0
    MAX_ITERATIONS = 1
    UNPHYSICAL_FIELDS = 2
    TIME_BUDGET = 3
    WRONG_SIGN = 4
    STALLED = 5

    @property
    def message(self) -> str:
        return {
            SolverStatus.CONVERGED: "",
            SolverStatus.MAX_ITERATIONS: "did not converge within the iteration budget",
            SolverStatus.UNPHYSICAL_FIELDS: "unphysical fields (M* <= 0, NaN or no positive-energy spectrum)",
            SolverStatus.TIME_BUDGET: "did not converge within the time budget",
            SolverStatus.WRONG_SIGN: "self-consistent only with a scalar or vector field of the wrong sign "
            "(the runaway branch of an unbounded self-interaction), not a nuclear ground state",
            SolverStatus.STALLED: "no spherical self-consistent solution found: the field residual stopped "
            "decreasing (see NucleusResult.residual)",
        }[self]


@dataclass(frozen=True)
class GreenMatrices:
    sigma: np.ndarray
    omega: np.ndarray
    rho: np.ndarray
    coulomb: np.ndarray
    sine: np.ndarray  # orthonormal DST-I matrix of the grid (symmetric)
    k2: np.ndarray  # (n_r,) squared wave numbers of the sine modes, fm^-2
    m_sigma2: float  # squared meson masses, fm^-2
    m_omega2: float
    m_rho2: float


def green_matrices(basis: HOBasis, m_sigma: float, m_omega: float, m_rho: float) -> GreenMatrices:
    """Klein-Gordon Green's matrices for the meson masses (fm^-1) on the basis grid."""
    r, h = basis.r, basis.h
    return GreenMatrices(
        sigma=yukawa_green(r, h, m_sigma),
        omega=yukawa_green(r, h, m_omega),
        rho=yukawa_green(r, h, m_rho),
        coulomb=yukawa_green(r, h, 0.0),
        sine=sine_matrix(r.size),
        k2=(np.pi * np.arange(1, r.size + 1) / ((r.size + 1) * h)) ** 2,
        m_sigma2=m_sigma**2,
        m_omega2=m_omega**2,
        m_rho2=m_rho**2,
    )


def initial_fields(r: np.ndarray, Z: int, N: int, p: SCFProblem, from_matter: bool):
    """Starting fields (fm^-1): Woods-Saxon profiles of radius 1.2 A^(1/3) fm and diffuseness 0.6 fm, and the
    Coulomb potential of a uniformly charged sphere. Depths: with ``from_matter`` the mean fields S, V, R of
    uniform matter of the nucleus' asymmetry at 0.15 fm^-3 for each member's couplings; otherwise typical
    RMF depths (TYPICAL_SCALAR_DEPTH and TYPICAL_VECTOR_DEPTH times M)."""
    A = Z + N
    R0 = 1.2 * A ** (1.0 / 3.0)
    f = 1.0 / (1.0 + np.exp((r - R0) / 0.6))
    if from_matter:
        S0, V0, Rf0 = p.matter_fields
    else:
        S0, V0, Rf0 = (
            TYPICAL_SCALAR_DEPTH * p.M,
            TYPICAL_VECTOR_DEPTH * p.M,
            np.full(p.M.size, -0.5 * (N - Z) / A * 0.05),
        )
    S, V, Rf = np.outer(S0, f), np.outer(V0, f), np.outer(Rf0, f)
    vc = np.where(r < R0, Z * ALPHA_EM / (2 * R0) * (3 - (r / R0) ** 2), Z * ALPHA_EM / r)
    Vc = np.tile(vc, (p.M.size, 1))
    return S, V, Rf, Vc


@dataclass
class SCFOutput:
    """Raw kernel output for a batch (fm^-1 powers); see :func:`run_scf`."""

    status: np.ndarray
    iterations: np.ndarray
    energy: np.ndarray  # total mean-field energy including rest masses (fm^-1)
    rho_p: np.ndarray
    rho_n: np.ndarray
    rho_s: np.ndarray
    fields: dict
    levels: list  # per species: (energies (B, L), occupations (B, L)) in block order
    level_blocks: list  # (block index, radial index) per level
    residual: np.ndarray


def max_occupied_l(Z: int, N: int) -> int:
    """Largest orbital l that the ground state can occupy, with a safe margin.

    The last nucleon of the more numerous species sits in oscillator shell n (shells hold
    (n + 1)(n + 2) nucleons of one species); spin-orbit intruders come down from shell n + 1 with
    l = n + 1. Blocks with l <= n + 2 are therefore kept; :func:`run_scf` callers verify afterwards that no
    level of a skipped block lies below the Fermi energy.
    """
    count, shell = 0, 0
    while True:
        count += (shell + 1) * (shell + 2)
        if count >= max(Z, N):
            return shell + 2
        shell += 1


class IterationScheme(NamedTuple):
    """How :func:`run_scf` iterates (see :data:`PRIMARY`, :data:`STABILIZED` and :data:`ANNEALED`); fields
    and widths in fm^-1, like everything in the kernel."""

    from_matter: bool  # starting field depths from uniform matter (else fixed typical depths)
    semi_implicit: bool  # meson self-interaction slopes on the left-hand side (else explicit)
    guard_sign: bool  # a trial with fields of the wrong sign is backed off (else only refused at the end)
    max_retries: int  # consecutive unphysical trials before a member stops as UNPHYSICAL_FIELDS
    min_mixing: float  # floor of the mixing fraction reduced by back-offs (BACKOFF)
    recovery: float  # growth factor of a reduced mixing fraction per physical evaluation
    stall_window: int  # stop as STALLED after this many iterations without halving the best residual
    wander_check: int  # at this iteration (0: never) stop as STALLED the members whose smallest residual
    wander_residual: float  # over the previous WANDER_WINDOW iterations exceeds this (fm^-1)
    mixing: float | None  # linear mixing fraction and Anderson history (None: the caller's)
    history: int | None
    smearing_start: float | None = None  # initial Fermi-Dirac width (fm^-1) and its decay per iteration
    smearing_decay: float | None = None  # (None: the caller's)


PRIMARY = IterationScheme(
    from_matter=False,
    semi_implicit=False,
    guard_sign=False,
    max_retries=4,
    min_mixing=0.0,
    recovery=np.inf,
    stall_window=10**9,
    wander_check=20,
    wander_residual=2.0 / HBARC_MEV_FM,
    mixing=None,
    history=None,
)
"""The original iteration: fast where it converges; its converged results are kept bit for bit. Members
whose field residual is still above 2 MeV throughout iterations 11-20 are wandering among oscillating
fields (near published parameter sets the residual is below 0.1 MeV by then): they stop early, as STALLED,
and are handed to the stabilized iteration."""

WANDER_WINDOW = 10

STABILIZED = IterationScheme(
    from_matter=True,
    semi_implicit=True,
    guard_sign=True,
    max_retries=8,
    min_mixing=0.02,
    recovery=1.25,
    stall_window=80,
    wander_check=0,
    wander_residual=np.inf,
    mixing=1.0,
    history=10,
)
"""For members the primary iteration does not converge: each member starts from its own nuclear-matter
fields, the meson equations are semi-implicit in their self-interactions (the same fixed point, but a
strong sigma^3/sigma^4 or omega^4 term no longer makes the iteration oscillate and diverge), and an
unphysical trial reduces the member's mixing, which then recovers gradually."""

ANNEALED = STABILIZED._replace(smearing_start=3.0 / HBARC_MEV_FM, smearing_decay=0.93)
"""For members the stabilized iteration does not converge either: the same iteration, but the occupations
start as Fermi-Dirac functions 3 MeV wide, narrowed by 7 % per iteration to the final width (0.05 MeV by
default, reached after ~56 iterations). Sets with m* ~ 0.5 and K0 < 220 MeV give very compact, strongly
bound nuclei (central density 2-3 rho0, B 20-60 % above experiment) whose levels near the Fermi surface
reorder from one sharp filling to the next; the wide occupations let the fields settle first and the
narrowing then follows the solution to sharp filling. Convergence is declared only at the final width,
so a result is a sharp-filling self-consistent state."""

BACKOFF = 0.5
"""After an unphysical trial a member's mixing fraction is multiplied by BACKOFF (down to the scheme's
``min_mixing``; the primary iteration has none, so its k-th consecutive back-off uses mixing * 0.5^k as the
original iteration did) and it steps from its last good fields with it."""


@dataclass
class _Progress:
    """Per-member iteration state of :func:`run_scf` (rows = batch members)."""

    x: np.ndarray  # current fields (B, 4 n_r)
    status: np.ndarray
    iterations: np.ndarray
    active: np.ndarray
    residual: np.ndarray
    good_x: np.ndarray  # last fields whose map evaluation was physical, and their residual
    good_f: np.ndarray
    has_good: np.ndarray
    fails: np.ndarray  # consecutive unphysical trials
    alpha: np.ndarray  # linear mixing fraction, reduced after every unphysical trial
    mixing: float  # the configured mixing fraction
    mark: np.ndarray  # best residual so far, updated when halved, and the iteration when it was
    mark_iteration: np.ndarray
    recent: np.ndarray  # smallest residual over the last WANDER_WINDOW iterations before wander_check
    best: dict  # by-products of the last physical evaluation

    @classmethod
    def start(cls, x: np.ndarray, n_levels: int, mixing: float) -> _Progress:
        B, n_x = x.shape
        n_r = n_x // N_FIELDS
        return cls(
            x=x,
            status=np.full(B, SolverStatus.MAX_ITERATIONS, dtype=np.int8),
            iterations=np.zeros(B, dtype=np.int32),
            active=np.ones(B, dtype=bool),
            residual=np.full(B, np.inf),
            good_x=x.copy(),
            good_f=np.zeros_like(x),
            has_good=np.zeros(B, dtype=bool),
            fails=np.zeros(B, dtype=np.int64),
            alpha=np.full(B, mixing),
            mixing=mixing,
            mark=np.full(B, np.inf),
            mark_iteration=np.zeros(B, dtype=np.int64),
            recent=np.full(B, np.inf),
            best={
                "energy": np.full(B, np.nan),
                "rho_p": np.zeros((B, n_r)),
                "rho_n": np.zeros((B, n_r)),
                "rho_s": np.zeros((B, n_r)),
                "e_all": np.full((2, B, n_levels), np.nan),
                "occ": np.zeros((2, B, n_levels)),
            },
        )

    def back_off(self, bad: np.ndarray, scheme: IterationScheme, mixer: AndersonMixer) -> None:
        """Members whose trial fields were unphysical step back towards their last good fields (shorter
        step, history cleared) or, after ``max_retries`` consecutive failures, stop as UNPHYSICAL_FIELDS."""
        retry = bad[self.has_good[bad] & (self.fails[bad] < scheme.max_retries)]
        give_up = np.setdiff1d(bad, retry)
        self.status[give_up] = SolverStatus.UNPHYSICAL_FIELDS
        self.active[give_up] = False
        self.fails[retry] += 1
        self.alpha[retry] = np.maximum(self.alpha[retry] * BACKOFF, scheme.min_mixing)
        mixer.reset(retry)
        self.x[retry] = self.good_x[retry] + self.alpha[retry][:, None] * self.good_f[retry]

    def accept(self, g, xg, fg, res: MapResult, gi, recovery: float) -> None:
        """Store the physical evaluation ``gi`` (rows of ``res``) of members ``g``."""
        for key in ("energy", "rho_p", "rho_n", "rho_s"):
            self.best[key][g] = getattr(res, key)[gi]
        self.best["e_all"][:, g] = res.e_all[:, gi]
        self.best["occ"][:, g] = res.occ[:, gi]
        self.residual[g] = np.max(np.abs(fg), axis=1)
        self.fails[g] = 0
        self.alpha[g] = np.minimum(self.alpha[g] * recovery, self.mixing)
        self.good_x[g], self.good_f[g], self.has_good[g] = xg, fg, True

    def stop_stalled(self, g: np.ndarray, iteration: int, window: int) -> None:
        """Members ``g`` whose best residual has not halved within ``window`` iterations stop as STALLED:
        the iteration wanders among unphysical or oscillating fields with no self-consistent solution
        in reach (the residual is kept as evidence)."""
        improved = self.residual[g] < 0.5 * self.mark[g]
        self.mark[g[improved]] = self.residual[g[improved]]
        self.mark_iteration[g[improved]] = iteration
        stalled = g[self.active[g] & (iteration - self.mark_iteration[g] > window)]
        self.status[stalled] = SolverStatus.STALLED
        self.active[stalled] = False

    def stop_wandering(self, g: np.ndarray, iteration: int, scheme: IterationScheme) -> None:
        """See :data:`PRIMARY`: the smallest residual of ``g`` over the WANDER_WINDOW iterations before
        ``scheme.wander_check`` decides whether they stop there."""
        if iteration > scheme.wander_check - WANDER_WINDOW:
            self.recent[g] = np.minimum(self.recent[g], self.residual[g])
        if iteration == scheme.wander_check:
            idx = np.flatnonzero(self.active & (self.recent > scheme.wander_residual))
            self.status[idx] = SolverStatus.STALLED
            self.active[idx] = False

    def output(self, n_r: int, level_blocks) -> SCFOutput:
        return SCFOutput(
            status=self.status,
            iterations=self.iterations,
            energy=self.best["energy"],
            rho_p=self.best["rho_p"],
            rho_n=self.best["rho_n"],
            rho_s=self.best["rho_s"],
            fields=dict(zip(("S", "V", "R", "Vc"), split_fields(self.x, n_r), strict=True)),
            levels=[(self.best["e_all"][q], self.best["occ"][q]) for q in range(2)],
            level_blocks=list(level_blocks),
            residual=self.residual,
        )


def run_scf(
    basis: HOBasis,
    green: GreenMatrices,
    couplings: dict,
    Z: int,
    N: int,
    *,
    max_iter: int | np.ndarray = 300,
    tol: float = 1e-8,
    mixing: float = 0.5,
    history: int = 6,
    warmup: int = 2,
    scheme: IterationScheme = PRIMARY,
    coulomb: bool = True,
    time_budget: float | None = None,
    l_max: int | None = None,
    smearing: float = 0.0,
    smearing_start: float = 0.0,
    smearing_decay: float = 0.7,
) -> SCFOutput:
    """Iterate a batch of parameter sets to self-consistency for nucleus (Z, N).

    ``couplings``: dict of (B,) arrays in fm^-1 powers: M, g_sigma2, g_omega2, g_rho2, A (fm^-1), B, C,
    Lambda_v (meson masses are inside ``green``). ``tol`` bounds the largest change of any field (fm^-1)
    in the last iteration; ``max_iter`` is the iteration budget, one for all or one per member. Members
    still iterating after ``time_budget`` seconds stop with TIME_BUDGET.
    Only kappa blocks with l <= ``l_max`` are diagonalised (None: all); see :func:`max_occupied_l`.
    Occupations use Fermi-Dirac smearing of width ``smearing_start`` * ``smearing_decay``^(it-1), never
    below ``smearing`` (fm^-1; 0 = sharp filling); convergence is declared only at the final width.
    """
    deadline = None if time_budget is None else time.perf_counter() + time_budget
    mixing = mixing if scheme.mixing is None else scheme.mixing
    history = history if scheme.history is None else scheme.history
    if scheme.smearing_start is not None:
        smearing_start = max(smearing, scheme.smearing_start)
    if scheme.smearing_decay is not None:
        smearing_decay = scheme.smearing_decay
    p = make_problem(basis, green, couplings, Z, N, coulomb, l_max, scheme.semi_implicit, scheme.from_matter)
    S, V, R, Vc = initial_fields(basis.r, Z, N, p, scheme.from_matter)
    if not coulomb:
        Vc = np.zeros_like(Vc)
    st = _Progress.start(np.concatenate([S, V, R, Vc], axis=1), p.deg.size, mixing)
    mixer = AndersonMixer(p.M.size, st.x.shape[1], history, warmup)
    budget = np.broadcast_to(np.asarray(max_iter), p.M.shape)
    for it in range(1, int(budget.max(initial=0)) + 1):
        width = max(smearing, smearing_start * smearing_decay ** (it - 1))
        st.active &= budget >= it  # members past their own budget stay MAX_ITERATIONS
        idx = np.flatnonzero(st.active)
        if idx.size == 0:
            break
        if deadline is not None and time.perf_counter() > deadline:
            st.status[idx] = SolverStatus.TIME_BUDGET
            break
        xa = st.x[idx]
        with np.errstate(all="ignore"):  # members whose fields blow up are caught by res.ok
            res = fixed_point_map(p, xa, idx, np.full(idx.size, width))
        st.iterations[idx] = it
        ok = res.ok & res.right_sign if scheme.guard_sign else res.ok
        st.back_off(idx[~ok], scheme, mixer)
        gi = np.flatnonzero(ok)
        g, xg = idx[gi], xa[gi]
        fg = res.x_new[gi] - xg
        st.accept(g, xg, fg, res, gi, scheme.recovery)
        conv = (st.residual[g] < tol) & (width <= smearing)
        st.status[g[conv]] = np.where(
            res.right_sign[gi[conv]], SolverStatus.CONVERGED, SolverStatus.WRONG_SIGN
        )
        st.active[g[conv]] = False
        st.stop_stalled(g, it, scheme.stall_window)
        if scheme.wander_check:
            st.stop_wandering(g, it, scheme)
        step = mixer.step(g, xg, fg, st.alpha[g], it)
        still = ~conv
        st.x[g[still]] = xg[still] + step[still]
    return st.output(p.n_r, p.level_blocks)


def intruders_in_skipped_blocks(basis: HOBasis, out: SCFOutput, M: np.ndarray, l_max: int) -> np.ndarray:
    """True for members with a level of a block l > ``l_max`` (not diagonalised in the loop) below their
    highest occupied level of the same species, at their last fields: the restriction was wrong for them
    (whether or not they converged) and they must be re-run with all blocks."""
    skipped = [i for i, blk in enumerate(basis.blocks) if blk.l > l_max]
    redo = np.zeros(M.size, dtype=bool)
    f = out.fields
    fermi = np.stack([np.max(np.where(occ > 1e-6, e, -np.inf), axis=-1) for e, occ in out.levels])  # (2, B)
    finite = np.all(np.isfinite(fermi), axis=0)
    for field in f.values():
        finite &= np.all(np.isfinite(field), axis=1)
    cand = np.flatnonzero(finite)
    if not skipped or cand.size == 0:
        return redo
    steps = _dirac_step(basis, f["S"][cand], f["V"][cand], f["R"][cand], f["Vc"][cand], M[cand], skipped)
    lowest = np.min(np.stack([b[0][..., 0] for b in steps]), axis=0)  # (2, b)
    redo[cand] = np.any(lowest < fermi[:, cand], axis=0)
    return redo
