"""Nuclear-matter parameters (NMPs) <-> couplings of the nonlinear RMF Lagrangian.

Forward: :func:`nmp_from_couplings` finds the saturation density of symmetric matter and evaluates the
seven NMPs (and Ksym) there from analytic density derivatives of the mean fields.

Inverse: :func:`couplings_from_nmp` / :func:`couplings_from_nmp_array`. For a trial quartic omega coupling
C everything else is closed form:

1. ``rho0`` and ``m*`` fix k_F, M* and S = g_sigma sigma; P = 0 and E0 fix V = g_omega omega = E0 + M - E_F*.
2. The omega equation fixes alpha = m_omega^2/g_omega^2 = (rho0 - C V^3)/V.
3. K0 = 9 rho0 dmu/drho fixes dM*/drho, hence the curvature of the scalar potential; with the scalar field
   equation and the energy density this gives a linear 3x3 system for the scaled a, b, c
   (g_sigma^2, A, B).
4. J0 and L0 fix g_rho and Lambda_v in closed form.

Q0(C) is then a closed-form function of C. Which of its roots is meant is defined by a scan over C in
[0, rho0/V^3): the first sign change between admissible neighbours (``method="scan"`` finds it so, with a
safeguarded secant (Illinois) refinement). By default it is read off an exact rewriting instead:
u (Q0(C) - Q0) is a polynomial of degree 4 in u = 1 / (1 + 2 C V^3 / rho0) (:mod:`nucleiml._q0_quartic`),
whose Bernstein coefficients certify where there is no root and isolate the smallest; the answer is the
scan's (same codes, C within the residual's round-off), about ten times faster, with the scan for the few
members the quartic cannot certify. "No physical couplings" is returned as data (the seed paper's
*Non-convergent A*), with a reason naming the failed condition.

Which root: Q0(C) is not monotonic, so one NMP set can have two (or more) Lagrangians. NLZ (C = 0,
B = -40.2) and a set with C = 0.022, B = 388, Lambda_v = -0.015 share all seven NMPs, for example. The map
NMP -> couplings is defined on the smallest-C branch: the inversion returns the smallest admissible root
C >= 0 (admissible: g_omega^2 > 0, g_sigma^2 > 0 and dM*/drho < 0 there). A root within round-off of C = 0
(|Q0(0) - Q0| <= 1e-10 (9 K0 + |Q0|)) is returned as C = 0 exactly, so published sets with C = 0 invert to
themselves. As Q0 moves past the value of a local extremum of Q0(C), the smallest root, and the
couplings with it, can jump to another branch.
The remaining conditions (isovector, scalar-potential minimum, coupling ranges) are checked at that root
only; a failure there is reported, not replaced by a larger root.

Negative Lambda_v: the omega-rho cross term gives the rho meson the effective mass m_rho*^2 = m_rho^2 +
Lambda_v g_omega^2 g_rho^2 omega_0^2 in matter. The inversion accepts Lambda_v < 0 when m_rho*^2 > 0 at
saturation, which J0 above its kinetic part (g_rho^2 > 0) and the L0 condition guarantee. Since omega_0
grows with density, m_rho*^2 then reaches 0 at some rho_c > rho0, where the symmetry energy diverges and
beyond which it is negative and the rho field unstable; :func:`rho_meson_instability_density` gives rho_c.

Internally quantities are in powers of fm^-1 (see :mod:`nucleiml.eos`).
"""

from __future__ import annotations

import bisect
import enum
import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import _q0_quartic as _q0q
from .constants import (
    DEFAULT_M_OMEGA_MEV,
    DEFAULT_M_RHO_MEV,
    DEFAULT_M_SIGMA_MEV,
    DEFAULT_NUCLEON_MASS_MEV,
    HBARC_MEV_FM,
)
from .eos import (
    PI2,
    ScaledCouplings,
    d2scalar_density_dm2_species,
    dscalar_density_dm_species,
    fermi_integrals_species,
    kinetic_energy_density_species,
    matter_state,
    scalar_density_species,
    scalar_energy_density,
    symmetric_fermi_momentum,
)
from .parameters import (
    COUPLING_NAMES,
    NMP,
    NMP_NAMES,
    Couplings,
    ParameterError,
    as_nmp_matrix,
    check_array_ranges,
    check_int,
)

__all__ = [
    "CouplingsArrays",
    "CouplingsResult",
    "InversionFailure",
    "NoSaturationError",
    "couplings_from_nmp",
    "couplings_from_nmp_array",
    "ksym",
    "nmp_from_couplings",
    "rho_meson_instability_density",
    "saturation_properties",
]


class NoSaturationError(ValueError):
    """Symmetric nuclear matter described by the couplings has no saturation point."""


# --------------------------------------------------------------------------------------------------
# Density derivatives of symmetric matter at fixed couplings (analytic)
# --------------------------------------------------------------------------------------------------
def _second_order(rho, Mstar, S, E, x, Sp, b, c, F_S, rs_MM=None):
    """d^2 S / d rho^2 from implicit differentiation of the scalar field equation (symmetric matter);
    ``rs_MM`` (fm^-1), d^2 rho_s/dM*^2 of both species, is computed here unless given."""
    if rs_MM is None:
        rs_MM = 2.0 * d2scalar_density_dm2_species(np.sqrt(x), Mstar)
    F_SS = 2.0 * b + 6.0 * c * S - rs_MM
    F_Srho = x / E**3
    F_rhorho = Mstar * x / (3.0 * rho * E**3)
    return -(F_SS * Sp * Sp + 2.0 * F_Srho * Sp + F_rhorho) / F_S


def _saturation_quantities(rho, Mstar, S, V, Sp, alpha, C, b, c, F_S, beta, lam):
    """K, Q, J, L, Ksym (fm^-1) of symmetric matter at density rho where the fields are S, V and
    dS/drho = Sp. Exact at the saturation point (P = 0); J, L, Ksym are valid at any density."""
    kf = symmetric_fermi_momentum(rho)
    x = kf * kf
    E = np.sqrt(x + Mstar * Mstar)
    xp = 2.0 * x / (3.0 * rho)
    xpp = -2.0 * x / (9.0 * rho * rho)
    Vp = 1.0 / (alpha + 3.0 * C * V * V)
    Vpp = -6.0 * C * V * Vp**3
    Msp = -Sp
    Mspp = -_second_order(rho, Mstar, S, E, x, Sp, b, c, F_S)
    Ep = (0.5 * xp + Mstar * Msp) / E
    Epp = (0.5 * xpp + Msp * Msp + Mstar * Mspp - Ep * Ep) / E
    mup = Ep + Vp
    mupp = Epp + Vpp
    K = 9.0 * rho * mup
    Q = 27.0 * rho * rho * mupp - 9.0 * K
    # symmetry energy: kinetic + rho-meson parts
    Jk = x / (6.0 * E)
    Jkp = xp / (6.0 * E) - x * Ep / (6.0 * E * E)
    Jkpp = (
        xpp / (6.0 * E)
        - 2.0 * xp * Ep / (6.0 * E * E)
        - x * Epp / (6.0 * E * E)
        + 2.0 * x * Ep * Ep / (6.0 * E**3)
    )
    # with beta = m_rho^2/g_rho^2: J_pot = rho / (8 (beta + lam V^2))
    mr = beta + lam * V * V
    mrp = 2.0 * lam * V * Vp
    mrpp = 2.0 * lam * (Vp * Vp + V * Vpp)
    Jv = rho / (8.0 * mr)
    Jvp = (1.0 / mr - rho * mrp / mr**2) / 8.0
    Jvpp = (-2.0 * mrp / mr**2 - rho * mrpp / mr**2 + 2.0 * rho * mrp**2 / mr**3) / 8.0
    J = Jk + Jv
    L = 3.0 * rho * (Jkp + Jvp)
    Ksym = 9.0 * rho * rho * (Jkpp + Jvpp)
    return K, Q, J, L, Ksym


# --------------------------------------------------------------------------------------------------
# Forward: couplings -> NMPs
# --------------------------------------------------------------------------------------------------
def _scaled(cp: Couplings) -> ScaledCouplings:
    return ScaledCouplings.from_couplings(cp)


def _symmetric_point(sc: ScaledCouplings, rho):
    """Fields and the dS/drho, F_S of symmetric matter at density rho (fm^-3)."""
    st = matter_state(sc, rho, 0.0)
    S = st.S
    Mstar = sc.M - S
    kf = symmetric_fermi_momentum(rho)
    E = np.sqrt(kf * kf + Mstar * Mstar)
    F_S = sc.a + 2 * sc.b * S + 3 * sc.c * S * S + 2.0 * dscalar_density_dm_species(kf, Mstar)
    Sp = (Mstar / E) / F_S
    return st, Mstar, Sp, F_S


def _expects_couplings(func: str, couplings) -> None:
    if not isinstance(couplings, Couplings):
        raise ParameterError(f"{func} expects Couplings, got {type(couplings).__name__}")


def _saturation_bracket(grid, e_per_a, p, ok, i):
    """(lo, hi) grid densities bracketing the saturation point: the E/A minimum ``i`` on the grid when
    the pressure changes sign across it, else the lowest-E/A sign change of P from - to + between two
    physical grid points (a local minimum of E/A); None when there is none."""
    if 0 < i < grid.size - 1 and ok[i - 1] and ok[i + 1] and p[i - 1] < 0.0 < p[i + 1]:
        return grid[i - 1], grid[i + 1]
    rising = ok[:-1] & ok[1:] & (p[:-1] < 0.0) & (p[1:] >= 0.0)
    if not rising.any():
        return None
    k = np.flatnonzero(rising)
    k = k[np.argmin(np.minimum(e_per_a[k], e_per_a[k + 1]))]
    return grid[k], grid[k + 1]


def saturation_density(couplings: Couplings, rho_min: float = 0.02, rho_max: float = 0.6) -> float:
    """Saturation density (fm^-3) of symmetric matter: the minimum of E/A in [rho_min, rho_max].

    The pressure is scanned on a grid; its root is refined (Brent) in the grid interval where it changes
    sign from negative to positive around the lowest E/A (a local minimum of E/A among physical points).

    Raises
    ------
    NoSaturationError
        When E/A has no minimum there among densities where the scalar field has a physical solution
        (e.g. E/A still falls where M* reaches 0); the message gives the density range and the reason.
    """
    from scipy.optimize import brentq

    sc = _scaled(couplings)
    grid = np.linspace(rho_min, rho_max, 141)
    st = matter_state(sc, grid, 0.0)
    ok = np.asarray(st.ok & np.isfinite(st.energy_density) & np.isfinite(st.pressure))
    e_per_a = np.where(ok, st.energy_density / grid, np.inf)
    i = int(np.argmin(e_per_a))
    bracket = _saturation_bracket(grid, e_per_a, np.where(ok, st.pressure, np.nan), ok, i)
    if bracket is None:
        if not ok.any():
            why = "the scalar field has no physical solution (M* > 0) at any density there"
        elif not ok.all():
            last = grid[ok][-1]
            why = f"E/A still falls where M* reaches 0 (no physical scalar field above {last:.3f} fm^-3)"
        else:
            why = "E/A has no minimum there (the pressure has no zero rising from negative)"
        raise NoSaturationError(
            f"symmetric matter has no saturation point in [{rho_min}, {rho_max}] fm^-3: {why}; couplings {couplings}"
        )

    def p_of(r):
        return float(matter_state(sc, r, 0.0).pressure)

    return brentq(p_of, *bracket, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200)


@dataclass(frozen=True)
class SaturationProperties:
    """All nuclear-matter properties at saturation: the seven NMPs plus Ksym (MeV) and the
    pressure there (MeV fm^-3; zero up to round-off)."""

    nmp: NMP
    Ksym: float
    pressure: float


def saturation_properties(couplings: Couplings) -> SaturationProperties:
    """Saturation point of symmetric matter and the NMPs there, with Ksym.

    Raises
    ------
    ParameterError
        If ``couplings`` is not a :class:`Couplings`, or an NMP at the saturation point lies outside the
        physical ranges of :class:`NMP` (the message names it).
    NoSaturationError
        If symmetric matter does not saturate (see :func:`saturation_density`).
    """
    _expects_couplings("saturation_properties", couplings)
    sc = _scaled(couplings)
    rho0 = saturation_density(couplings)
    st, Mstar, Sp, F_S = _symmetric_point(sc, np.asarray(rho0))
    K, Q, J, L, Ksym = _saturation_quantities(
        rho0, Mstar, st.S, st.V, Sp, sc.alpha, sc.C, sc.b, sc.c, F_S, sc.beta, sc.Lambda_v
    )
    h = HBARC_MEV_FM
    try:
        nmp = NMP(
            rho0=float(rho0),
            E0=float((st.energy_density / rho0 - sc.M) * h),
            K0=float(K * h),
            Q0=float(Q * h),
            mstar=float(Mstar / sc.M),
            J0=float(J * h),
            L0=float(L * h),
        )
    except ParameterError as exc:
        raise ParameterError(f"the saturation point of these couplings has {exc}") from None
    return SaturationProperties(nmp=nmp, Ksym=float(Ksym * h), pressure=float(st.pressure * h))


def nmp_from_couplings(couplings: Couplings) -> NMP:
    """The seven nuclear-matter parameters at the saturation density of symmetric matter.

    Raises
    ------
    ParameterError, NoSaturationError
        As :func:`saturation_properties`.
    """
    _expects_couplings("nmp_from_couplings", couplings)
    return saturation_properties(couplings).nmp


def ksym(couplings: Couplings) -> float:
    """Curvature of the symmetry energy, Ksym = 9 rho0^2 d^2 J/d rho^2 at saturation (MeV).

    Raises
    ------
    ParameterError, NoSaturationError
        As :func:`saturation_properties`.
    """
    _expects_couplings("ksym", couplings)
    return saturation_properties(couplings).Ksym


def symmetry_energy(couplings: Couplings, rho):
    """Symmetry energy J(rho) of the RMF model (MeV) at density rho (fm^-3): the second derivative of
    E/A with respect to delta at delta = 0, divided by 2."""
    return symmetry_energy_kernel(_scaled(couplings), rho)


def symmetry_energy_kernel(sc: ScaledCouplings, rho):
    """:func:`symmetry_energy` for scaled couplings (scalars or arrays broadcastable with rho), MeV; NaN
    where the scalar field has no physical solution."""
    rho = np.asarray(rho, dtype=float)
    st = matter_state(sc, rho, 0.0)
    Mstar = sc.M - st.S
    kf = symmetric_fermi_momentum(rho)
    J = kf * kf / (6.0 * np.sqrt(kf * kf + Mstar * Mstar)) + rho / (8.0 * (sc.beta + sc.Lambda_v * st.V**2))
    return np.where(st.ok, J * HBARC_MEV_FM, np.nan)


def rho_meson_instability_density(couplings: Couplings) -> float:
    """Baryon density (fm^-3) of symmetric matter at which the effective rho-meson mass vanishes.

    The omega-rho cross term ``+(1/2) Lambda_v g_omega^2 g_rho^2 (omega.omega)(rho.rho)`` adds to the
    rho mass term, so that in matter the rho field has the effective mass

        m_rho*^2 = m_rho^2 + Lambda_v g_rho^2 V^2,        V = g_omega omega_0

    (the rho field equation ``(beta + Lambda_v V^2) R = rho_3 / 2`` of :mod:`nucleiml.eos`, times
    g_rho^2). V grows with density, so for ``Lambda_v >= 0`` m_rho*^2 never vanishes and the result is
    ``inf``. For ``Lambda_v < 0`` it vanishes at V_c^2 = m_rho^2 / (|Lambda_v| g_rho^2), which the omega
    field equation of symmetric matter, ``alpha V + C V^3 = rho`` with ``alpha = m_omega^2 / g_omega^2``,
    reaches at

        rho_c = alpha V_c + C V_c^3.

    Approaching rho_c from below, the rho-meson part of the symmetry energy, ``rho g_rho^2 / (8 m_rho*^2)``,
    diverges; above it m_rho*^2 < 0: the symmetry energy is negative (symmetric matter is unstable
    against becoming asymmetric) and the static rho field equation has no bounded solution. The model
    is then meaningless for isovector physics there. Couplings from :func:`couplings_from_nmp` always
    have m_rho*^2 > 0 at saturation (J0 above its kinetic part), hence rho_c > rho0.

    Parameters
    ----------
    couplings : Couplings
        The parameter set (A in fm^-1; B, C, Lambda_v dimensionless; masses in MeV).

    Returns
    -------
    float
        rho_c in fm^-3, or ``inf`` when ``Lambda_v >= 0``.

    Raises
    ------
    ParameterError
        If ``couplings`` is not a :class:`Couplings`.
    """
    _expects_couplings("rho_meson_instability_density", couplings)
    if couplings.Lambda_v >= 0.0:
        return float("inf")
    sc = _scaled(couplings)
    V_c = np.sqrt(sc.beta / -sc.Lambda_v)
    return float(sc.alpha * V_c + sc.C * V_c**3)


# --------------------------------------------------------------------------------------------------
# Inverse: NMPs -> couplings
# --------------------------------------------------------------------------------------------------
class InversionFailure(enum.IntEnum):
    """Why an NMP set has no physical couplings (the seed's *Non-convergent A*)."""

    OK = 0
    NONPOSITIVE_VECTOR_FIELD = 1
    NO_ROOT_FOR_C = 2
    NEGATIVE_G_OMEGA2 = 3
    UNSTABLE_SCALAR_FIELD = 4
    NEGATIVE_G_SIGMA2 = 5
    NEGATIVE_G_RHO2 = 6
    L0_NEEDS_NEGATIVE_G_RHO2 = 7
    SCALAR_ENERGY_NOT_MINIMAL = 8
    COUPLINGS_OUT_OF_RANGE = 9

    @property
    def message(self) -> str:
        return _FAILURE_MESSAGES[self]


_FAILURE_MESSAGES = {
    InversionFailure.OK: "",
    InversionFailure.NONPOSITIVE_VECTOR_FIELD: "g_omega*omega0 <= 0: E0 + M is below the effective Fermi energy",
    InversionFailure.NO_ROOT_FOR_C: "no root C >= 0 of Q0(C) = Q0 with physical g_omega^2, g_sigma^2",
    InversionFailure.NEGATIVE_G_OMEGA2: "negative g_omega^2",
    InversionFailure.UNSTABLE_SCALAR_FIELD: "unstable scalar field: K0 requires dM*/drho >= 0",
    InversionFailure.NEGATIVE_G_SIGMA2: "negative g_sigma^2",
    InversionFailure.NEGATIVE_G_RHO2: "negative g_rho^2: J0 below its kinetic part",
    InversionFailure.L0_NEEDS_NEGATIVE_G_RHO2: (
        "negative g_rho^2: L0 too low for J0 (Lambda_v g_rho^2 V^2 would exceed m_rho*^2)"
    ),
    InversionFailure.SCALAR_ENERGY_NOT_MINIMAL: (
        "unbounded/metastable scalar potential: the saturation solution is not the energy minimum in sigma"
    ),
    InversionFailure.COUPLINGS_OUT_OF_RANGE: "couplings outside the physical ranges of Couplings",
}


class _Invariants(NamedTuple):
    """The parts of :func:`_isoscalar_given_C` that do not depend on the trial C, per member (fm^-1
    powers): Fermi momentum ``kf`` and ``x = kf^2``, ``E = sqrt(x + M*^2)``, ``S = M - M*``, and the
    scalar density ``rs`` (fm^-3), its first and second M* derivatives ``rs_M``, ``rs_MM`` and the
    kinetic energy density ``eps_kin`` (fm^-4), all of both species."""

    kf: np.ndarray
    x: np.ndarray
    E: np.ndarray
    S: np.ndarray
    rs: np.ndarray
    rs_M: np.ndarray
    rs_MM: np.ndarray
    eps_kin: np.ndarray


def _invariants(rho, Mstar, M) -> _Invariants:
    """:class:`_Invariants` of densities ``rho`` (fm^-3) and M* (fm^-1), nucleon mass ``M`` (fm^-1):
    bit for bit the numbers :func:`_isoscalar_given_C` computes for itself, once instead of per trial C."""
    kf = symmetric_fermi_momentum(rho)
    x = kf * kf
    rs, rs_M, _, eps_kin = fermi_integrals_species(kf, Mstar)
    rs_MM = 2.0 * d2scalar_density_dm2_species(np.sqrt(x), Mstar)
    E = np.sqrt(x + Mstar * Mstar)
    return _Invariants(kf, x, E, M - Mstar, 2.0 * rs, 2.0 * rs_M, rs_MM, 2.0 * eps_kin)


def _isoscalar_given_C(rho, Mstar, Vfield, E0, K0, C, M, inv: _Invariants | None = None):
    """Closed-form isoscalar couplings for a trial C (all arrays, fm^-1 powers).

    ``inv`` (from :func:`_invariants` of the same members) skips the C-independent part; the numbers are
    the same. Returns alpha, a, b, c, Sp, F_S, Q (the skewness the trial C produces) and a failure code
    array.
    """
    if inv is None:
        kf = symmetric_fermi_momentum(rho)
        x = kf * kf
        E = np.sqrt(x + Mstar * Mstar)
        S = M - Mstar
        rs = 2.0 * scalar_density_species(kf, Mstar)
        rs_M = 2.0 * dscalar_density_dm_species(kf, Mstar)
        eps_kin = 2.0 * kinetic_energy_density_species(kf, Mstar)
        rs_MM = 2.0 * d2scalar_density_dm2_species(np.sqrt(x), Mstar)
        inv = _Invariants(kf, x, E, S, rs, rs_M, rs_MM, eps_kin)
    terms = _isoscalar_terms if np.ndim(C) != 1 else _isoscalar_terms_blocked
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        alpha, a, b, c, Sp, F_S, Q = terms(rho, Mstar, Vfield, E0, K0, C, M, inv)
    code = np.zeros(np.shape(alpha), dtype=np.int8)
    code = np.where((code == 0) & ~(alpha > 0), InversionFailure.NEGATIVE_G_OMEGA2, code)
    code = np.where((code == 0) & ~(Sp > 0), InversionFailure.UNSTABLE_SCALAR_FIELD, code)
    code = np.where((code == 0) & ~(a > 0), InversionFailure.NEGATIVE_G_SIGMA2, code)
    return alpha, a, b, c, Sp, F_S, Q, code


# Members per block of _isoscalar_terms_blocked (see nucleiml._q0_quartic.QUARTIC_BLOCK: the temporaries of
# a block stay below glibc's threshold for returning memory to the system).
_TERMS_BLOCK = 8192


def _isoscalar_terms_blocked(rho, Mstar, V, E0, K0, C, M, inv: _Invariants):
    """:func:`_isoscalar_terms` of (n,) arrays in blocks of _TERMS_BLOCK members (the same numbers)."""
    n = np.size(C)
    if n <= _TERMS_BLOCK:
        return _isoscalar_terms(rho, Mstar, V, E0, K0, C, M, inv)
    out = [np.empty(n) for _ in range(7)]
    for i in range(0, n, _TERMS_BLOCK):
        b = slice(i, i + _TERMS_BLOCK)
        part = _Invariants(*(a[b] for a in inv))
        for o, v in zip(out, _isoscalar_terms(rho[b], Mstar[b], V[b], E0[b], K0[b], C[b], M, part)):
            o[b] = v
    return tuple(out)


def _isoscalar_terms(rho, Mstar, V, E0, K0, C, M, inv: _Invariants):
    """The arithmetic of :func:`_isoscalar_given_C` (operators only, so that arrays or Python floats
    work): alpha, a, b, c, Sp, F_S, Q in fm^-1 powers."""
    x, E, S = inv.x, inv.E, inv.S
    alpha = (rho - C * V**3) / V
    Vp = 1.0 / (alpha + 3.0 * C * V * V)
    Ep = K0 / (9.0 * rho) - Vp
    Msp = (Ep * E - x / (3.0 * rho)) / Mstar
    Sp = -Msp
    F_S = (Mstar / E) / Sp
    D = F_S - inv.rs_M
    eps0 = rho * (E0 + M)
    r = eps0 - inv.eps_kin - 0.5 * alpha * V * V - 0.75 * C * V**4
    p = inv.rs * S
    q = D * S * S
    u = 12.0 * r - 6.0 * p + q
    v = -24.0 * r + 15.0 * p - 3.0 * q
    w = 12.0 * r - 8.0 * p + 2.0 * q
    a = u / S**2
    b = v / S**3
    c = w / S**4
    Spp = _second_order(rho, Mstar, S, E, x, Sp, b, c, F_S, inv.rs_MM)
    Mspp = -Spp
    Ep_ = (x / (3.0 * rho) + Mstar * Msp) / E
    Epp = (-x / (9.0 * rho * rho) + Msp * Msp + Mstar * Mspp - Ep_ * Ep_) / E
    Vpp = -6.0 * C * V * Vp**3
    Q = 27.0 * rho * rho * (Epp + Vpp) - 9.0 * K0
    return alpha, a, b, c, Sp, F_S, Q


def _isovector(rho, Mstar, V, Sp, alpha, C, J0, L0, x=None, E=None):
    """Closed-form isovector part from J0 and L0 (fm^-1 powers); ``x = kf^2`` and ``E = sqrt(x + M*^2)``
    are computed here unless given (:class:`_Invariants`: the same numbers).

    Returns mr = m_rho*^2/g_rho^2 = beta + Lambda_v V^2 at saturation, z = Lambda_v V^2 / mr, and a
    failure code array; the caller converts to g_rho and Lambda_v with the physical m_rho.
    """
    if x is None:
        kf = symmetric_fermi_momentum(rho)
        x = kf * kf
        E = np.sqrt(x + Mstar * Mstar)
    with np.errstate(invalid="ignore", divide="ignore"):
        mr, z, Jv = _isovector_terms(rho, Mstar, V, Sp, alpha, C, J0, L0, x, E)
    code = np.zeros(np.shape(z), dtype=np.int8)
    code = np.where(~(Jv > 0), InversionFailure.NEGATIVE_G_RHO2, code)
    code = np.where((code == 0) & ~(z < 1.0), InversionFailure.L0_NEEDS_NEGATIVE_G_RHO2, code)
    return mr, z, code


def _isovector_terms(rho, Mstar, V, Sp, alpha, C, J0, L0, x, E):
    """The arithmetic of :func:`_isovector` (operators only) given x = k_F^2 and E = sqrt(x + M*^2):
    mr, z and the potential part Jv of the symmetry energy (fm^-1 powers)."""
    Vp = 1.0 / (alpha + 3.0 * C * V * V)
    Ep = (x / (3.0 * rho) - Mstar * Sp) / E
    Jk = x / (6.0 * E)
    Lk = 3.0 * rho * ((2.0 * x / (3.0 * rho)) / (6.0 * E) - x * Ep / (6.0 * E * E))
    Jv = J0 - Jk
    Lv = L0 - Lk
    # Jv = rho / (8 mr), mr = beta + lam V^2; Lv = 3 Jv (1 - rho mr'/mr), mr' = 2 lam V V'
    # z = lam V^2 / mr  =>  1 - 2 z V' rho / V = Lv / (3 Jv)
    z = (1.0 - Lv / (3.0 * Jv)) * V / (2.0 * Vp * rho)
    mr = rho / (8.0 * Jv)
    return mr, z, Jv


# Absolute floor of the Illinois stopping width, so that a root at exactly C = 0 also stops.
_TINY = 1e-300
# Illinois refinement: iteration cap, and the relative bracket width at which a member stops.
_ILLINOIS_MAX_ITER = 100
_ILLINOIS_RTOL = 1e-15


def _illinois(f, lo, hi, flo, fhi, n_iter=_ILLINOIS_MAX_ITER, rtol=_ILLINOIS_RTOL):
    """Vectorised Illinois (modified regula falsi) root refinement inside sign-changing brackets.

    ``f(x, members)`` maps trial points ``x`` of the members ``members`` (an index array) to their
    residuals; ``lo``, ``hi`` bracket a sign change with residuals ``flo``, ``fhi``. Each member stops on
    its own criterion (bracket narrower than ``rtol`` relative, or an exact zero), so its root does not
    depend on the other members; only members still refining are evaluated.
    """
    side = np.zeros(lo.shape, dtype=np.int8)
    x = 0.5 * (lo + hi)
    done = np.zeros(lo.shape, dtype=bool)
    fx = np.zeros(lo.shape)
    for _ in range(n_iter):
        xn = (lo * fhi - hi * flo) / (fhi - flo)
        xn = np.where(np.isfinite(xn) & (xn > lo) & (xn < hi), xn, 0.5 * (lo + hi))
        members = np.flatnonzero(~done)
        fx[members] = f(xn[members], members)
        live = ~done
        left = live & (np.sign(fx) == np.sign(flo))
        right = live & ~left
        # replace the endpoint on the same side; halve the other's f when the same side repeats
        fhi = np.where(left & (side == 1), 0.5 * fhi, fhi)
        flo = np.where(right & (side == -1), 0.5 * flo, flo)
        lo, flo = np.where(left, xn, lo), np.where(left, fx, flo)
        hi, fhi = np.where(right, xn, hi), np.where(right, fx, fhi)
        side = np.where(left, 1, np.where(right, -1, side)).astype(np.int8)
        x = np.where(live, xn, x)
        done |= ((hi - lo) <= rtol * np.abs(x) + _TINY) | (fx == 0)
        if np.all(done):
            break
    return x


# Scalar-minimum check: scan points over S in [0, M), how close to S = M (M* = 0) the scan goes, and
# the relative round-off allowed before a scan point counts as deeper than the saturation solution.
_MIN_CHECK_N_SCAN = 96
_MIN_CHECK_T_END = 1.0 - 1e-6
_MIN_CHECK_RTOL = 1e-12


def _scalar_minimum_ok(rho, Mstar, a, b, c, M, n_scan=_MIN_CHECK_N_SCAN):
    """True where the scalar field at saturation is the global minimum of the energy density over
    S in [0, M) at fixed densities (i.e. the sigma potential does not run away to a deeper state)."""
    kf = symmetric_fermi_momentum(rho)
    e0 = scalar_energy_density(M - Mstar, kf, kf, a, b, c, M)  # kf twice: symmetric, kinetic term once
    t = np.linspace(0.0, _MIN_CHECK_T_END, n_scan)[:, None]
    with np.errstate(invalid="ignore", over="ignore"):
        grid = scalar_energy_density(t * M[None, :] if np.ndim(M) else t * M, kf, kf, a, b, c, M)
    return np.all(grid >= e0[None, :] - _MIN_CHECK_RTOL * np.abs(e0[None, :]), axis=0)


# The certificate of the scalar minimum needs its lower bound above this fraction of the size of its terms.
_MIN_CERTIFY_RTOL = 1e-9


def _scalar_minimum_certified(kf, S0, a, b, c, M):
    """True where the scalar field S0 (fm^-1) at saturation is provably the global minimum of the energy
    density over S in [0, M] (M in fm^-1), so that :func:`_scalar_minimum_ok` would pass; False where
    this bound cannot tell (then run the scan).

    The energy density is stationary at S0, the kinetic part is convex in S with curvature at least
    ``kmin = d rho_s / dM*`` at M* = M (its smallest, at S = 0), and the sigma potential is a quartic, so

        eps(S) - eps(S0) >= (S - S0)^2 [c (S^2 + 2 S S0 + 3 S0^2) / 4 + b (S + 2 S0) / 3 + a / 2 + kmin / 2].

    The bracket is a quadratic in S: where its minimum over [0, M] is positive (beyond a margin) no S is
    deeper. ``kf`` in fm^-1, ``a`` fm^-2, ``b`` fm^-1, ``c`` dimensionless.
    """
    kmin = 2.0 * dscalar_density_dm_species(kf, M)
    q2 = 0.25 * c
    q1 = 0.5 * c * S0 + b / 3.0
    q0 = 0.75 * c * S0 * S0 + 2.0 * b * S0 / 3.0 + 0.5 * a + 0.5 * kmin
    size = np.abs(q2) * M * M + np.abs(q1) * M + 0.75 * np.abs(c) * S0 * S0 + np.abs(b) * S0 + a + kmin
    with np.errstate(invalid="ignore", divide="ignore"):
        vertex = np.clip(-q1 / (2.0 * q2), 0.0, M)
    lowest = np.fmin(np.fmin(q0, q0 + M * (q1 + M * q2)), q0 + vertex * (q1 + vertex * q2))
    return lowest > _MIN_CERTIFY_RTOL * size


def _scalar_minimum_certified_one(kf: float, S0: float, a: float, b: float, c: float, M: float) -> bool:
    """:func:`_scalar_minimum_certified` of one member in floats (the same bound and margin)."""
    e = math.sqrt(kf * kf + M * M)
    kmin = 2.0 * (0.5 * kf * e + M * M * kf / e - 1.5 * M * M * math.asinh(kf / M)) / PI2
    q2 = 0.25 * c
    q1 = 0.5 * c * S0 + b / 3.0
    q0 = 0.75 * c * S0 * S0 + 2.0 * b * S0 / 3.0 + 0.5 * a + 0.5 * kmin
    size = abs(q2) * M * M + abs(q1) * M + 0.75 * abs(c) * S0 * S0 + abs(b) * S0 + a + kmin
    lowest = min(q0, q0 + M * (q1 + M * q2))
    if q2 != 0.0:
        vertex = min(max(-q1 / (2.0 * q2), 0.0), M)
        lowest = min(lowest, q0 + vertex * (q1 + vertex * q2))
    return lowest > _MIN_CERTIFY_RTOL * size


@dataclass(frozen=True)
class CouplingsArrays:
    """Vectorised inversion result.

    ``couplings`` maps the seven coupling names (g_sigma, g_omega, g_rho, A [fm^-1], B, C, Lambda_v)
    to arrays (NaN where no physical couplings exist); ``ok`` is the boolean mask; ``code`` holds the
    :class:`InversionFailure` codes and ``reason`` their messages ("" where ok). ``masses`` holds the
    meson and nucleon masses (MeV) used.
    """

    couplings: dict
    ok: np.ndarray
    code: np.ndarray
    masses: dict

    @property
    def reason(self) -> np.ndarray:
        return np.array([InversionFailure(int(k)).message for k in self.code], dtype=object)

    def __len__(self) -> int:
        return int(self.ok.size)

    def at(self, i: int) -> CouplingsResult:
        """The scalar result for sample ``i``."""
        code = InversionFailure(int(self.code[i]))
        if code != InversionFailure.OK:
            return CouplingsResult(couplings=None, failure=code)
        values = {k: float(v[i]) for k, v in self.couplings.items()}
        return CouplingsResult(couplings=Couplings(**values, **self.masses), failure=code)


@dataclass(frozen=True)
class CouplingsResult:
    """Result of :func:`couplings_from_nmp`: ``couplings`` is None when no physical couplings exist,
    with ``reason`` naming the condition that failed (the seed's *Non-convergent A*)."""

    couplings: Couplings | None
    failure: InversionFailure = InversionFailure.OK

    @property
    def ok(self) -> bool:
        return self.couplings is not None

    @property
    def reason(self) -> str | None:
        return None if self.ok else self.failure.message


def _as_nmp_columns(table) -> dict:
    """NMP columns (contiguous (n,) float arrays) of anything :func:`~nucleiml.parameters.as_nmp_matrix`
    accepts, each checked against the NMP ranges."""
    arr = as_nmp_matrix(table)
    cols = {k: np.ascontiguousarray(arr[:, i]) for i, k in enumerate(NMP_NAMES)}
    check_array_ranges(cols, NMP.RANGES, NMP_NAMES)
    return cols


# --------------------------------------------------------------------------------------------------
# The inversion in pieces: NMPs in internal units, the scan over C, the root, the physical couplings
# --------------------------------------------------------------------------------------------------
# Scan of Q0(C) over t = C / Cmax, Cmax = rho0 / V^3 (where g_omega^2 -> infinity): evenly spaced up to
# _SCAN_T_EVEN_END, plus one point just below the pole at t = 1.
_SCAN_T_EVEN_END = 0.98
_SCAN_T_LAST = 0.999


@dataclass(frozen=True)
class _SaturationInput:
    """NMPs of a batch in internal units (fm^-1 powers) and the vector field they fix.

    ``V = g_omega omega_0`` (fm^-1) is replaced by 1.0 where the NMPs give V <= 0 (those members
    already carry the failure code NONPOSITIVE_VECTOR_FIELD).
    """

    rho: np.ndarray  # fm^-3
    Mstar: np.ndarray  # fm^-1
    V: np.ndarray  # fm^-1
    E0: np.ndarray  # fm^-1
    K0: np.ndarray  # fm^-1
    Q0: np.ndarray  # fm^-1
    J0: np.ndarray  # fm^-1
    L0: np.ndarray  # fm^-1
    M: float  # fm^-1

    def take(self, idx) -> _SaturationInput:
        """The members ``idx`` (an index array) of the batch."""
        return _SaturationInput(
            rho=self.rho[idx],
            Mstar=self.Mstar[idx],
            V=self.V[idx],
            E0=self.E0[idx],
            K0=self.K0[idx],
            Q0=self.Q0[idx],
            J0=self.J0[idx],
            L0=self.L0[idx],
            M=self.M,
        )


def _saturation_input(cols: dict, M: float) -> tuple[_SaturationInput, np.ndarray]:
    """Internal-unit NMPs and the failure code array (NONPOSITIVE_VECTOR_FIELD or OK) from NMP
    columns (fm^-3, MeV) and the nucleon mass M (MeV)."""
    h = HBARC_MEV_FM
    Mf = M / h
    rho = cols["rho0"]
    E0 = cols["E0"] / h
    Mstar = cols["mstar"] * Mf
    kf = symmetric_fermi_momentum(rho)
    V = E0 + Mf - np.sqrt(kf * kf + Mstar * Mstar)
    code = np.where(V > 0, InversionFailure.OK, InversionFailure.NONPOSITIVE_VECTOR_FIELD).astype(np.int8)
    sat = _SaturationInput(
        rho=rho,
        Mstar=Mstar,
        V=np.where(V > 0, V, 1.0),
        E0=E0,
        K0=cols["K0"] / h,
        Q0=cols["Q0"] / h,
        J0=cols["J0"] / h,
        L0=cols["L0"] / h,
        M=Mf,
    )
    return sat, code


def _q0_residual(sat: _SaturationInput, C):
    """Q0(C) - Q0 (fm^-1) and the failure codes of the isoscalar couplings at trial C (broadcast
    against the members of ``sat``)."""
    out = _isoscalar_given_C(sat.rho, sat.Mstar, sat.V, sat.E0, sat.K0, C, sat.M)
    return out[6] - sat.Q0, out[7]


def _q0_residual_only(sat: _SaturationInput, C):
    """Q0(C) - Q0 (fm^-1) alone, the function whose root :func:`_illinois` refines."""
    return _q0_residual(sat, C)[0]


def _scan_grid_t(n_scan: int) -> np.ndarray:
    """The scan points t = C / Cmax: evenly spaced from 0 to _SCAN_T_EVEN_END, then _SCAN_T_LAST."""
    return np.concatenate([np.linspace(0.0, _SCAN_T_EVEN_END, n_scan - 1), [_SCAN_T_LAST]])


def _scan_q0(sat: _SaturationInput, t: np.ndarray):
    """Q0(C) - Q0 at the scan points ``t`` (k,): returns the grid C (k, n), the residual and a mask of
    grid points where the isoscalar couplings are admissible (g_omega^2, g_sigma^2 > 0, dM*/drho < 0)."""
    C_grid = t[:, None] * (sat.rho / sat.V**3)[None, :]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        f_grid, code_grid = _q0_residual(sat, C_grid)
    valid = (code_grid == 0) & np.isfinite(f_grid)
    return C_grid, f_grid, valid


# |Q0(C=0) - Q0| below this fraction of 9 K0 + |Q0| (the size of the terms whose difference is Q0) counts
# as a root at C = 0: a set published with C = 0 reproduces its own Q0 at C = 0 only up to round-off, at
# worst ~1.5e-12 of that scale over 187 perturbed NL1/NL3/NLSH/NLZ-like sets, and either sign.
_Q0_ROOT_AT_ZERO_RTOL = 1e-10

# Scan points evaluated per pass of :func:`_first_root_of_q0`; a member leaves the scan after the pass in
# which its smallest root is found (the median prior draw with a root has it below the eighth point).
# Batches of fewer than _SCAN_PASSES_MIN_MEMBERS members are scanned in one pass: for them the fixed cost
# of a pass outweighs the points saved.
_SCAN_CHUNK = 8
_SCAN_PASSES_MIN_MEMBERS = 256


def _first_root_on_grid(f_grid, valid, tol_at_zero):
    """Where the smallest admissible root lies on a stretch of the scan grid, per member.

    A root is a grid point k with an exact zero of the residual (or, at k = 0 only, a residual within
    ``tol_at_zero``), or a strict sign change between admissible neighbours k, k + 1. Returns
    ``(k, at_point, has)``: the grid index (in ``f_grid``) of the smallest root, whether it is the grid
    point k itself (else it lies inside (k, k + 1)), and whether there is any.
    """
    n_grid = f_grid.shape[0]
    point = valid & (f_grid == 0)
    point[0] |= valid[0] & (np.abs(f_grid[0]) <= tol_at_zero)
    change = valid[:-1] & valid[1:] & (np.sign(f_grid[:-1]) * np.sign(f_grid[1:]) < 0)
    k_point = np.where(point.any(axis=0), np.argmax(point, axis=0), n_grid)
    k_change = np.where(change.any(axis=0), np.argmax(change, axis=0), n_grid)
    k = np.minimum(k_point, k_change)
    return k, k_point <= k_change, k < n_grid


class _Bracket(NamedTuple):
    """The smallest root of Q0(C) = Q0 per member, as found by :func:`_first_root_of_q0`: ``has`` (any
    root), ``at_point`` (the root is the scan point ``lo`` itself) and otherwise the sign-changing
    bracket (``lo``, ``hi``) with residuals (``flo``, ``fhi``); C is dimensionless, residuals in fm^-1."""

    has: np.ndarray
    at_point: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    flo: np.ndarray
    fhi: np.ndarray


def _first_root_of_q0(sat: _SaturationInput, n_scan: int, tol_at_zero) -> _Bracket:
    """Scan Q0(C) - Q0 over the grid :func:`_scan_grid_t` in passes of _SCAN_CHUNK points (one pass for
    small batches) and locate each member's smallest admissible root.

    Each pass also re-evaluates the previous pass's last point, so that a sign change across two passes is
    seen; members whose root is found leave the scan. The smallest root on the whole grid is the first one
    found, so the result is the one of a scan of the whole grid (the same grid values, bit for bit).
    """
    n = sat.rho.size
    t_all = _scan_grid_t(n_scan)
    chunk = _SCAN_CHUNK if n >= _SCAN_PASSES_MIN_MEMBERS else n_scan
    has = np.zeros(n, dtype=bool)
    at_point = np.zeros(n, dtype=bool)
    lo, hi, flo, fhi = (np.full(n, np.nan) for _ in range(4))
    todo = np.arange(n)
    for start in range(0, n_scan, chunk):
        first = max(start - 1, 0)  # the previous pass's last point, for a sign change across passes
        t = t_all[first : start + chunk]
        C_grid, f_grid, valid = _scan_q0(sat.take(todo), t)
        tol = tol_at_zero[todo] if start == 0 else -1.0  # the round-off root counts at C = 0 only
        k, point, found = _first_root_on_grid(f_grid, valid, tol)
        hit, kh = np.flatnonzero(found), k[found]
        members = todo[hit]
        has[members], at_point[members] = True, point[hit]
        lo[members], flo[members] = C_grid[kh, hit], f_grid[kh, hit]
        inside = hit[~point[hit]]
        ki = k[inside]
        hi[todo[inside]], fhi[todo[inside]] = C_grid[ki + 1, inside], f_grid[ki + 1, inside]
        todo = todo[~found]
        if todo.size == 0:
            break
    return _Bracket(has, at_point, lo, hi, flo, fhi)


def _root_of_q0(sat: _SaturationInput, code: np.ndarray, n_scan: int):
    """The smallest admissible root C >= 0 of Q0(C) = Q0 for every member with ``code == OK``.

    Admissible: on the scan grid g_omega^2 > 0, g_sigma^2 > 0 and dM*/drho < 0 (the isoscalar
    conditions of :func:`_isoscalar_given_C`). A root within round-off of C = 0 is returned as C = 0
    exactly. Returns C (NaN where none) and the updated code array (NO_ROOT_FOR_C where the scan finds
    no root).
    """
    tol_at_zero = _Q0_ROOT_AT_ZERO_RTOL * (9.0 * sat.K0 + np.abs(sat.Q0))
    br = _first_root_of_q0(sat, n_scan, tol_at_zero)
    code = np.where((code == 0) & ~br.has, InversionFailure.NO_ROOT_FOR_C, code).astype(np.int8)
    C = np.full(code.size, np.nan)
    live = np.flatnonzero(code == 0)
    on_grid = live[br.at_point[live]]
    C[on_grid] = br.lo[on_grid]
    inside = live[~br.at_point[live]]
    if inside.size:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            sub = sat.take(inside)
            C[inside] = _illinois(
                lambda c, m: _q0_residual_only(sub.take(m), c),
                br.lo[inside],
                br.hi[inside],
                br.flo[inside],
                br.fhi[inside],
            )
    return C, code


# The quartic form of the residual (:mod:`nucleiml._q0_quartic`) stands for the direct formula to 7e-14
# of 9 K0 + |Q0| at the scan points (the worst of 9e6 scan points of 1.9e5 members: prior draws, roots
# placed in every scan interval, a wider box of NMPs); its decisions need a margin of _QUARTIC_RTOL of
# that scale (a factor 150 over it), of _QUARTIC_SIGN_RTOL of their terms' size for dS/drho (worst
# difference seen 2e-14) and g_sigma^2, and the residual of the direct formula at the quartic's root must
# be within _QUARTIC_VERIFY_RTOL of that scale.
_QUARTIC_RTOL = 1e-11
_QUARTIC_SIGN_RTOL = 1e-11
_QUARTIC_VERIFY_RTOL = 1e-10


class _QuarticRoot(NamedTuple):
    """What the quartic decides for the members it was given: ``none`` (no root on the scan, certain),
    ``found`` (the smallest root, verified), and for the found ones the root ``s`` (the quartic's
    variable), its scan interval ``j`` (the root lies between scan points j and j + 1). Members in neither
    are left to the scan."""

    none: np.ndarray
    found: np.ndarray
    s: np.ndarray
    j: np.ndarray


def _members(sat: _SaturationInput, inv: _Invariants, idx: np.ndarray):
    """The members ``idx`` (sorted indices) of ``sat`` and ``inv``; the same objects when that is all of
    them (no copy)."""
    if idx.size == sat.rho.size:
        return sat, inv
    return sat.take(idx), _Invariants(*(a[idx] for a in inv))


def _quartic_first_root(sat: _SaturationInput, quart, n_scan: int) -> _QuarticRoot:
    """The scan's answer (:func:`_first_root_of_q0`) read off the quartic ``quart`` of the members of
    ``sat``, where it can be certified.

    A sign change on the scan needs two admissible neighbours, and dS/drho, linear in s, falls with C:
    only scan points up to the last where dS/drho may be positive (within the margin) can take part. No
    root of the quartic up to there: no root on the scan. Else its smallest root there is the scan's if the
    quartic has opposite signs beyond the margin at the two scan points around it, and both are
    admissible beyond their margins. A residual within twice the at-zero tolerance at C = 0 is left to the
    scan, whose answer there is decided by round-off.
    """
    t_grid = _scan_grid_t(n_scan)
    s_grid = _q0q.s_of_t(t_grid, _SCAN_T_LAST)
    coef, sp = quart.coef, quart.sp
    scale = 9.0 * sat.K0 + np.abs(sat.Q0)
    margin = _QUARTIC_RTOL * scale
    m_sp = _QUARTIC_SIGN_RTOL * quart.sp_scale
    near_zero = np.abs(coef[0]) <= 2.0 * _Q0_ROOT_AT_ZERO_RTOL * scale
    s_sp = (sp[0] + m_sp) / -sp[1]  # beyond it dS/drho < 0 by more than the margin
    i_last = np.searchsorted(s_grid, s_sp, side="left") - 1
    none = ~near_zero & (i_last <= 0)
    search = np.flatnonzero(~near_zero & (i_last > 0))
    every = search.size == coef.shape[1]  # then no gathering
    rs = _q0q.first_root(
        coef if every else coef[:, search], s_grid[i_last[search]], margin if every else margin[search]
    )
    none[search[rs.status == _q0q.NO_ROOT]] = True
    iso = rs.status == _q0q.ISOLATED
    idx = search[iso]
    s = np.full(sat.rho.size, np.nan)
    j = np.zeros(sat.rho.size, dtype=np.intp)
    found = np.zeros(sat.rho.size, dtype=bool)
    c_idx = coef[:, idx]
    si = _q0q.refine_root(c_idx, rs.lo[iso], rs.hi[iso], rs.plo[iso], rs.phi[iso], guess=rs.guess[iso])
    ji = np.clip(np.searchsorted(s_grid, si, side="right") - 1, 0, n_scan - 2)
    ends = np.stack([s_grid[ji], s_grid[ji + 1]])  # (2, m)
    p_ends = _q0q.horner(c_idx[:, None, :], ends)
    up = c_idx[0] > 0  # the residual's sign at C = 0, and so at scan point j
    m_idx = margin[idx]
    pos, neg = p_ends > m_idx, p_ends < -m_idx
    ok = (
        (ends[0] < si)
        & (si < ends[1])
        & np.where(up, pos[0] & neg[1], neg[0] & pos[1])
        & np.all(_q0q.horner(sp[:, None, idx], ends) > m_sp[idx], axis=0)
        & np.all(_q0q.horner(quart.ga[:, None, idx], ends) > _QUARTIC_SIGN_RTOL * quart.ga_scale[idx], axis=0)
    )
    s[idx], j[idx], found[idx] = si, ji, ok
    return _QuarticRoot(none=none, found=found, s=s, j=j)


def _polished_root(sat: _SaturationInput, inv: _Invariants, quart, root: _QuarticRoot, n_scan: int):
    """C of the ``found`` members of ``root``: the quartic's root, one Newton step on the direct formula of
    the residual (its derivative from the quartic), kept inside the scan interval.

    Returns (C (n,), NaN elsewhere; verified (n,) bool: the direct residual at the quartic's root is
    within _QUARTIC_VERIFY_RTOL of 9 K0 + |Q0| and the isoscalar couplings there are admissible;
    sensitive (n,) bool: :func:`_round_off_sensitive`).
    """
    n = sat.rho.size
    C = np.full(n, np.nan)
    verified, sensitive = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    idx = np.flatnonzero(root.found)
    if idx.size == 0:
        return C, verified, sensitive
    sub, sv = _members(sat, inv, idx)
    s = root.s[idx]
    c_pole = sub.rho / sub.V**3
    c0 = _q0q.t_of_s(s, _SCAN_T_LAST) * c_pole
    scale = 9.0 * sub.K0 + np.abs(sub.Q0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        out = _isoscalar_given_C(sub.rho, sub.Mstar, sub.V, sub.E0, sub.K0, c0, sub.M, sv)
        f = out[6] - sub.Q0
        d = 1.0 - 1.0 / (1.0 + 2.0 * _SCAN_T_LAST)
        dcoef = quart.coef[1:, idx] * np.arange(1.0, 5.0)[:, None]
        dfdc = 2.0 * (1.0 - d * s) * _q0q.horner(dcoef, s) / (d * c_pole)
        c1 = c0 - f / dfdc
        sensitive[idx] = _round_off_sensitive(sub, sv, c0, out, _NOISE_PROBE_RTOL * scale / np.abs(dfdc))
    t_grid = _scan_grid_t(n_scan)
    j = root.j[idx]
    lo, hi = t_grid[j] * c_pole, t_grid[j + 1] * c_pole
    C[idx] = np.where(np.isfinite(c1) & (c1 > lo) & (c1 < hi), c1, c0)
    verified[idx] = (out[7] == 0) & (np.abs(f) <= _QUARTIC_VERIFY_RTOL * scale)
    return C, verified, sensitive


# The direct residual is computed to about 2e-14 of 9 K0 + |Q0| (the size of its terms), so its root is
# defined only to that over |dQ0/dC|: the scan's and the quartic's roots differ within that band. The
# probe step is five times the band; members whose couplings move by more than _NOISE_COUPLING_RTOL over
# it (C near 0, or A, B, Lambda_v near 0) take the scan's own refinement instead.
_NOISE_PROBE_RTOL = 1e-13
_NOISE_COUPLING_RTOL = 2e-10


def _round_off_sensitive(sat: _SaturationInput, inv: _Invariants, C, at_c, dc):
    """True where a step ``dc`` in C (the round-off band of the root, times five) moves a coupling by more
    than _NOISE_COUPLING_RTOL relative: C itself, or one of the scaled couplings g_sigma, A, B, g_omega,
    g_rho and Lambda_v derive from. ``at_c`` is :func:`_isoscalar_given_C` at C (fm^-1 powers)."""
    fields = (sat.rho, sat.Mstar, sat.V, sat.E0, sat.K0, sat.J0, sat.L0)
    return ~(_coupling_change(fields, sat.M, inv, C, at_c, dc) <= _NOISE_COUPLING_RTOL)


def _coupling_change(fields, M, inv: _Invariants, C, at_c, dc, fmax=np.fmax):
    """The largest relative change of C and of the scaled couplings over a step ``dc`` in C (operators
    only: arrays or floats, with ``fmax`` :func:`_fmax_float` for floats); ``fields`` = (rho, M*, V, E0,
    K0, J0, L0), fm^-1 powers."""
    rho, Mstar, V, E0, K0, J0, L0 = fields
    terms = _isoscalar_terms_blocked if np.ndim(C) == 1 else _isoscalar_terms
    at_dc = terms(rho, Mstar, V, E0, K0, C + dc, M, inv)
    out = []
    for (alpha, a, b, c, Sp), cc in ((at_c[:5], C), (at_dc[:5], C + dc)):
        mr, z, _ = _isovector_terms(rho, Mstar, V, Sp, alpha, cc, J0, L0, inv.x, inv.E)
        out.append((a, b, c, alpha, z * mr, mr * (1.0 - z)))
    worst = dc / C
    for x0, x1 in zip(*out):
        worst = fmax(worst, abs(x1 - x0) / abs(x0))
    return worst


def _fmax_float(a: float, b: float) -> float:
    """max of two floats, NaN if either is NaN (then no decision is taken on it)."""
    return math.nan if a != a or b != b else max(a, b)


def _scan_interval_root(sat: _SaturationInput, inv: _Invariants, j: np.ndarray, n_scan: int):
    """The scan's own root (:func:`_root_of_q0`, bit for bit) of members whose smallest root lies inside
    scan interval ``j`` (between scan points j and j + 1): the Illinois refinement of that bracket."""
    t = _scan_grid_t(n_scan)
    c_pole = sat.rho / sat.V**3
    lo, hi = t[j] * c_pole, t[j + 1] * c_pole

    def resid(c, m):
        # every member is evaluated (for a few hundred members the calls cost more than the arithmetic,
        # and gathering them per step as well); each keeps its own numbers, so the result is the same
        full = lo.copy()
        full[m] = c
        return (_isoscalar_terms(sat.rho, sat.Mstar, sat.V, sat.E0, sat.K0, full, sat.M, inv)[6] - sat.Q0)[m]

    every = np.arange(j.size)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return _illinois(resid, lo, hi, resid(lo, every), resid(hi, every))


def _root_of_q0_quartic(sat: _SaturationInput, inv: _Invariants, code: np.ndarray, n_scan: int):
    """:func:`_root_of_q0` through the quartic form of the residual, the scan only where the quartic
    cannot certify the scan's answer (a residual near zero at C = 0, near-double roots, roots next to a scan
    point or to the edge of the admissible C).

    Same failure codes as the scan; the same bracket of the root, and C from the quartic's root polished
    by the direct residual instead of the scan's Illinois refinement: equal to the scan's within the
    residual's round-off (not bit for bit), except where that round-off moves a coupling by more than
    _NOISE_COUPLING_RTOL (:func:`_round_off_sensitive`): there the scan's refinement of the same bracket
    gives the scan's C bit for bit. Returns C (NaN where none) and the updated code array.
    """
    live = np.flatnonzero(code == 0)
    sub, sv = _members(sat, inv, live)
    quart = _q0q.quartic(sub.rho, sub.Mstar, sub.V, sub.E0, sub.K0, sub.Q0, sub.M, sv, _SCAN_T_LAST)
    root = _quartic_first_root(sub, quart, n_scan)
    c_sub, verified, sensitive = _polished_root(sub, sv, quart, root, n_scan)
    exact = np.flatnonzero(verified & sensitive)
    if exact.size:
        c_sub[exact] = _scan_interval_root(
            sub.take(exact), _Invariants(*(a[exact] for a in sv)), root.j[exact], n_scan
        )
    C = np.full(code.size, np.nan)
    code = code.copy()
    C[live[verified]] = c_sub[verified]
    code[live[root.none]] = InversionFailure.NO_ROOT_FOR_C
    rest = live[~root.none & ~verified]
    if rest.size:
        C[rest], code[rest] = _root_of_q0(sat.take(rest), code[rest], n_scan)
    return C, code


def _physical_couplings(sat: _SaturationInput, C: np.ndarray, code: np.ndarray, masses: dict):
    """The seven couplings at the chosen C (0 where NaN) and the updated code array.

    Adds the isoscalar, isovector and scalar-minimum conditions to ``code``; ``masses`` in MeV.
    """
    Cs = np.where(np.isfinite(C), C, 0.0)
    rho, Mstar, V = sat.rho, sat.Mstar, sat.V
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        alpha, a, b, c, Sp, _, _, code_C = _isoscalar_given_C(rho, Mstar, V, sat.E0, sat.K0, Cs, sat.M)
        code = np.where(code == 0, code_C, code).astype(np.int8)
        mr, z, code_v = _isovector(rho, Mstar, V, Sp, alpha, Cs, sat.J0, sat.L0)
        code = np.where(code == 0, code_v, code).astype(np.int8)
        # the scan over the scalar field is the costliest check: only for members that passed the others
        live = np.flatnonzero(code == 0)
        ok_min = np.ones(rho.size, dtype=bool)
        ok_min[live] = _scalar_minimum_ok(
            rho[live], Mstar[live], a[live], b[live], c[live], np.full(live.size, sat.M)
        )
        code = np.where((code == 0) & ~ok_min, InversionFailure.SCALAR_ENERGY_NOT_MINIMAL, code)
        out = _couplings_of_fields(a, b, c, alpha, mr, z, V, Cs, masses)
    return out, code.astype(np.int8)


def _couplings_of_fields(a, b, c, alpha, mr, z, V, C, masses: dict) -> dict:
    """The seven couplings (A in fm^-1, the others dimensionless) from the scaled isoscalar couplings
    ``a, b, c, alpha`` (fm^-1 powers), ``mr = m_rho*^2 / g_rho^2`` and ``z`` of :func:`_isovector`, the
    vector field V and C; ``masses`` in MeV."""
    h = HBARC_MEV_FM
    g_sigma = (masses["m_sigma"] / h) / np.sqrt(a)
    g_omega = (masses["m_omega"] / h) / np.sqrt(alpha)
    # mr = m_rho*^2 / g_rho^2 = beta + lam V^2 = beta / (1 - z)  =>  beta = mr (1 - z)
    beta = mr * (1.0 - z)
    g_rho = (masses["m_rho"] / h) / np.sqrt(beta)
    lam = z * mr / V**2
    return {
        "g_sigma": g_sigma,
        "g_omega": g_omega,
        "g_rho": g_rho,
        "A": b * g_sigma**3,
        "B": c * g_sigma**4,
        "C": C,
        "Lambda_v": lam,
    }


def _physical_couplings_live(
    sat: _SaturationInput, inv: _Invariants, C: np.ndarray, code: np.ndarray, masses: dict
):
    """:func:`_physical_couplings` and :func:`_range_code` computed for the members with ``code == OK``
    only (the same numbers there; NaN couplings wherever the final code is not OK), with the C-independent
    parts ``inv`` and the scalar-minimum scan only where :func:`_scalar_minimum_certified` does not prove
    the minimum."""
    live = np.flatnonzero(code == 0)
    (sub, sv), Cl = _members(sat, inv, live), C[live]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        alpha, a, b, c, Sp, _, _, code_l = _isoscalar_given_C(
            sub.rho, sub.Mstar, sub.V, sub.E0, sub.K0, Cl, sub.M, sv
        )
        mr, z, code_v = _isovector(sub.rho, sub.Mstar, sub.V, Sp, alpha, Cl, sub.J0, sub.L0, sv.x, sv.E)
        code_l = np.where(code_l == 0, code_v, code_l).astype(np.int8)
        check = np.flatnonzero(code_l == 0)
        ok_min = _scalar_minimum_certified(sv.kf[check], sv.S[check], a[check], b[check], c[check], sub.M)
        scan = check[~ok_min]
        if scan.size:
            ok_min[~ok_min] = _scalar_minimum_ok(
                sub.rho[scan], sub.Mstar[scan], a[scan], b[scan], c[scan], np.full(scan.size, sub.M)
            )
        code_l[check[~ok_min]] = InversionFailure.SCALAR_ENERGY_NOT_MINIMAL
        part = _couplings_of_fields(a, b, c, alpha, mr, z, sub.V, Cl, masses)
    code_l = _range_code(part, code_l)
    good = code_l == 0
    out = {}
    for name, v in part.items():
        out[name] = np.full(code.size, np.nan)
        out[name][live[good]] = v[good]
    code = code.copy()
    code[live] = code_l
    return out, code


def _range_code(out: dict, code: np.ndarray) -> np.ndarray:
    """``code`` with COUPLINGS_OUT_OF_RANGE where a coupling is non-finite or outside Couplings.RANGES."""
    in_range = np.ones(code.size, dtype=bool)
    for name in COUPLING_NAMES:
        lo, hi, lo_open = Couplings.RANGES[name]
        v = out[name]
        in_range &= np.isfinite(v) & (v <= hi) & ((v > lo) if lo_open else (v >= lo))
    return np.where((code == 0) & ~in_range, InversionFailure.COUPLINGS_OUT_OF_RANGE, code).astype(np.int8)


# ---------------------------------------------------------------------------------------------------
# One member in Python floats: a call per array operation costs more than the arithmetic of one member,
# so a single NMP set (an MCMC step of Emulator.predict) is inverted with the same kernels on floats. It
# answers only where every decision is beyond a margin of the round-off by which floats and arrays may
# differ (numpy's x**3 is not Python's in the last bit); otherwise, and wherever the array path would use
# the scan, it returns None and the array path decides.
_ONE_RTOL = 1e-10


def _beyond(value: float, scale: float) -> bool:
    """|value| is beyond _ONE_RTOL of ``scale``: its sign is the array path's."""
    return abs(value) > _ONE_RTOL * scale


def _invert_one(row, masses: dict, n_scan: int):
    """(failure code, {coupling: float} or None) of one NMP row (7 floats, fm^-3 and MeV; already checked
    against the NMP ranges) as :func:`couplings_from_nmp_array` gives it, or None where this path does not
    decide (see above). Never raises for a checked row."""
    try:
        return _invert_one_unchecked(row, masses, n_scan)
    except (ZeroDivisionError, OverflowError, ValueError):
        return None


def _invert_one_unchecked(row, masses: dict, n_scan: int):
    """:func:`_invert_one` without its guard against float exceptions."""
    h = HBARC_MEV_FM
    rho, E0, K0, Q0, mstar, J0, L0 = (float(v) for v in row)
    Mf = masses["M"] / h
    E0, K0, Q0 = E0 / h, K0 / h, Q0 / h
    Mstar = mstar * Mf
    kf = float(symmetric_fermi_momentum(rho))
    E = math.sqrt(kf * kf + Mstar * Mstar)
    V = E0 + Mf - E
    if not V > 0:
        return InversionFailure.NONPOSITIVE_VECTOR_FIELD, None
    inv = _invariants_one(kf, E, Mstar, Mf)
    fields = (rho, Mstar, V, E0, K0, J0 / h, L0 / h)
    found, C = _root_one(fields, Q0, Mf, inv, n_scan)
    if found is None:
        return None
    if not found:
        return InversionFailure.NO_ROOT_FOR_C, None
    return _couplings_one(fields, C, Mf, inv, masses)


def _invariants_one(kf: float, E: float, Mstar: float, M: float) -> _Invariants:
    """:func:`_invariants` of one member in floats: the same numbers (numpy's functions for the
    transcendental parts, Python's arithmetic, as the arrays' elementwise operations)."""
    x = kf * kf
    rs, rs_M, _, eps_kin = (float(v) for v in fermi_integrals_species(kf, Mstar))
    rs_MM = 2.0 * float(d2scalar_density_dm2_species(math.sqrt(x), Mstar))
    return _Invariants(kf, x, E, M - Mstar, 2.0 * rs, 2.0 * rs_M, rs_MM, 2.0 * eps_kin)


@functools.lru_cache(maxsize=8)
def _scan_grid_s(n_scan: int) -> tuple[float, ...]:
    """The scan points in the quartic's variable s, as floats (the array path's numbers)."""
    return tuple(float(v) for v in _q0q.s_of_t(_scan_grid_t(n_scan), _SCAN_T_LAST))


@functools.lru_cache(maxsize=8)
def _scan_grid_t_floats(n_scan: int) -> tuple[float, ...]:
    """:func:`_scan_grid_t` as floats."""
    return tuple(float(v) for v in _scan_grid_t(n_scan))


def _root_one(fields, Q0: float, M: float, inv: _Invariants, n_scan: int):
    """(True, C) for the smallest root as :func:`_root_of_q0_quartic` finds it, (False, None) for none,
    (None, None) where it cannot decide (a residual near zero at C = 0, no certificate, round-off
    sensitive couplings); ``fields`` = (rho, M*, V, E0, K0, J0, L0), fm^-1 powers."""
    rho, Mstar, V, E0, K0 = fields[:5]
    quart = _q0q.quartic_terms(rho, Mstar, V, E0, K0, Q0, M, inv, _SCAN_T_LAST)
    coef, sp = quart.coef, quart.sp
    scale = 9.0 * K0 + abs(Q0)
    margin, m_sp = _QUARTIC_RTOL * scale, _QUARTIC_SIGN_RTOL * quart.sp_scale
    if abs(coef[0]) <= 2.0 * _Q0_ROOT_AT_ZERO_RTOL * scale:
        return None, None
    s_grid = _scan_grid_s(n_scan)
    i_last = bisect.bisect_left(s_grid, (sp[0] + m_sp) / -sp[1]) - 1
    if i_last <= 0:
        return False, None
    status, lo, hi, plo, phi, guess = _q0q.first_root_one(coef, s_grid[i_last], margin)
    if status != _q0q.ISOLATED:
        return (False, None) if status == _q0q.NO_ROOT else (None, None)
    s = _q0q.refine_root_one(coef, lo, hi, plo, phi, guess=guess)
    j = min(max(bisect.bisect_right(s_grid, s) - 1, 0), n_scan - 2)
    ends = (s_grid[j], s_grid[j + 1])
    p0, p1 = (_q0q.horner(coef, e) for e in ends)
    m_ga = _QUARTIC_SIGN_RTOL * quart.ga_scale
    if not (
        ends[0] < s < ends[1]
        and ((p0 > margin and p1 < -margin) if coef[0] > 0 else (p0 < -margin and p1 > margin))
        and all(sp[0] + sp[1] * e > m_sp and _q0q.horner(quart.ga, e) > m_ga for e in ends)
    ):
        return None, None
    c_pole = rho / V**3
    c0 = _q0q.t_of_s(s, _SCAN_T_LAST) * c_pole
    at_c0 = _isoscalar_terms(rho, Mstar, V, E0, K0, c0, M, inv)
    f = at_c0[6] - Q0
    if not (at_c0[0] > 0 and at_c0[4] > 0 and at_c0[1] > 0 and abs(f) <= _QUARTIC_VERIFY_RTOL * scale):
        return None, None
    d = 1.0 - 1.0 / (1.0 + 2.0 * _SCAN_T_LAST)
    dfdc = 2.0 * (1.0 - d * s) * _q0q.horner([k * coef[k] for k in range(1, 5)], s) / (d * c_pole)
    change = _coupling_change(fields, M, inv, c0, at_c0, _NOISE_PROBE_RTOL * scale / abs(dfdc), _fmax_float)
    if not change <= _NOISE_COUPLING_RTOL:
        return None, None
    c1 = c0 - f / dfdc
    t = _scan_grid_t_floats(n_scan)
    return True, (c1 if math.isfinite(c1) and t[j] * c_pole < c1 < t[j + 1] * c_pole else c0)


def _couplings_one(fields, C: float, M: float, inv: _Invariants, masses: dict):
    """(code, couplings) at the root C as :func:`_physical_couplings_live` and :func:`_range_code` give
    them, or None where a decision is within the round-off margin or the scalar minimum needs the scan."""
    rho, Mstar, V, E0, K0, J0, L0 = fields
    alpha, a, b, c, Sp, F_S, _ = _isoscalar_terms(rho, Mstar, V, E0, K0, C, M, inv)
    S2 = inv.S * inv.S
    r_size = abs(rho * (E0 + M)) + inv.eps_kin + 0.5 * abs(alpha) * V * V + 0.75 * C * V**4
    a_size = (12.0 * r_size + 6.0 * abs(inv.rs * inv.S) + (abs(F_S) + abs(inv.rs_M)) * S2) / S2
    vp = 1.0 / (alpha + 3.0 * C * V * V)
    sp_size = ((abs(K0) / (9.0 * rho) + abs(vp)) * inv.E + inv.x / (3.0 * rho)) / Mstar
    if not (_beyond(alpha, rho / V) and _beyond(Sp, sp_size) and _beyond(a, a_size)):
        return None
    for value, code in (
        (alpha, InversionFailure.NEGATIVE_G_OMEGA2),
        (Sp, InversionFailure.UNSTABLE_SCALAR_FIELD),
        (a, InversionFailure.NEGATIVE_G_SIGMA2),
    ):
        if not value > 0:
            return code, None
    mr, z, Jv = _isovector_terms(rho, Mstar, V, Sp, alpha, C, J0, L0, inv.x, inv.E)
    if not (_beyond(Jv, abs(J0) + inv.x / (6.0 * inv.E)) and _beyond(1.0 - z, 1.0 + abs(z))):
        return None
    if not Jv > 0:
        return InversionFailure.NEGATIVE_G_RHO2, None
    if not z < 1.0:
        return InversionFailure.L0_NEEDS_NEGATIVE_G_RHO2, None
    if not _scalar_minimum_certified_one(inv.kf, inv.S, a, b, c, M):
        return None
    out = {k: float(v) for k, v in _couplings_of_fields(a, b, c, alpha, mr, z, V, C, masses).items()}
    for name, v in out.items():
        lo, hi, lo_open = Couplings.RANGES[name]
        if not (math.isfinite(v) and _beyond(min(abs(v - lo), abs(v - hi)), max(abs(v), 1.0))):
            return None
        if not (v <= hi and (v > lo if lo_open else v >= lo)):
            return InversionFailure.COUPLINGS_OUT_OF_RANGE, None
    return InversionFailure.OK, out


_INVERSION_METHODS = ("quartic", "scan")


def couplings_from_nmp_array(
    table,
    *,
    m_sigma: float = DEFAULT_M_SIGMA_MEV,
    m_omega: float = DEFAULT_M_OMEGA_MEV,
    m_rho: float = DEFAULT_M_RHO_MEV,
    M: float = DEFAULT_NUCLEON_MASS_MEV,
    n_scan: int = 48,
    method: str = "quartic",
) -> CouplingsArrays:
    """Vectorised NMP -> couplings, member by member identical to :func:`couplings_from_nmp`.

    Each member is inverted on its own (its result does not depend on the batch) and on the smallest-C
    branch, as described in :func:`couplings_from_nmp`. The smallest root of Q0(C) = Q0 is defined by a
    scan over C (``n_scan`` points): the first sign change between admissible neighbours. ``method``
    says how it is found:

    - ``"quartic"`` (default): u (Q0(C) - Q0) is a polynomial of degree 4 in u = 1 / (1 + 2 C V^3/rho0)
      (:mod:`nucleiml._q0_quartic`). Its Bernstein coefficients certify where there is no root and isolate
      the smallest; the scan points around that root are checked for opposite signs and admissibility
      with margins, the root is polished by one Newton step on the direct residual, and the direct
      residual there is checked. Members it cannot certify (about 0.25 % of prior draws: a residual
      near zero at C = 0, near-double roots, roots next to a scan point or the edge of admissibility) go
      to the scan; members whose couplings the residual's round-off would move by more than 2e-10 (about
      0.3 %) take the scan's own refinement of the same bracket. The same failure codes as the scan, and
      couplings equal to the scan's within 2e-11 relative on 2 x 1e5 prior draws (not bit for bit: the
      root of a residual computed to ~2e-14 of its scale is defined only to that; docs/emulator.md,
      "The inversion from NMPs").
    - ``"scan"``: the scan and an Illinois refinement of its bracket (the method before the quartic;
      about 6 times slower; ``nucleiml generate`` uses it, so that dataset rows stay bit for bit).

    Parameters
    ----------
    table : dict, array or sequence of NMP
        Dict of 1-D arrays keyed by ``rho0, E0, K0, Q0, mstar, J0, L0`` (fm^-3; MeV; mstar
        dimensionless), an (n, 7) array in that order, or a sequence of :class:`NMP`.
    m_sigma, m_omega, m_rho, M : float
        Meson and nucleon masses in MeV, each in [100, 2000] (M in [500, 2000]).
    n_scan : int
        Points of the scan over C that brackets the roots of Q0(C) = Q0.
    method : {"quartic", "scan"}
        How the smallest root is found (above); the codes are the same.

    Returns
    -------
    CouplingsArrays
        Couplings (NaN where none), ``ok`` mask and failure codes.

    Raises
    ------
    ParameterError
        If a column is missing, shapes differ, an entry is not finite or outside the physical NMP
        ranges (the message names the column, index and range), a mass is outside its range, or
        ``method`` is not one of the two, or ``n_scan`` is not an integer in [3, 100000].
    """
    if method not in _INVERSION_METHODS:
        raise ParameterError(f"method must be one of {_INVERSION_METHODS}, got {method!r}")
    n_scan = check_int("n_scan", n_scan, 3, 100_000)
    masses = {"m_sigma": m_sigma, "m_omega": m_omega, "m_rho": m_rho, "M": M}
    Couplings(g_sigma=10.0, g_omega=10.0, g_rho=10.0, A=0.0, B=0.0, C=0.0, Lambda_v=0.0, **masses)  # validate
    cols = _as_nmp_columns(table)
    sat, code = _saturation_input(cols, M)
    if method == "scan":
        C, code = _root_of_q0(sat, code, n_scan)
        out, code = _physical_couplings(sat, C, code, masses)
    else:  # couplings within their ranges, NaN elsewhere
        inv = _invariants(sat.rho, sat.Mstar, sat.M)
        C, code = _root_of_q0_quartic(sat, inv, code, n_scan)
        out, code = _physical_couplings_live(sat, inv, C, code, masses)
        return CouplingsArrays(couplings=out, ok=code == 0, code=code, masses=masses)
    code = _range_code(out, code)
    ok = code == 0
    for name in COUPLING_NAMES:
        out[name] = np.where(ok, out[name], np.nan)
    return CouplingsArrays(couplings=out, ok=ok, code=code, masses=masses)


def _couplings_from_one_nmp(row, masses: dict, n_scan: int = 48) -> CouplingsArrays:
    """:func:`couplings_from_nmp_array` of one NMP row (7 floats in its order, checked against the NMP
    ranges) in Python floats where :func:`_invert_one` decides (about 20 times faster for one row), else
    through the arrays. The same failure codes; couplings equal to the array path's within the residual's
    round-off (1e-10 relative), not bit for bit: for callers that need speed for one row (the emulator),
    while :func:`couplings_from_nmp_array` itself stays independent of the batch bit for bit."""
    one = _invert_one(row, masses, n_scan)
    if one is None:
        return couplings_from_nmp_array(np.asarray(row, dtype=np.float64)[None, :], **masses, n_scan=n_scan)
    code, values = one
    column = np.full((len(COUPLING_NAMES), 1), np.nan)
    if values is not None:
        column[:, 0] = [values[k] for k in COUPLING_NAMES]
    return CouplingsArrays(
        couplings=dict(zip(COUPLING_NAMES, column)),
        ok=np.array([values is not None]),
        code=np.array([code], dtype=np.int8),
        masses=masses,
    )


def couplings_from_nmp(
    nmp: NMP,
    *,
    m_sigma: float = DEFAULT_M_SIGMA_MEV,
    m_omega: float = DEFAULT_M_OMEGA_MEV,
    m_rho: float = DEFAULT_M_RHO_MEV,
    M: float = DEFAULT_NUCLEON_MASS_MEV,
) -> CouplingsResult:
    """Couplings reproducing the seven NMPs with the given meson and nucleon masses.

    The quartic omega coupling C solves Q0(C) = Q0, every other coupling follows in closed form (see the
    module docstring). Q0(C) is not monotonic, so an NMP set can have several Lagrangians: the one
    returned is on the smallest-C branch, i.e. the smallest admissible root C >= 0, with a root within
    round-off of C = 0 returned as C = 0 exactly (published C = 0 sets such as NL3, NLZ invert to
    themselves). ``Lambda_v`` may come out negative; the effective rho mass m_rho*^2 = m_rho^2 +
    Lambda_v g_omega^2 g_rho^2 omega_0^2 is then still positive at saturation (J0 above its kinetic part
    guarantees it) but vanishes at a higher density, see :func:`rho_meson_instability_density`.

    Parameters
    ----------
    nmp : NMP
        rho0 (fm^-3), E0, K0, Q0, J0, L0 (MeV) and mstar = M*/M at saturation.
    m_sigma, m_omega, m_rho, M : float
        Meson and nucleon masses in MeV, each in [100, 2000] (M in [500, 2000]).

    Returns
    -------
    CouplingsResult
        ``couplings`` (A in fm^-1, B, C, Lambda_v dimensionless, masses in MeV), or ``None`` with
        ``failure`` / ``reason`` naming the condition that failed (the seed's *Non-convergent A*).
        Never raises for a valid :class:`NMP`.

    Raises
    ------
    ParameterError
        If ``nmp`` is not an :class:`NMP`, or a mass is not finite or outside its range (the message
        names the field and the range).
    """
    if not isinstance(nmp, NMP):
        raise ParameterError(f"couplings_from_nmp expects an NMP, got {type(nmp).__name__}")
    res = couplings_from_nmp_array(nmp, m_sigma=m_sigma, m_omega=m_omega, m_rho=m_rho, M=M)
    return res.at(0)
