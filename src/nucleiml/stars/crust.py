"""The neutron-star crust (shipped table) and its junction with the uniform core.

The crust is the SLy4 table shipped in ``data/crust_sly4.csv`` (outer crust BPS + Haensel-Pichon, inner
crust of Douchin & Haensel 2001; sources in ``data/SOURCES.md``). A star is assembled as

* the crust table up to ``crust_end`` (default: its last row below neutron drip, n_b = 2.5e-4 fm^-3, so
  the whole outer crust and none of the SLy4 inner crust);
* a bridge P = a + b eps^(4/3) from there to the core at the junction density n_t (the recipe of
  Carriere, Horowitz & Piekarewicz, ApJ 593, 463 (2003), used for the published FSUGold-family stars):
  continuous in P and eps at both ends and monotonic, since the junction is only accepted where the core
  pressure exceeds the crust's;
* the beta-equilibrated core from n_t upwards.

Junction: the requested n_t (a fixed density, default 0.08 fm^-3, or half the set's saturation density)
is taken on the core's density grid (the first grid density at or above it). If the core there is not
stable (dP/dn <= 0 at or above it: uniform matter below its spinodal, as for sets with a low L0) or its
pressure does not exceed the crust's at ``crust_end``, the junction moves up to the first grid density
where both hold, and the result reports the density used and that it moved. If no such density exists
below ``max_junction`` the set gets the status NO_JUNCTION.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from .matter import BetaEquilibrium, PointStatus
from .sequence import StarStatus
from .table import MEV_FM3_PER_DYN_CM2, MEV_FM3_PER_G_CM3, check_table, enthalpy_of, log_slope_deps_dh
from .tov import EnthalpyTable

__all__ = ["Crust", "Junction", "glue_core", "glue_table", "load_crust"]

_BRIDGE_POINTS = 24
_GL_X, _GL_W = np.polynomial.legendre.leggauss(4)


@dataclass(frozen=True)
class Crust:
    """A crust table: n_b (fm^-3), eps and P (MeV fm^-3), h and deps/dh at each row."""

    name: str
    n: np.ndarray
    energy_density: np.ndarray
    pressure: np.ndarray
    h: np.ndarray
    deps_dh: np.ndarray

    def upto(self, n_end: float) -> Crust:
        """The rows with n_b <= n_end."""
        k = int(np.searchsorted(self.n, n_end * (1 + 1e-12), side="right"))
        return Crust(
            self.name, *(v[:k] for v in (self.n, self.energy_density, self.pressure, self.h, self.deps_dh))
        )


@lru_cache(maxsize=4)
def load_crust(name: str = "SLy4") -> Crust:
    """The shipped crust table ``name`` (only "SLy4" ships), converted to MeV fm^-3."""
    if name != "SLy4":
        raise ValueError(f"unknown crust {name!r}; available: SLy4")
    text = resources.files("nucleiml").joinpath("data", "crust_sly4.csv").read_text(encoding="utf-8")
    rows = [line.split(",") for line in text.splitlines() if line and not line.startswith(("#", "n_b"))]
    n = np.array([float(r[0]) for r in rows])
    eps = np.array([float(r[1]) for r in rows]) * MEV_FM3_PER_G_CM3
    P = np.array([float(r[2]) for r in rows]) * MEV_FM3_PER_DYN_CM2
    n, eps, P = check_table(n, eps, P, what="crust table data/crust_sly4.csv")
    return Crust(name, n, eps, P, enthalpy_of(eps, P), log_slope_deps_dh(eps, P))


@dataclass(frozen=True)
class Junction:
    """Where each set's core was glued: density (fm^-3), whether it moved above the requested one, and
    the core grid index (-1 where no junction exists)."""

    density: np.ndarray
    moved: np.ndarray
    index: np.ndarray


def _core_top(status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the first non-OK core point (k if none) and the StarStatus it implies."""
    m, k = status.shape
    bad = status != PointStatus.OK
    cut = np.where(bad.any(axis=1), np.argmax(bad, axis=1), k)
    code = status[np.arange(m), np.minimum(cut, k - 1)]
    mapping = {
        PointStatus.ACAUSAL: StarStatus.ACAUSAL,
        PointStatus.RHO_UNSTABLE: StarStatus.RHO_UNSTABLE,
        PointStatus.NO_SOLUTION: StarStatus.NO_SOLUTION,
    }
    top = np.array(
        [
            mapping.get(PointStatus(int(c)), StarStatus.OK) if j < k else StarStatus.OK
            for c, j in zip(code, cut)
        ]
    )
    return cut, top


def find_junction(core: BetaEquilibrium, requested, crust_pressure: float, max_junction: float) -> Junction:
    """First core grid point at or above ``requested`` (m,) with P > ``crust_pressure`` and dP/dn > 0
    from there up to the end of the valid core."""
    m, k = core.n.shape
    cut, _ = _core_top(core.status)
    positive = np.nan_to_num(core.cs2, nan=-1.0) > 0
    stable_from = np.zeros((m, k), dtype=bool)
    following = np.ones(m, dtype=bool)
    for j in range(k - 1, -1, -1):
        following = positive[:, j] & (following | (j + 1 >= cut))
        stable_from[:, j] = following
    cols = np.arange(k)[None, :]
    req = np.asarray(requested, dtype=float)[:, None]
    at_or_above = core.n >= req * (1 - 1e-12)
    ok = at_or_above & stable_from & (cols < cut[:, None]) & (core.pressure > crust_pressure)
    ok &= core.n <= max_junction * (1 + 1e-12)
    index = np.where(ok.any(axis=1), np.argmax(ok, axis=1), -1)
    first = np.argmax(at_or_above, axis=1)
    rows = np.arange(m)
    density = np.where(index >= 0, core.n[rows, np.maximum(index, 0)], np.nan)
    return Junction(density=density, moved=(index > first) & (index >= 0), index=index)


def _bridge(e0, p0, n0, h0, e1, p1):
    """The bridge P = a + b eps^(4/3) between (e0, p0) and (e1, p1) (m,), at _BRIDGE_POINTS interior
    energy densities (geometric): eps, P, n, h, deps/dh, each (m, _BRIDGE_POINTS + 1) ending at e1."""
    b = (p1 - p0) / (e1 ** (4 / 3) - e0 ** (4 / 3))
    a = p0 - b * e0 ** (4 / 3)
    t = np.linspace(0.0, 1.0, _BRIDGE_POINTS + 2)[None, 1:]
    eps = e0[:, None] * (e1 / e0)[:, None] ** t
    lo = np.concatenate([e0[:, None], eps[:, :-1]], axis=1)
    dh = np.zeros(eps.shape)
    dlnn = np.zeros(eps.shape)
    for x, w in zip(_GL_X, _GL_W):  # int dP/(eps+P) and int deps/(eps+P) over each interval
        e = 0.5 * (lo + eps) + 0.5 * (eps - lo) * x
        p = a[:, None] + b[:, None] * e ** (4 / 3)
        dh += 0.5 * w * (eps - lo) * (4 / 3) * b[:, None] * e ** (1 / 3) / (e + p)
        dlnn += 0.5 * w * (eps - lo) / (e + p)
    P = a[:, None] + b[:, None] * eps ** (4 / 3)
    h = h0[:, None] + np.cumsum(dh, axis=1)
    n = n0[:, None] * np.exp(np.cumsum(dlnn, axis=1))
    deps = (eps + P) / ((4 / 3) * b[:, None] * eps ** (1 / 3))
    return eps, P, n, h, deps


def glue_core(core: BetaEquilibrium, crust: Crust, junction: Junction) -> tuple[EnthalpyTable, np.ndarray]:
    """The whole star's EoS table of every set with a junction (other rows: NaN), and the StarStatus that
    explains where each table ends."""
    m, k = core.n.shape
    cut, top_status = _core_top(core.status)
    rows = np.arange(m)
    j = np.maximum(junction.index, 0)
    e1, p1 = core.energy_density[rows, j], core.pressure[rows, j]
    ones = np.ones(m)
    be, bp, bn, bh, bde = _bridge(
        crust.energy_density[-1] * ones,
        crust.pressure[-1] * ones,
        crust.n[-1] * ones,
        crust.h[-1] * ones,
        e1,
        p1,
    )
    # the core from its junction (its first point is the bridge's last) up to its last valid point
    cols = j[:, None] + 1 + np.arange(k)[None, :]
    inside = cols < cut[:, None]
    cc = np.minimum(cols, k - 1)
    mu = core.mu_n[rows[:, None], cc]
    h_core = bh[:, -1:] + np.log(mu / core.mu_n[rows, j][:, None])
    take = {
        "h": h_core,
        "energy_density": core.energy_density[rows[:, None], cc],
        "pressure": core.pressure[rows[:, None], cc],
        "deps_dh": (core.energy_density + core.pressure)[rows[:, None], cc] / core.cs2[rows[:, None], cc],
        "n": core.n[rows[:, None], cc],
    }
    take = {key: np.where(inside, v, np.inf if key == "h" else np.nan) for key, v in take.items()}
    crust_cols = {
        "h": crust.h,
        "energy_density": crust.energy_density,
        "pressure": crust.pressure,
        "deps_dh": crust.deps_dh,
        "n": crust.n,
    }
    bridge_cols = {"h": bh, "energy_density": be, "pressure": bp, "deps_dh": bde, "n": bn}
    parts = {
        key: np.concatenate(
            [np.broadcast_to(crust_cols[key], (m, crust.n.size)), bridge_cols[key], take[key]], axis=1
        )
        for key in crust_cols
    }
    # the bridge's last point is the core's junction point: give it the core's exact slope
    parts["deps_dh"][:, crust.n.size + _BRIDGE_POINTS] = (e1 + p1) / core.cs2[rows, j]
    parts["n"][:, crust.n.size + _BRIDGE_POINTS] = core.n[rows, j]
    none = junction.index < 0
    for key in parts:
        parts[key][none] = np.inf if key == "h" else np.nan
    return EnthalpyTable(**parts), np.where(none, StarStatus.NO_JUNCTION, top_status)


def glue_table(n, eps, P, crust: Crust) -> tuple[EnthalpyTable, bool]:
    """A user's tabulated EoS as one star table. A table that starts above the crust's end (no crust of
    its own) gets the crust and a bridge to its first row; one that starts inside the crust's range is
    used as it is. Returns the table and whether the crust was added."""
    n, eps, P = check_table(n, eps, P)
    add = n[0] > crust.n[-1] and P[0] > crust.pressure[-1] and eps[0] > crust.energy_density[-1]
    if not add:
        h = enthalpy_of(eps, P)
        return EnthalpyTable(h[None], eps[None], P[None], log_slope_deps_dh(eps, P)[None], n[None]), False
    one = np.ones(1)
    be, bp, bn, bh, bde = _bridge(
        crust.energy_density[-1] * one, crust.pressure[-1] * one, crust.n[-1] * one, crust.h[-1] * one,
        eps[0] * one, P[0] * one,
    )  # fmt: skip
    h_tab = bh[0, -1] + enthalpy_of(eps, P) - enthalpy_of(eps, P)[0]
    de_tab = log_slope_deps_dh(eps, P)
    cat = {
        "h": np.concatenate([crust.h, bh[0, :-1], h_tab]),
        "energy_density": np.concatenate([crust.energy_density, be[0, :-1], eps]),
        "pressure": np.concatenate([crust.pressure, bp[0, :-1], P]),
        "deps_dh": np.concatenate([crust.deps_dh, bde[0, :-1], de_tab]),
        "n": np.concatenate([crust.n, bn[0, :-1], n]),
    }
    return EnthalpyTable(**{k: v[None] for k, v in cat.items()}), True
