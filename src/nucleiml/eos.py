"""Equation of state of infinite nuclear matter for the seed's nonlinear RMF Lagrangian.

Pure numerical kernels (arrays in, arrays out) at zero temperature, mean-field (Hartree) level.

Internally every quantity is in powers of fm^-1: masses and fields are divided by hbar c, so that
energies are fm^-1 and energy densities fm^-4. Scaled fields are used throughout:

* ``S = g_sigma sigma`` (so M* = M - S),
* ``V = g_omega omega_0``,
* ``R = g_rho b_0`` (b_0 the third isospin component of the rho field),

and scaled self-couplings ``a = m_sigma^2/g_sigma^2`` (fm^-2), ``b = A/g_sigma^3`` (fm^-1),
``c = B/g_sigma^4``, ``alpha = m_omega^2/g_omega^2`` (fm^-2), ``beta = m_rho^2/g_rho^2`` (fm^-2).
The field equations then read

    a S + b S^2 + c S^3 = rho_s
    alpha V + C V^3 + Lambda_v R^2 V = rho
    (beta + Lambda_v V^2) R = rho_3 / 2,            rho_3 = rho_p - rho_n

and the energy density at the stationary point is

    eps = eps_kin(M*) + a S^2/2 + b S^3/3 + c S^4/4 + alpha V^2/2 + 3 C V^4/4
          + beta R^2/2 + 3 Lambda_v V^2 R^2/2.

Public functions take :class:`~nucleiml.parameters.Couplings` and return MeV / fm^-3 units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .constants import HBARC_MEV_FM
from .parameters import Couplings, ParameterError

PI2 = np.pi**2


# --------------------------------------------------------------------------------------------------
# Fermi-gas integrals for one species (spin degeneracy 2), momenta and masses in fm^-1
# --------------------------------------------------------------------------------------------------
def fermi_momentum(rho_species):
    """Fermi momentum (fm^-1) of one nucleon species of density ``rho_species`` (fm^-3)."""
    return np.cbrt(3.0 * PI2 * np.asarray(rho_species, dtype=float))


def symmetric_fermi_momentum(rho):
    """Fermi momentum (fm^-1) of symmetric nuclear matter at baryon density ``rho`` (fm^-3): each species
    holds rho / 2."""
    return fermi_momentum(0.5 * np.asarray(rho, dtype=float))


def scalar_density_species(kf, m):
    """Scalar density (fm^-3) of one species: (1/pi^2) int_0^kf k^2 m / sqrt(k^2+m^2) dk."""
    e = np.sqrt(kf * kf + m * m)
    return m / (2.0 * PI2) * (kf * e - m * m * np.arcsinh(kf / m))


def kinetic_energy_density_species(kf, m):
    """Energy density (fm^-4) of one species: (1/pi^2) int_0^kf k^2 sqrt(k^2+m^2) dk."""
    e = np.sqrt(kf * kf + m * m)
    return (kf * e * (2.0 * kf * kf + m * m) - m**4 * np.arcsinh(kf / m)) / (8.0 * PI2)


def dscalar_density_dm_species(kf, m):
    """d rho_s / d m (fm^-2) at fixed kf for one species: (1/pi^2) int_0^kf k^4/E^3 dk."""
    e = np.sqrt(kf * kf + m * m)
    return (0.5 * kf * e + m * m * kf / e - 1.5 * m * m * np.arcsinh(kf / m)) / PI2


def d2scalar_density_dm2_species(kf, m):
    """d^2 rho_s / d m^2 (fm^-1) at fixed kf for one species: -(3/pi^2) int_0^kf m k^4/E^5 dk."""
    e = np.sqrt(kf * kf + m * m)
    return (4.0 * m * kf / e - m**3 * kf / e**3 - 3.0 * m * np.arcsinh(kf / m)) / PI2


def fermi_integrals_species(kf, m):
    """The four integrals above for one species at once, sharing one square root and one arcsinh.

    Parameters
    ----------
    kf, m : array_like
        Fermi momentum and effective mass (fm^-1), broadcast together; m > 0.

    Returns
    -------
    tuple of ndarray
        ``(rho_s [fm^-3], d rho_s/dm [fm^-2], d^2 rho_s/dm^2 [fm^-1], energy density [fm^-4])``, bit for
        bit the values of :func:`scalar_density_species`, :func:`dscalar_density_dm_species`,
        :func:`d2scalar_density_dm2_species` and :func:`kinetic_energy_density_species` (the same
        expressions; the shared sqrt and arcsinh are computed the same way).
    """
    e = np.sqrt(kf * kf + m * m)
    ash = np.arcsinh(kf / m)
    rs = m / (2.0 * PI2) * (kf * e - m * m * ash)
    drs = (0.5 * kf * e + m * m * kf / e - 1.5 * m * m * ash) / PI2
    d2rs = (4.0 * m * kf / e - m**3 * kf / e**3 - 3.0 * m * ash) / PI2
    eps = (kf * e * (2.0 * kf * kf + m * m) - m**4 * ash) / (8.0 * PI2)
    return rs, drs, d2rs, eps


# --------------------------------------------------------------------------------------------------
# Scaled couplings
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScaledCouplings:
    """Couplings in the scaled form used by the kernels (fm^-1 powers); see the module docstring.

    Fields may be floats or numpy arrays of a common shape (a batch of parameter sets).
    """

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    alpha: np.ndarray
    C: np.ndarray
    beta: np.ndarray
    Lambda_v: np.ndarray
    M: np.ndarray

    @classmethod
    def from_couplings(cls, cp: Couplings) -> ScaledCouplings:
        """The scaled couplings of ``cp`` (a Couplings, or any object with its fields as attributes, floats
        or arrays of a batch).

        Raises
        ------
        ParameterError
            If a nucleon-meson coupling is so small (below about 1e-77) that its fourth power underflows to 0.
        """
        for name in ("g_sigma", "g_omega", "g_rho"):
            if not np.all(np.asarray(getattr(cp, name), dtype=float) ** 4 > 0.0):  # scalars or a batch
                raise ParameterError(
                    f"{name} = {getattr(cp, name)!r} is too small to compute with (its fourth power underflows "
                    "to 0); the allowed range is (0, 100]"
                )
        h = HBARC_MEV_FM
        return cls(
            a=(cp.m_sigma / h) ** 2 / cp.g_sigma**2,
            b=cp.A / cp.g_sigma**3,
            c=cp.B / cp.g_sigma**4,
            alpha=(cp.m_omega / h) ** 2 / cp.g_omega**2,
            C=cp.C,
            beta=(cp.m_rho / h) ** 2 / cp.g_rho**2,
            Lambda_v=cp.Lambda_v,
            M=cp.M / h,
        )


# --------------------------------------------------------------------------------------------------
# Field solutions in uniform matter
# --------------------------------------------------------------------------------------------------
def _scalar_force(S, kfp, kfn, a, b, c, M):
    """dEps/dS at fixed densities: a S + b S^2 + c S^3 - rho_s(M - S) (fm^-3)."""
    ms = M - S
    return a * S + b * S * S + c * S**3 - scalar_density_species(kfp, ms) - scalar_density_species(kfn, ms)


def scalar_energy_density(S, kfp, kfn, a, b, c, M):
    """The S-dependent part of the energy density (fm^-4) of matter with Fermi momenta kfp, kfn (fm^-1) at
    scaled scalar field S (fm^-1): nucleon kinetic terms at M* = M - S plus the sigma potential. For
    symmetric matter pass the same array as ``kfp`` and ``kfn``: the kinetic term is then computed once (the
    same numbers at half the cost of its arcsinh)."""
    ms = M - S
    kinetic_p = kinetic_energy_density_species(kfp, ms)
    kinetic_n = kinetic_p if kfn is kfp else kinetic_energy_density_species(kfn, ms)
    return kinetic_p + kinetic_n + 0.5 * a * S * S + b * S**3 / 3.0 + c * S**4 / 4.0


def solve_scalar_field(kfp, kfn, a, b, c, M, n_scan: int = 256, n_iter: int = 60):
    """Scaled scalar field S (fm^-1) minimising the energy density over S in [0, M).

    The global minimum over a scan of ``n_scan`` points is refined by bisection of the field equation
    in the bracketing scan interval. Returns (S, ok) where ok is False when the minimum lies at the edge
    M* -> 0 (no physical solution).
    """
    kfp, kfn, a, b, c, M = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (kfp, kfn, a, b, c, M)))
    t = np.linspace(0.0, 1.0, n_scan)[:, None] * np.ones(kfp.size)[None, :]
    shape = kfp.shape
    flat = [x.reshape(-1) for x in (kfp, kfn, a, b, c, M)]
    kfp_, kfn_, a_, b_, c_, M_ = flat
    top = M_ * (1.0 - 1e-9)
    s_grid = t * top[None, :]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        eps = scalar_energy_density(s_grid, kfp_, kfn_, a_, b_, c_, M_)
    eps = np.where(np.isfinite(eps), eps, np.inf)
    i = np.argmin(eps, axis=0)
    cols = np.arange(kfp_.size)
    ok = i < n_scan - 1
    lo = s_grid[np.maximum(i - 1, 0), cols]
    hi = s_grid[np.minimum(i + 1, n_scan - 1), cols]
    for _ in range(n_iter):
        mid = 0.5 * (lo + hi)
        f = _scalar_force(mid, kfp_, kfn_, a_, b_, c_, M_)
        lo = np.where(f < 0.0, mid, lo)
        hi = np.where(f < 0.0, hi, mid)
    S = 0.5 * (lo + hi)
    # One Newton polish for full double precision
    ms = M_ - S
    fS = a_ + 2 * b_ * S + 3 * c_ * S * S + dscalar_density_dm_species(kfp_, ms)
    fS = fS + dscalar_density_dm_species(kfn_, ms)
    with np.errstate(invalid="ignore", divide="ignore"):
        step = _scalar_force(S, kfp_, kfn_, a_, b_, c_, M_) / fS
    S = np.where(np.abs(step) < (hi - lo) + 1e-12, S - step, S)
    return S.reshape(shape), ok.reshape(shape)


def solve_vector_fields(rho, rho3, alpha, C, beta, lam, n_iter: int = 200):
    """Scaled omega and rho fields (V, R) in fm^-1 for baryon density rho and rho3 = rho_p - rho_n (fm^-3).

    Solves alpha V + C V^3 + lam R^2 V = rho with R = (rho3/2)/(beta + lam V^2) by bisection in V.
    """
    rho, rho3, alpha, C, beta, lam = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (rho, rho3, alpha, C, beta, lam))
    )

    def resid(V):
        R = 0.5 * rho3 / (beta + lam * V * V)
        return alpha * V + C * V**3 + lam * R * R * V - rho

    lo = np.zeros_like(rho)
    hi = rho / alpha
    for _ in range(60):  # enlarge the bracket where needed (lam < 0)
        bad = resid(hi) < 0
        if not np.any(bad):
            break
        hi = np.where(bad, 2 * hi, hi)
    for _ in range(n_iter):
        # each member stops on its own criterion, so batched results equal single ones
        live = hi - lo > 1e-15 * np.maximum(hi, 1e-300)
        if not np.any(live):
            break
        mid = 0.5 * (lo + hi)
        neg = resid(mid) < 0
        lo = np.where(live & neg, mid, lo)
        hi = np.where(live & ~neg, mid, hi)
    V = 0.5 * (lo + hi)
    R = 0.5 * rho3 / (beta + lam * V * V)
    return V, R


@dataclass(frozen=True)
class MatterState:
    """Mean fields and thermodynamics of uniform matter (fm^-1 powers; see module docstring)."""

    rho: np.ndarray
    delta: np.ndarray
    S: np.ndarray
    V: np.ndarray
    R: np.ndarray
    energy_density: np.ndarray  # fm^-4, including rest mass
    pressure: np.ndarray  # fm^-4
    ok: np.ndarray  # False where the scalar field has no physical solution


def matter_state(sc: ScaledCouplings, rho, delta=0.0) -> MatterState:
    """Solve the mean fields of uniform matter at baryon density rho (fm^-3) and asymmetry
    delta = (rho_n - rho_p)/rho, for scaled couplings ``sc`` (scalars or arrays broadcastable with rho)."""
    rho, delta = np.broadcast_arrays(np.asarray(rho, dtype=float), np.asarray(delta, dtype=float))
    rho_n = 0.5 * rho * (1.0 + delta)
    rho_p = 0.5 * rho * (1.0 - delta)
    kfp, kfn = fermi_momentum(rho_p), fermi_momentum(rho_n)
    S, ok = solve_scalar_field(kfp, kfn, sc.a, sc.b, sc.c, sc.M)
    lam = sc.Lambda_v
    V, R = solve_vector_fields(rho, rho_p - rho_n, sc.alpha, sc.C, sc.beta, lam)
    ms = sc.M - S
    eps = (
        kinetic_energy_density_species(kfp, ms)
        + kinetic_energy_density_species(kfn, ms)
        + 0.5 * sc.a * S**2
        + sc.b * S**3 / 3.0
        + sc.c * S**4 / 4.0
        + 0.5 * sc.alpha * V**2
        + 0.75 * sc.C * V**4
        + 0.5 * sc.beta * R**2
        + 1.5 * lam * V**2 * R**2
    )
    mu_p = np.sqrt(kfp**2 + ms**2) + V + 0.5 * R
    mu_n = np.sqrt(kfn**2 + ms**2) + V - 0.5 * R
    pressure = rho_p * mu_p + rho_n * mu_n - eps
    return MatterState(rho=rho, delta=delta, S=S, V=V, R=R, energy_density=eps, pressure=pressure, ok=ok)


# --------------------------------------------------------------------------------------------------
# Public, unit-carrying API
# --------------------------------------------------------------------------------------------------
def energy_per_nucleon(couplings: Couplings, rho, delta=0.0):
    """Energy per nucleon minus the nucleon mass, E/A - M (MeV), at density rho (fm^-3) and asymmetry
    delta = (rho_n - rho_p)/rho. NaN where the scalar field has no physical solution."""
    sc = ScaledCouplings.from_couplings(couplings)
    st = matter_state(sc, rho, delta)
    e = (st.energy_density / st.rho - sc.M) * HBARC_MEV_FM
    return np.where(st.ok, e, np.nan)


def pressure(couplings: Couplings, rho, delta=0.0):
    """Pressure (MeV fm^-3) at density rho (fm^-3) and asymmetry delta. NaN where unphysical."""
    sc = ScaledCouplings.from_couplings(couplings)
    st = matter_state(sc, rho, delta)
    return np.where(st.ok, st.pressure * HBARC_MEV_FM, np.nan)
