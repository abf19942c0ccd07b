"""Cold, charge-neutral, beta-equilibrated n, p, e, mu matter from the RMF couplings.

Pure array kernels in the units of :mod:`nucleiml.eos` (powers of fm^-1; the scaled fields
``S = g_sigma sigma``, ``V = g_omega omega_0``, ``R = g_rho b_0``), batched over parameter sets.

At baryon density n the unknowns are u = (S, V, R, mu), mu = mu_e = mu_mu the lepton chemical potential.
Charge neutrality fixes the proton density n_p = n_e(mu) + n_mu(mu) (muons once mu > m_mu), so
n_n = n - n_p, and the four equations are

    F1 = a S + b S^2 + c S^3 - rho_s(k_p, M*) - rho_s(k_n, M*)          (sigma, M* = M - S)
    F2 = alpha V + C V^3 + Lambda_v R^2 V - n                            (omega)
    F3 = (beta + Lambda_v V^2) R - (n_p - n_n) / 2                       (rho)
    F4 = E_n - E_p - R - mu                                              (mu_n = mu_p + mu_e)

with E_i = sqrt(k_i^2 + M*^2), mu_p = E_p + V + R/2 and mu_n = E_n + V - R/2. They are solved by Newton's
method with the analytic Jacobian, continued upwards along the density grid (each point starts from the
previous one moved along du/dn). The energy density includes the rest mass and the leptons,

    eps = eps_kin,p + eps_kin,n + a S^2/2 + b S^3/3 + c S^4/4 + alpha V^2/2 + 3 C V^4/4
          + beta R^2/2 + 3 Lambda_v V^2 R^2/2 + eps_e + eps_mu,

(the omega^4 and omega-rho terms enter with the coefficients of the stationary point, not those of the
Lagrangian) and the pressure follows from the Gibbs relation P = n mu_n - eps, which with beta
equilibrium and neutrality equals sum_i n_i mu_i - eps. The squared speed of sound is
c_s^2 = dP/deps = n (dmu_n/dn) / mu_n, with dmu_n/dn from the implicit-function theorem on the same
Jacobian, so it is exact (no finite differences).

Every member's iteration stops on its own criterion, so a parameter set gets the same bits alone or in
any batch.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from ..constants import ELECTRON_MASS_MEV, HBARC_MEV_FM, MUON_MASS_MEV
from ..eos import (
    PI2,
    ScaledCouplings,
    dscalar_density_dm_species,
    fermi_momentum,
    kinetic_energy_density_species,
    scalar_density_species,
    solve_scalar_field,
    solve_vector_fields,
)

__all__ = ["BetaEquilibrium", "PointStatus", "beta_equilibrium_kernel", "scaled_couplings_arrays"]

M_E = ELECTRON_MASS_MEV / HBARC_MEV_FM  # fm^-1
M_MU = MUON_MASS_MEV / HBARC_MEV_FM  # fm^-1

_NEWTON_MAX_ITER = 10
_NEWTON_RTOL = 1e-9  # a step this small (relative) is applied and ends the iteration: quadratic
# convergence leaves an error of its square, below double precision
_START_PROTON_FRACTION = 0.02
_HALVINGS = 6


class PointStatus(enum.IntEnum):
    """State of one density point of the beta-equilibrium solution (failure as data)."""

    OK = 0
    NO_SOLUTION = 1  # Newton did not converge, or M* <= 0 / n_p outside (0, n)
    RHO_UNSTABLE = 2  # m_rho*^2 = m_rho^2 + Lambda_v g_rho^2 V^2 <= 0: no bounded rho field
    ACAUSAL = 3  # c_s^2 >= 1

    @property
    def message(self) -> str:
        return _POINT_MESSAGES[self]


_POINT_MESSAGES = {
    PointStatus.OK: "",
    PointStatus.NO_SOLUTION: "no beta-equilibrium mean-field solution (Newton did not converge or M* <= 0)",
    PointStatus.RHO_UNSTABLE: "the effective rho-meson mass squared is <= 0 (rho field unstable)",
    PointStatus.ACAUSAL: "the speed of sound reaches the speed of light (c_s^2 >= 1)",
}


def scaled_couplings_arrays(columns: dict) -> ScaledCouplings:
    """:class:`~nucleiml.eos.ScaledCouplings` of a batch: ``columns`` maps the eleven
    :class:`~nucleiml.parameters.Couplings` field names to (m,) arrays (A in fm^-1, masses in MeV); the
    formulas of :meth:`ScaledCouplings.from_couplings`, which reads the fields as attributes."""
    return ScaledCouplings.from_couplings(
        SimpleNamespace(**{k: np.asarray(v, dtype=float) for k, v in columns.items()})
    )


# --------------------------------------------------------------------------------------------------
# Leptons
# --------------------------------------------------------------------------------------------------
def _lepton_momenta(mu):
    """Fermi momenta (fm^-1) of electrons and muons at chemical potential mu (fm^-1)."""
    ke = np.sqrt(np.maximum(mu * mu - M_E * M_E, 0.0))
    kmu = np.sqrt(np.maximum(mu * mu - M_MU * M_MU, 0.0))
    return ke, kmu


def _charge_density(mu):
    """n_e + n_mu (fm^-3) and its derivative with respect to mu (fm^-2)."""
    ke, kmu = _lepton_momenta(mu)
    n = (ke**3 + kmu**3) / (3.0 * PI2)
    dn = mu * (ke + kmu) / PI2
    return n, dn


# --------------------------------------------------------------------------------------------------
# Residuals and Jacobian at fixed n
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Point:
    """Everything the residual, the Jacobian and the thermodynamics need at one state (fm^-1 powers)."""

    n: np.ndarray
    S: np.ndarray
    V: np.ndarray
    R: np.ndarray
    mu: np.ndarray
    n_p: np.ndarray
    n_n: np.ndarray
    D: np.ndarray  # d n_p / d mu
    kp: np.ndarray
    kn: np.ndarray
    ms: np.ndarray  # M*
    Ep: np.ndarray
    En: np.ndarray


def _point(sc: ScaledCouplings, n, S, V, R, mu) -> _Point:
    n_p, D = _charge_density(mu)
    n_n = n - n_p
    kp = fermi_momentum(n_p)
    kn = fermi_momentum(np.maximum(n_n, 0.0))
    ms = sc.M - S
    return _Point(
        n=n,
        S=S,
        V=V,
        R=R,
        mu=mu,
        n_p=n_p,
        n_n=n_n,
        D=D,
        kp=kp,
        kn=kn,
        ms=ms,
        Ep=np.sqrt(kp * kp + ms * ms),
        En=np.sqrt(kn * kn + ms * ms),
    )


def _residual(sc: ScaledCouplings, p: _Point) -> np.ndarray:
    """(..., 4) residuals F1..F4 (fm^-3, fm^-3, fm^-3, fm^-1)."""
    S, V, R, lam = p.S, p.V, p.R, sc.Lambda_v
    f1 = (
        sc.a * S
        + sc.b * S * S
        + sc.c * S**3
        - scalar_density_species(p.kp, p.ms)
        - scalar_density_species(p.kn, p.ms)
    )
    f2 = sc.alpha * V + sc.C * V**3 + lam * R * R * V - p.n
    f3 = (sc.beta + lam * V * V) * R - 0.5 * (p.n_p - p.n_n)
    f4 = p.En - p.Ep - R - p.mu
    return np.stack([f1, f2, f3, f4], axis=-1)


def _jacobian(sc: ScaledCouplings, p: _Point) -> np.ndarray:
    """(..., 4, 4) Jacobian d(F1..F4)/d(S, V, R, mu)."""
    S, V, R, lam, D = p.S, p.V, p.R, sc.Lambda_v, p.D
    J = np.zeros((*np.shape(S), 4, 4))
    J[..., 0, 0] = (
        sc.a + 2 * sc.b * S + 3 * sc.c * S * S
        + dscalar_density_dm_species(p.kp, p.ms)
        + dscalar_density_dm_species(p.kn, p.ms)
    )  # fmt: skip
    J[..., 0, 3] = D * (p.ms / p.En - p.ms / p.Ep)
    J[..., 1, 1] = sc.alpha + 3 * sc.C * V * V + lam * R * R
    J[..., 1, 2] = 2 * lam * R * V
    J[..., 2, 1] = 2 * lam * V * R
    J[..., 2, 2] = sc.beta + lam * V * V
    J[..., 2, 3] = -D
    J[..., 3, 0] = p.ms / p.Ep - p.ms / p.En
    J[..., 3, 2] = -1.0
    J[..., 3, 3] = -D * (PI2 / (p.kn * p.En) + PI2 / (p.kp * p.Ep)) - 1.0
    return J


def _dF_dn(p: _Point) -> np.ndarray:
    """(..., 4) partial derivatives of F1..F4 with respect to n at fixed (S, V, R, mu)."""
    return np.stack(
        np.broadcast_arrays(-p.ms / p.En, -1.0, 0.5, PI2 / (p.kn * p.En)),
        axis=-1,
    )


def _admissible(sc: ScaledCouplings, p: _Point) -> np.ndarray:
    return (p.ms > 0) & (p.mu > M_E) & (p.n_n > 0) & np.isfinite(p.S + p.V + p.R + p.mu)


# --------------------------------------------------------------------------------------------------
# Newton at one density, with per-member stopping and step halving into the admissible region
# --------------------------------------------------------------------------------------------------
def _subset(sc: ScaledCouplings, idx) -> ScaledCouplings:
    return ScaledCouplings(*(np.asarray(v)[idx] for v in vars(sc).values()))


def _newton(sc: ScaledCouplings, n, u):
    """Solve F(u) = 0 at density n (m,) from the start u (m, 4). Returns (u, converged).

    Each member iterates until its own step is below _NEWTON_RTOL (relative; that last step is applied,
    and Newton's quadratic convergence leaves an error of order its square); a step that leaves the
    admissible region (M* > 0, mu > m_e, n_n > 0) is halved, and a member whose step cannot be made
    admissible in _HALVINGS halvings, or that has not converged in _NEWTON_MAX_ITER iterations, fails.
    """
    u = u.copy()
    converged = np.zeros(n.shape, dtype=bool)
    live = np.ones(n.shape, dtype=bool)
    floor = np.array([1e-3, 1e-3, 1e-6, 1e-3])
    for _ in range(_NEWTON_MAX_ITER):
        idx = np.nonzero(live)[0]
        if idx.size == 0:
            break
        s, ul, nl = _subset(sc, idx), u[idx], n[idx]
        p = _point(s, nl, *ul.T)
        with np.errstate(all="ignore"):
            step = np.linalg.solve(_jacobian(s, p), _residual(s, p)[..., None])[..., 0]
        finite = np.all(np.isfinite(step), axis=1)
        step = np.where(finite[:, None], step, 0.0)
        t = np.ones(idx.size)
        ok = np.zeros(idx.size, dtype=bool)
        for _half in range(_HALVINGS):
            trial = ul - t[:, None] * step
            with np.errstate(all="ignore"):
                ok = _admissible(s, _point(s, nl, *trial.T))
            if np.all(ok):
                break
            t = np.where(ok, t, 0.5 * t)
        small = np.all(np.abs(t[:, None] * step) <= _NEWTON_RTOL * np.maximum(np.abs(ul), floor), axis=1)
        u[idx] = np.where(ok[:, None], trial, ul)
        converged[idx] = ok & finite & small
        live[idx] = ok & finite & ~small
    return u, converged


def _start(sc: ScaledCouplings, n):
    """Start at the lowest density from the robust symmetric-matter field solvers, proton fraction 2 %."""
    n_p = _START_PROTON_FRACTION * n
    kp, kn = fermi_momentum(n_p), fermi_momentum(n - n_p)
    S, _ok = solve_scalar_field(kp, kn, sc.a, sc.b, sc.c, sc.M)
    V, R = solve_vector_fields(n, 2 * n_p - n, sc.alpha, sc.C, sc.beta, sc.Lambda_v)
    ke = fermi_momentum(n_p)  # electrons only at the start density
    mu = np.sqrt(ke * ke + M_E * M_E)
    return np.stack([S, V, R, mu], axis=-1)


def _du_dn(sc: ScaledCouplings, p: _Point):
    """du/dn (m, 4) and dmu_n/dn (m,) at a solution (implicit-function theorem)."""
    with np.errstate(all="ignore"):
        du = -np.linalg.solve(_jacobian(sc, p), _dF_dn(p)[..., None])[..., 0]
    dmun_du = np.stack(np.broadcast_arrays(-p.ms / p.En, 1.0, -0.5, -p.D * PI2 / (p.kn * p.En)), axis=-1)
    dmun = PI2 / (p.kn * p.En) + np.sum(dmun_du * du, axis=-1)
    return du, dmun


# --------------------------------------------------------------------------------------------------
# Thermodynamics at a solution
# --------------------------------------------------------------------------------------------------
def _energy_density(sc: ScaledCouplings, p: _Point):
    """Energy density (fm^-4) including rest mass and leptons."""
    S, V, R, lam = p.S, p.V, p.R, sc.Lambda_v
    ke, kmu = _lepton_momenta(p.mu)
    return (
        kinetic_energy_density_species(p.kp, p.ms)
        + kinetic_energy_density_species(p.kn, p.ms)
        + 0.5 * sc.a * S * S
        + sc.b * S**3 / 3.0
        + sc.c * S**4 / 4.0
        + 0.5 * sc.alpha * V * V
        + 0.75 * sc.C * V**4
        + 0.5 * sc.beta * R * R
        + 1.5 * lam * V * V * R * R
        + kinetic_energy_density_species(ke, M_E)
        + kinetic_energy_density_species(kmu, M_MU)
    )


@dataclass(frozen=True)
class BetaEquilibrium:
    """Beta-equilibrated matter of m parameter sets on a density grid: arrays of shape (m, k).

    Attributes
    ----------
    n : baryon density, fm^-3.
    energy_density : eps including the rest mass and the leptons, MeV fm^-3.
    pressure : P = n mu_n - eps, MeV fm^-3.
    mu_n, mu_e : neutron and lepton (electron = muon) chemical potentials, MeV.
    proton_fraction, electron_fraction, muon_fraction : n_i / n.
    effective_mass : Dirac M* / M.
    cs2 : squared speed of sound dP/deps (units of c^2).
    rho_mass_ratio : m_rho*^2 / m_rho^2 = 1 + Lambda_v V^2 / beta, the in-medium rho mass squared
        (below 1 for Lambda_v < 0; the rho field is unstable where it reaches 0).
    status : :class:`PointStatus` codes (int8). From a set's first NO_SOLUTION or RHO_UNSTABLE point on,
        every point carries that code and NaN values; ACAUSAL points keep their values.
    """

    n: np.ndarray
    energy_density: np.ndarray
    pressure: np.ndarray
    mu_n: np.ndarray
    mu_e: np.ndarray
    proton_fraction: np.ndarray
    electron_fraction: np.ndarray
    muon_fraction: np.ndarray
    effective_mass: np.ndarray
    cs2: np.ndarray
    rho_mass_ratio: np.ndarray
    status: np.ndarray


def _record(sc: ScaledCouplings, p: _Point, dmun):
    ke, kmu = _lepton_momenta(p.mu)
    eps = _energy_density(sc, p)
    mu_n = p.En + p.V - 0.5 * p.R
    h = HBARC_MEV_FM
    return {
        "energy_density": eps * h,
        "pressure": (p.n * mu_n - eps) * h,
        "mu_n": mu_n * h,
        "mu_e": p.mu * h,
        "proton_fraction": p.n_p / p.n,
        "electron_fraction": ke**3 / (3 * PI2) / p.n,
        "muon_fraction": kmu**3 / (3 * PI2) / p.n,
        "effective_mass": p.ms / sc.M,
        "cs2": p.n * dmun / mu_n,
        "rho_mass_ratio": 1.0 + sc.Lambda_v * p.V * p.V / sc.beta,
    }


def _point_status(sc: ScaledCouplings, p: _Point, converged, cs2) -> np.ndarray:
    status = np.full(p.n.shape, PointStatus.OK, dtype=np.int8)
    status[cs2 >= 1.0] = PointStatus.ACAUSAL
    status[(sc.beta + sc.Lambda_v * p.V * p.V) <= 0] = PointStatus.RHO_UNSTABLE
    bad = ~converged | ~_admissible(sc, p) | ~np.isfinite(cs2)
    status[bad] = PointStatus.NO_SOLUTION
    return status


_SUBSTEPS = 8


def _continue(sc: ScaledCouplings, n0, n1, u):
    """Continue the solutions u at densities n0 to n1 in _SUBSTEPS steps (a retry where one step failed).
    Returns (u, converged, became_acausal, rho_mass_ratio at the last solved substep)."""
    converged = np.ones(n0.shape, dtype=bool)
    acausal = np.zeros(n0.shape, dtype=bool)
    ratio = np.ones(n0.shape)
    du = np.zeros_like(u)
    for i in range(1, _SUBSTEPS + 1):
        idx = np.nonzero(converged)[0]
        if idx.size == 0:
            break
        s = _subset(sc, idx)
        n = n0[idx] + (n1[idx] - n0[idx]) * i / _SUBSTEPS
        step = (n1[idx] - n0[idx]) / _SUBSTEPS
        trial, ok = _newton(s, n, u[idx] + du[idx] * step[:, None])
        p = _point(s, n, *trial.T)
        with np.errstate(all="ignore"):
            d, dmun = _du_dn(s, p)
            cs2 = p.n * dmun / (p.En + p.V - 0.5 * p.R)
        ok &= np.isfinite(cs2)
        keep = idx[ok]
        u[keep], du[keep] = trial[ok], np.where(np.isfinite(d[ok]), d[ok], 0.0)
        acausal[keep] |= cs2[ok] >= 1.0
        ratio[keep] = 1.0 + s.Lambda_v[ok] * trial[ok, 1] ** 2 / s.beta[ok]
        converged[idx[~ok]] = False
    return u, converged, acausal, ratio


def _solve_at(sc: ScaledCouplings, alive, n, n_prev, u, du, acausal_prev):
    """One grid density for the members still alive: Newton from the continuation predictor, and a
    sub-stepped retry for members where it fails (members already acausal at the previous point fail
    as ACAUSAL without a retry). Returns (u, converged, failure code or OK)."""
    conv = np.zeros(n.shape, dtype=bool)
    code = np.zeros(n.shape, dtype=np.int8)
    idx = np.nonzero(alive)[0]
    if idx.size == 0:
        return u, conv, code
    s = _subset(sc, idx)
    start = u[idx] + du[idx] * (n[idx] - n_prev[idx])[:, None]
    new, ok = _newton(s, n[idx], start)
    code[idx[~ok & acausal_prev[idx]]] = PointStatus.ACAUSAL
    ok_or_acausal = ok | acausal_prev[idx]
    retry = idx[~ok_or_acausal]
    if retry.size:
        r_new, r_ok, r_acausal, r_ratio = _continue(
            _subset(sc, retry), n_prev[retry], n[retry], u[retry].copy()
        )
        new[~ok_or_acausal] = r_new
        ok[~ok_or_acausal] = r_ok
        failed = retry[~r_ok]
        code[failed] = np.where(
            r_acausal[~r_ok],
            PointStatus.ACAUSAL,
            np.where(r_ratio[~r_ok] <= 0.0, PointStatus.RHO_UNSTABLE, PointStatus.NO_SOLUTION),
        )
    u = u.copy()
    u[idx] = new
    conv[idx] = ok
    return u, conv, code


def beta_equilibrium_kernel(sc: ScaledCouplings, n_grid) -> BetaEquilibrium:
    """Beta-equilibrated n, p, e, mu matter for the m sets of ``sc`` ((m,) arrays) on the increasing
    baryon-density grid ``n_grid`` (k,) in fm^-3, common to all sets or (m, k).

    Points past the first failed one of a set (no solution, unstable rho field) are not continued:
    they are NaN with the status of that failure. Acausal points are computed and flagged. Where the
    continuation fails between two grid points, the interval is retried in 8 substeps; if the solution
    became acausal (c_s^2 >= 1) in a substep before it failed (the beta-equilibrium branch folds back,
    c_s^2 -> infinity), the failure is reported as ACAUSAL.
    """
    a = np.atleast_1d(np.asarray(sc.a, dtype=float))
    m = a.size
    sc = ScaledCouplings(*(np.broadcast_to(np.asarray(v, dtype=float), (m,)) for v in vars(sc).values()))
    grid = np.broadcast_to(np.asarray(n_grid, dtype=float), (m, np.shape(n_grid)[-1]))
    k = grid.shape[1]
    out = {name: np.full((m, k), np.nan) for name in BetaEquilibrium.__dataclass_fields__}
    out["n"] = np.array(grid)
    out["status"] = np.full((m, k), PointStatus.NO_SOLUTION, dtype=np.int8)
    alive = np.ones(m, dtype=bool)
    first_failure = np.zeros(m, dtype=np.int8)
    acausal = np.zeros(m, dtype=bool)
    u = _start(sc, grid[:, 0])
    du = np.zeros_like(u)
    for j in range(k):
        n = grid[:, j]
        n_prev = grid[:, j - 1] if j else n
        u, converged, code = _solve_at(sc, alive, n, n_prev, u, du, acausal)
        p = _point(sc, n, *u.T)
        with np.errstate(all="ignore"):
            du, dmun = _du_dn(sc, p)
            rec = _record(sc, p, dmun)
        status = _point_status(sc, p, converged, rec["cs2"])
        status = np.where(code > 0, code, status)
        failed = alive & (status != PointStatus.OK) & (status != PointStatus.ACAUSAL)
        failed |= alive & (code > 0)
        first_failure = np.where(failed, status, first_failure)
        alive = alive & ~failed
        acausal = status == PointStatus.ACAUSAL
        for name, v in rec.items():
            out[name][:, j] = np.where(alive, v, np.nan)
        out["status"][:, j] = np.where(alive, status, first_failure)
        du = np.where(np.isfinite(du), du, 0.0)
    return BetaEquilibrium(**out)
