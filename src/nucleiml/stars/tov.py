"""The Tolman-Oppenheimer-Volkoff equations with the tidal Love number, in the pseudo-enthalpy form.

Pure array kernels, batched over equations of state (EoS) and stars. Geometric units G = c = 1 with
lengths in km: energy density and pressure in km^-2 (``MEV_FM3_TO_KM2`` times MeV fm^-3), masses in km
(``MSUN_KM`` per solar mass).

The independent variable is the pseudo-enthalpy h = int_0^P dP' / (eps + P') (Lindblom, ApJ 398, 569
(1992)): it runs from h_c at the centre to 0 at the surface, so every star ends at the same h and the
surface needs no root finding. The dependent variables are regular at the centre:

    x = r^2,   q = m / r^3,   y = r H'/H   (Hinderer, ApJ 677, 1216 (2008); Postnikov, Prakash,
                                             Lattimer, PRD 82, 024016 (2010))

    dx/dh = -2 (1 - 2 q x) / (q + 4 pi P)
    dq/dh = (4 pi eps - 3 q) (dx/dh) / (2 x)
    dy/dh = -(y^2 + y F + r^2 Q) (dx/dh) / (2 x)

    F     = (1 - 4 pi x (eps - P)) / (1 - 2 q x)
    r^2 Q = 4 pi x (5 eps + 9 P + deps/dh) / (1 - 2 q x) - 6 / (1 - 2 q x) - 4 x^2 (q + 4 pi P)^2 / (1 - 2 q x)^2

using (eps + P) / c_s^2 = deps/dh. At the centre (x = 0) the right-hand sides take their limits,
x = 0, q = 4 pi eps_c / 3, y = 2 and

    dq/dh = (4 pi / 5) (deps/dh)_c,     dy/dh = a dx/dh,   a = -(4 pi / 7) (eps_c / 3 + 11 P_c + (deps/dh)_c)

(from y = 2 + a r^2 near the centre). At the surface, a non-zero surface energy density eps_s (a
density discontinuity) corrects y_R -> y_R - 4 pi R^3 eps_s / M (Damour & Nagar, PRD 80, 084035 (2009)),
and k2 follows from y_R and the compactness C = M/R (Hinderer 2008, with the erratum), Lambda = (2/3) k2
C^-5.

The fast path steps with classical Runge-Kutta (RK4) along a fixed, per-EoS grid of enthalpy nodes
(the EoS is tabulated at the nodes and the midpoints once, so no interpolation happens while
integrating); every star's centre is a node. :func:`reference_star` integrates one star with scipy's
DOP853 at tight tolerances, on the continuous EoS, to measure the fast path's error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..constants import MEV_FM3_TO_KM2, MSUN_KM

__all__ = [
    "EnthalpyTable",
    "NodeGrid",
    "StarColumns",
    "integrate_stars",
    "love_number_k2",
    "node_grid",
    "reference_star",
]

FOUR_PI = 4.0 * np.pi
_SERIES_BELOW_C = 0.02


# --------------------------------------------------------------------------------------------------
# The EoS as a function of h: cubic Hermite interpolation with exact slopes dP/dh = eps + P
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EnthalpyTable:
    """Equations of state of m stars' matter as functions of the pseudo-enthalpy h: arrays (m, k).

    Attributes
    ----------
    h : pseudo-enthalpy, increasing along each row from 0 at the surface; rows shorter than k are
        padded with +inf.
    energy_density, pressure : eps and P in MeV fm^-3.
    deps_dh : d eps / d h = (eps + P) / c_s^2, MeV fm^-3.
    n : baryon density in fm^-3 (NaN where unknown).
    """

    h: np.ndarray
    energy_density: np.ndarray
    pressure: np.ndarray
    deps_dh: np.ndarray
    n: np.ndarray

    @property
    def h_top(self) -> np.ndarray:
        """(m,) the largest tabulated h of each row."""
        return np.max(np.where(np.isfinite(self.h), self.h, -np.inf), axis=1)

    def at(self, hq: np.ndarray):
        """eps, P, deps/dh (MeV fm^-3) and n (fm^-3) at hq (m, q) (each row in its own table)."""
        m, _k = self.h.shape
        hq = np.asarray(hq, dtype=float)
        finite = np.isfinite(self.h)
        rows_end = np.sum(finite, axis=1)
        # interval index: how many of the row's nodes lie at or below hq (row by row, batch-independent)
        below = np.sum(self.h[:, None, :] <= hq[:, :, None], axis=2)
        j = np.clip(below - 1, 0, np.maximum(rows_end - 2, 0)[:, None])
        r = np.arange(m)[:, None]
        h0, h1 = self.h[r, j], self.h[r, j + 1]
        with np.errstate(invalid="ignore"):  # rows without a table are +inf throughout
            d = h1 - h0
            t = (hq - h0) / d
        e0, e1 = self.energy_density[r, j], self.energy_density[r, j + 1]
        p0, p1 = self.pressure[r, j], self.pressure[r, j + 1]
        de0, de1 = self.deps_dh[r, j], self.deps_dh[r, j + 1]
        eps, deps = _hermite(t, d, e0, e1, de0, de1)
        pres, _ = _hermite(t, d, p0, p1, e0 + p0, e1 + p1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ln_n0, ln_n1 = np.log(self.n[r, j]), np.log(self.n[r, j + 1])
            dn0, dn1 = de0 / (e0 + p0), de1 / (e1 + p1)  # d ln n / dh = (deps/dh) / (eps + P)
            ln_n, _ = _hermite(t, d, ln_n0, ln_n1, dn0, dn1)
        return eps, pres, deps, np.exp(ln_n)


def _hermite(t, d, f0, f1, s0, s1):
    """Cubic Hermite value and derivative at t in [0, 1] of an interval of length d with end values
    f0, f1 and slopes s0, s1."""
    t2 = t * t
    t3 = t2 * t
    h00 = 2 * t3 - 3 * t2 + 1
    h10 = t3 - 2 * t2 + t
    h01 = -2 * t3 + 3 * t2
    h11 = t3 - t2
    value = h00 * f0 + h10 * d * s0 + h01 * f1 + h11 * d * s1
    dvalue = ((6 * t2 - 6 * t) * (f0 - f1)) / d + (3 * t2 - 4 * t + 1) * s0 + (3 * t2 - 2 * t) * s1
    return value, dvalue


# --------------------------------------------------------------------------------------------------
# The node grid of the fast path
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NodeGrid:
    """The EoS at the enthalpy nodes H (m, N+1), ascending from H[:, 0] = 0, and at the midpoints of
    the intervals (m, N), in geometric units (km^-2)."""

    H: np.ndarray
    eps: np.ndarray
    P: np.ndarray
    deps: np.ndarray
    n: np.ndarray
    eps_mid: np.ndarray
    P_mid: np.ndarray
    deps_mid: np.ndarray


def node_grid(table: EnthalpyTable, n_intervals: int, stretch: float) -> NodeGrid:
    """Nodes H_i = h_top g(i/N), g(u) = (exp(stretch u) - 1) / (exp(stretch) - 1): finer near the
    surface (the crust) for ``stretch`` > 0, with the EoS tabulated at nodes and midpoints."""
    u = np.linspace(0.0, 1.0, n_intervals + 1)
    g = np.expm1(stretch * u) / np.expm1(stretch) if stretch > 0 else u
    g[-1] = 1.0
    with np.errstate(invalid="ignore"):  # rows without a table (no junction) are NaN throughout
        H = table.h_top[:, None] * g[None, :]
        mid = 0.5 * (H[:, 1:] + H[:, :-1])
        e, p, de, n = table.at(H)
        em, pm, dem, _ = table.at(mid)
    f = MEV_FM3_TO_KM2
    return NodeGrid(H=H, eps=e * f, P=p * f, deps=de * f, n=n, eps_mid=em * f, P_mid=pm * f, deps_mid=dem * f)


# --------------------------------------------------------------------------------------------------
# Right-hand side
# --------------------------------------------------------------------------------------------------
def _rhs(x, q, w, eps, P, deps, eps_c, P_c, deps_c):
    """d(x, q, w)/dh, w = y - 4 pi eps / (q + 4 pi P); the centre (x == 0) takes the analytic limits,
    with the central EoS values."""
    centre = x <= 0.0
    xs = np.where(centre, 1.0, x)
    one_m = 1.0 - 2.0 * q * x
    g = q + FOUR_PI * P
    y = w + FOUR_PI * eps / g
    dx = -2.0 * one_m / g
    F = (1.0 - FOUR_PI * x * (eps - P)) / one_m
    r2Q0 = FOUR_PI * x * (5.0 * eps + 9.0 * P) / one_m - 6.0 / one_m - 4.0 * x * x * g * g / one_m**2
    dq = (FOUR_PI * eps - 3.0 * q) * dx / (2.0 * xs)
    dy0 = -(y * y + y * F + r2Q0) * dx / (2.0 * xs)  # dy/dh without its (4 pi deps/dh) / g term
    # at the centre: dy/dh = a dx/dh with y = 2 + a r^2, and dq/dh = (4 pi / 5) deps/dh
    a = -(FOUR_PI / 7.0) * (eps_c / 3.0 + 11.0 * P_c + deps_c)
    dq = np.where(centre, 0.8 * np.pi * deps_c, dq)
    dy0 = np.where(centre, a * dx - FOUR_PI * deps_c / g, dy0)
    dw = dy0 + FOUR_PI * eps * (dq + FOUR_PI * (eps + P)) / (g * g)
    return dx, dq, dw


@dataclass(frozen=True)
class StarColumns:
    """Stars as columns: mass (Msun), radius (km), k2, Lambda (dimensionless), compactness M/R,
    central h, and the surface y before the discontinuity correction."""

    mass: np.ndarray
    radius: np.ndarray
    k2: np.ndarray
    Lambda: np.ndarray
    compactness: np.ndarray
    y_surface: np.ndarray


def _surface(x, q, w) -> StarColumns:
    """Star columns from the surface values; outside the star eps = 0, so the corrected y_R is w."""
    R = np.sqrt(x)
    C = q * x
    k2 = love_number_k2(C, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = (2.0 / 3.0) * k2 / C**5
    return StarColumns(mass=C * R / MSUN_KM, radius=R, k2=k2, Lambda=lam, compactness=C, y_surface=w)


def integrate_stars(grid: NodeGrid, eos_index: np.ndarray, centre: np.ndarray) -> StarColumns:
    """Integrate the stars whose EoS row is ``eos_index`` and whose centre is node ``centre`` (both
    (s,) integer arrays) from the centre to the surface with RK4, one step per node interval.

    Stars are processed longest first so that at each node the active stars form a prefix; every
    star's arithmetic is its own, so results do not depend on the batch.
    """
    order = np.argsort(-centre, kind="stable")
    e_idx, c_idx = eos_index[order], centre[order]
    s = e_idx.size
    eps_c, P_c, deps_c = grid.eps[e_idx, c_idx], grid.P[e_idx, c_idx], grid.deps[e_idx, c_idx]
    x = np.zeros(s)
    q = FOUR_PI / 3.0 * eps_c
    y = _w_centre(eps_c, P_c)
    top = int(c_idx.max()) if s else 0
    for i in range(top, 0, -1):
        k = int(np.searchsorted(-c_idx, -i, side="right"))  # stars with centre >= i
        e = e_idx[:k]
        dh = grid.H[e, i - 1] - grid.H[e, i]
        c = (eps_c[:k], P_c[:k], deps_c[:k])
        ends = (grid.eps[e, i], grid.P[e, i], grid.deps[e, i])
        mids = (grid.eps_mid[e, i - 1], grid.P_mid[e, i - 1], grid.deps_mid[e, i - 1])
        lows = (grid.eps[e, i - 1], grid.P[e, i - 1], grid.deps[e, i - 1])
        x[:k], q[:k], y[:k] = _rk4_step(x[:k], q[:k], y[:k], dh, ends, mids, lows, c)
    out = _surface(x, q, y)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(s)
    return StarColumns(**{k: v[inverse] for k, v in vars(out).items()})


def _w_centre(eps_c, P_c):
    """w = y - 4 pi eps / (q + 4 pi P) at the centre, where y = 2 and q = 4 pi eps_c / 3."""
    return 2.0 - 3.0 * eps_c / (eps_c + 3.0 * P_c)


def _rk4_step(x, q, y, dh, ends, mids, lows, c):
    k1 = _rhs(x, q, y, *ends, *c)
    k2 = _rhs(x + 0.5 * dh * k1[0], q + 0.5 * dh * k1[1], y + 0.5 * dh * k1[2], *mids, *c)
    k3 = _rhs(x + 0.5 * dh * k2[0], q + 0.5 * dh * k2[1], y + 0.5 * dh * k2[2], *mids, *c)
    k4 = _rhs(x + dh * k3[0], q + dh * k3[1], y + dh * k3[2], *lows, *c)
    w = dh / 6.0
    return tuple(v + w * (a + 2 * b + 2 * cc + d) for v, a, b, cc, d in zip((x, q, y), k1, k2, k3, k4))


# --------------------------------------------------------------------------------------------------
# Love number
# --------------------------------------------------------------------------------------------------
_K2_SERIES = (
    lambda y: -(y - 2) / (2 * (y + 3)),
    lambda y: 5 * (y**2 + 2 * y - 6) / (2 * (y + 3) ** 2),
    lambda y: -5 * (11 * y**3 + 66 * y**2 + 52 * y - 204) / (14 * (y + 3) ** 3),
    lambda y: 5 * (5 * y**4 + 50 * y**3 + 160 * y**2 + 120 * y - 324) / (14 * (y + 3) ** 4),
    lambda y: 5 * (5 * y**5 + 70 * y**4 + 380 * y**3 + 1380 * y**2 - 1548 * y + 648) / (294 * (y + 3) ** 5),
    lambda y: (
        (17 * y**6 + 306 * y**5 + 2320 * y**4 + 13680 * y**3 + 5400 * y**2 - 4104 * y + 3888)
        / (294 * (y + 3) ** 6)
    ),
    lambda y: (
        5
        * (
            225 * y**7
            + 4950 * y**6
            + 48020 * y**5
            + 395740 * y**4
            + 665916 * y**3
            + 325512 * y**2
            + 105408 * y
            + 115344
        )
        / (22638 * (y + 3) ** 7)
    ),
)


def love_number_k2(C, y):
    """Tidal Love number k2 from the compactness C = M/R and y = R H'(R)/H(R) (after the surface
    correction), Hinderer (2008) eq. (23) with the erratum. Below C = 0.02 the closed form loses digits to
    cancellation, so its Taylor series in C (to C^6, from the closed form) is used there; at C -> 0 it
    is the Newtonian k2 = (2 - y) / (2 (y + 3))."""
    C = np.asarray(C, dtype=float)
    y = np.asarray(y, dtype=float)
    with np.errstate(all="ignore"):
        num = 1.6 * C**5 * (1 - 2 * C) ** 2 * (2 + 2 * C * (y - 1) - y)
        den = (
            2 * C * (6 - 3 * y + 3 * C * (5 * y - 8))
            + 4 * C**3 * (13 - 11 * y + C * (3 * y - 2) + 2 * C * C * (1 + y))
            + 3 * (1 - 2 * C) ** 2 * (2 - y + 2 * C * (y - 1)) * np.log1p(-2 * C)
        )
        closed = num / den
        series = sum(term(y) * C**i for i, term in enumerate(_K2_SERIES))
    return np.where(C < _SERIES_BELOW_C, series, closed)


# --------------------------------------------------------------------------------------------------
# Reference integration (scipy, tight tolerances) of one star
# --------------------------------------------------------------------------------------------------
def reference_star(table: EnthalpyTable, row: int, h_c: float, rtol: float = 1e-11) -> StarColumns:
    """One star of EoS ``row`` with central enthalpy ``h_c``, integrated by scipy's DOP853 from the
    centre to the surface on the continuous (Hermite) EoS: the yardstick of the fast path."""
    from scipy.integrate import solve_ivp

    sub = EnthalpyTable(*(np.asarray(v)[row : row + 1] for v in vars(table).values()))
    f = MEV_FM3_TO_KM2

    def eos(h):
        e, p, de, _ = sub.at(np.array([[h]]))
        return e[0, 0] * f, p[0, 0] * f, de[0, 0] * f

    c = eos(h_c)

    def rhs(h, v):
        return np.array(_rhs(v[0], v[1], v[2], *eos(h), *c), dtype=float)

    v0 = np.array([0.0, FOUR_PI / 3.0 * c[0], _w_centre(c[0], c[1])])
    sol = solve_ivp(rhs, (h_c, 0.0), v0, method="DOP853", rtol=rtol, atol=1e-14)
    x, q, w = sol.y[:, -1]
    return _surface(np.array([x]), np.array([q]), np.array([w]))
