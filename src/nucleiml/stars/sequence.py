"""The mass-radius-tidal deformability sequence of an EoS and its summary.

Pure array kernels, batched over EoS: stars are centred on every enthalpy node whose central pressure is
at least ``min_central_pressure``; the stable branch runs from there to the first maximum of M(h_c),
which is refined by a parabola through the three nodes around it. R, Lambda at a given mass come from
cubic interpolation in h_c along the stable branch (M(h_c) is monotonic there), so no interpolation is
done across the flat top of M(R).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from ..constants import MEV_FM3_TO_KM2
from .tov import EnthalpyTable, integrate_stars, node_grid

__all__ = ["SequenceArrays", "StarStatus", "sequence_kernel"]


class StarStatus(enum.IntEnum):
    """Why a star sequence has, or has not, a maximum mass (failure as data)."""

    OK = 0
    ACAUSAL = 1
    RHO_UNSTABLE = 2
    NO_SOLUTION = 3
    NO_MAXIMUM = 4
    NO_JUNCTION = 5
    NO_COUPLINGS = 6

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES = {
    StarStatus.OK: "",
    StarStatus.ACAUSAL: "the EoS becomes acausal (c_s^2 >= 1) below the central density of the maximum mass",
    StarStatus.RHO_UNSTABLE: "the rho-meson field becomes unstable (m_rho*^2 <= 0) below the maximum mass",
    StarStatus.NO_SOLUTION: "beta-equilibrium matter has no mean-field solution below the maximum mass",
    StarStatus.NO_MAXIMUM: "the mass still rises at the top of the EoS table (raise n_max)",
    StarStatus.NO_JUNCTION: "no density where the core pressure rises above the crust's and keeps rising "
    "(the uniform core is unstable up to the largest allowed junction density)",
    StarStatus.NO_COUPLINGS: "the nuclear-matter parameters have no physical couplings",
}


@dataclass(frozen=True)
class SequenceArrays:
    """Stars of m EoS (columns (m, s), NaN beyond each EoS's stable branch) and per-EoS summaries (m,).

    Star columns: h_c (central pseudo-enthalpy), central n (fm^-3), central eps and P (MeV fm^-3), mass
    (Msun), radius (km), k2, Lambda. Summary: M_max (Msun), R_M_max (km), n_c_M_max (fm^-3), eps_c_M_max
    (MeV fm^-3), R_14, R_20 (km) and Lambda_14, Lambda_20 at 1.4 and 2.0 Msun, cs2_max (up to the centre
    of the maximum-mass star); status codes (:class:`StarStatus`).
    """

    h_c: np.ndarray
    n_c: np.ndarray
    eps_c: np.ndarray
    P_c: np.ndarray
    mass: np.ndarray
    radius: np.ndarray
    k2: np.ndarray
    Lambda: np.ndarray
    summary: dict
    status: np.ndarray


def _stars(table: EnthalpyTable, n_intervals: int, stretch: float, min_pc: float, stride: int):
    """Integrate a star at every ``stride``-th node (counted down from the top node) with P_c >= min_pc.
    Returns the node grid, the star nodes' h (m, s) and the star columns (m, s), NaN where no star."""
    grid = node_grid(table, n_intervals, stretch)
    m, k = grid.H.shape
    nodes = np.arange(k - 1, -1, -stride)[::-1]
    has = (grid.P[:, nodes] / MEV_FM3_TO_KM2 >= min_pc) & np.isfinite(grid.H[:, nodes])
    e_idx, s_idx = np.nonzero(has)
    stars = integrate_stars(grid, e_idx, nodes[s_idx])
    cols = {}
    for name, v in vars(stars).items():
        a = np.full((m, nodes.size), np.nan)
        a[e_idx, s_idx] = v
        cols[name] = a
    f = MEV_FM3_TO_KM2
    centre = {
        "h_c": grid.H[:, nodes],
        "n_c": grid.n[:, nodes],
        "eps_c": grid.eps[:, nodes] / f,
        "P_c": grid.P[:, nodes] / f,
    }
    return grid, centre, cols


def _first_maximum(mass):
    """Index of the first local maximum of each row of ``mass`` (m, k) scanning upwards from its first
    finite entry; -1 where the mass still rises at the last finite entry (or there are no stars)."""
    m, k = mass.shape
    finite = np.isfinite(mass)
    first = np.argmax(finite, axis=1)
    cols = np.arange(k - 1)[None, :]
    with np.errstate(invalid="ignore"):
        stop = ~(mass[:, 1:] > mass[:, :-1])  # the mass does not rise (or the next star is missing)
    stop &= cols >= first[:, None]
    j = np.where(stop.any(axis=1), np.argmax(stop, axis=1), k - 1)
    rows = np.arange(m)
    genuine = (j + 1 < k) & finite[rows, j] & finite[rows, np.minimum(j + 1, k - 1)] & (j > first)
    return np.where(genuine, j, -1)


def _parabola_vertex(x, f):
    """Vertex (x*, f*) of the parabola through three points per row: x, f (m, 3)."""
    x0, x1, x2 = x.T
    f0, f1, f2 = f.T
    d01, d12 = (f1 - f0) / (x1 - x0), (f2 - f1) / (x2 - x1)
    a = (d12 - d01) / (x2 - x0)
    b = d01 - a * (x0 + x1)
    xs = -b / (2 * a)
    return xs, a * xs * xs + b * xs + (f0 - a * x0 * x0 - b * x0)


def _lagrange(xn, fn, x):
    """Lagrange polynomial through the points (xn, fn) (m, p) evaluated at x (m,)."""
    out = np.zeros_like(x)
    p = xn.shape[1]
    for i in range(p):
        w = np.ones_like(x)
        for j in range(p):
            if j != i:
                w = w * (x - xn[:, j]) / (xn[:, i] - xn[:, j])
        out = out + w * fn[:, i]
    return out


def _at_mass(H, cols, top, target):
    """Radius (km) and Lambda at mass ``target`` (Msun) on the stable branch (nodes up to ``top``): the
    cubic through four nodes around the crossing is solved for h_c by bisection. NaN where the branch
    does not cross ``target``."""
    m, k = H.shape
    mass = cols["mass"]
    out_R, out_L = np.full(m, np.nan), np.full(m, np.nan)
    c = np.arange(k - 1)[None, :]
    with np.errstate(invalid="ignore"):
        cross = (mass[:, :-1] <= target) & (mass[:, 1:] > target) & (c < top[:, None])
    g = np.nonzero(cross.any(axis=1))[0]
    if g.size == 0:
        return out_R, out_L
    j = np.argmax(cross[g], axis=1)
    first = np.argmax(np.isfinite(mass[g]), axis=1)
    lo = np.maximum(np.minimum(j - 1, top[g] - 3), first)
    sel = np.minimum(lo[:, None] + np.arange(4)[None, :], k - 1)
    hn, mn = H[g[:, None], sel], mass[g[:, None], sel]
    a, b = H[g, j], H[g, j + 1]
    for _ in range(60):
        mid = 0.5 * (a + b)
        below = _lagrange(hn, mn, mid) < target
        a, b = np.where(below, mid, a), np.where(below, b, mid)
    hx = 0.5 * (a + b)
    out_R[g] = _lagrange(hn, cols["radius"][g[:, None], sel], hx)
    out_L[g] = np.exp(_lagrange(hn, np.log(cols["Lambda"][g[:, None], sel]), hx))
    return out_R, out_L


def _maximum(table: EnthalpyTable, grid, H, cols, top):
    """Mmax, its radius, central density and energy density, and the largest c_s^2 up to its centre
    (H: the star nodes' central h)."""
    m = H.shape[0]
    out = {name: np.full(m, np.nan) for name in ("M_max", "R_M_max", "n_c_M_max", "eps_c_M_max", "cs2_max")}
    g = np.nonzero(top >= 1)[0]
    if g.size == 0:
        return out
    three = top[g][:, None] + np.array([-1, 0, 1])[None, :]
    hn = H[g[:, None], three]
    hs, mmax = _parabola_vertex(hn, cols["mass"][g[:, None], three])
    out["M_max"][g] = mmax
    out["R_M_max"][g] = _lagrange(hn, cols["radius"][g[:, None], three], hs)
    hq = np.zeros(m)
    hq[g] = hs
    eps, pres, deps, n = table.at(hq[:, None])
    out["n_c_M_max"][g] = n[g, 0]
    out["eps_c_M_max"][g] = eps[g, 0]
    with np.errstate(all="ignore"):
        cs2_nodes = (grid.eps + grid.P) / grid.deps
        cs2_c = (eps + pres) / deps
    below = grid.H <= hq[:, None]
    cs2 = np.max(np.where(below & np.isfinite(cs2_nodes), cs2_nodes, -np.inf), axis=1)
    out["cs2_max"][g] = np.maximum(cs2[g], cs2_c[g, 0])
    return out


def sequence_kernel(
    table: EnthalpyTable,
    top_status: np.ndarray,
    *,
    n_intervals: int = 96,
    stretch: float = 3.0,
    min_central_pressure: float = 5.0,
    star_stride: int = 2,
) -> SequenceArrays:
    """M-R-Lambda sequences of the m EoS of ``table``.

    ``top_status`` (m,) is the :class:`StarStatus` that explains where each table ends (OK where it ends
    at the grid's n_max): it becomes the status of an EoS whose mass still rises at the top. Stars are
    centred on every ``star_stride``-th node with central pressure >= ``min_central_pressure`` (MeV fm^-3).
    """
    grid, centre, cols = _stars(table, n_intervals, stretch, min_central_pressure, star_stride)
    H = centre["h_c"]
    mass = cols["mass"]
    top = _first_maximum(mass)
    status = np.where(top >= 0, StarStatus.OK, np.where(top_status == 0, StarStatus.NO_MAXIMUM, top_status))
    summary = _maximum(table, grid, H, cols, top)
    finite = np.isfinite(mass)
    last_star = H.shape[1] - 1 - np.argmax(finite[:, ::-1], axis=1)
    branch_top = np.where(top >= 0, top, np.where(finite.any(axis=1), last_star, -1))
    for target, label in ((1.4, "14"), (2.0, "20")):
        summary[f"R_{label}"], summary[f"Lambda_{label}"] = _at_mass(H, cols, branch_top, target)
    branch = (np.arange(H.shape[1])[None, :] <= branch_top[:, None]) & finite
    src = {**centre, **cols}
    names = ("h_c", "n_c", "eps_c", "P_c", "mass", "radius", "k2", "Lambda")
    star = {k: np.where(branch, src[k], np.nan) for k in names}
    return SequenceArrays(**star, summary=summary, status=status.astype(np.int8))
