"""Tabulated equations of state: validation, pseudo-enthalpy and slopes.

A table is (n_b [fm^-3], eps [MeV fm^-3], P [MeV fm^-3]) with all three strictly increasing. Between two
rows P(eps) is taken as a power law (log-log interpolation, the usual choice for crust tables); the
pseudo-enthalpy h = int dP / (eps + P) is integrated along it with a 4-point Gauss-Legendre rule per
interval, starting from h = P_0 / (eps_0 + P_0) at the first row (the part below the first row, a
negligible h for a table that starts in the outer crust). The slope deps/dh = (eps + P) deps/dP at a row
uses the mean of the two adjacent intervals' log-log slopes.
"""

from __future__ import annotations

import numpy as np

from ..parameters import ParameterError

__all__ = ["MEV_FM3_PER_DYN_CM2", "MEV_FM3_PER_G_CM3", "check_table", "enthalpy_of", "log_slope_deps_dh"]

MEV_FM3_PER_DYN_CM2 = 1.0 / 1.602176634e33
"""1 dyn cm^-2 (= 1 erg cm^-3) in MeV fm^-3."""

MEV_FM3_PER_G_CM3 = 2.99792458e10**2 / 1.602176634e33
"""The energy density of 1 g cm^-3 (times c^2) in MeV fm^-3."""

_GL_X, _GL_W = np.polynomial.legendre.leggauss(4)


def check_table(n, eps, P, *, what: str = "EoS table") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate a tabulated EoS: three 1-D real, finite, positive, strictly increasing columns of one
    length >= 4. Returns them as float arrays.

    Raises
    ------
    ParameterError
        Naming the column (n_b, eps or P), the first offending row and the rule it breaks.
    """
    cols = {}
    for name, v in (("n_b", n), ("eps", eps), ("P", P)):
        try:
            a = np.asarray(v)
        except Exception as exc:  # pragma: no cover - numpy raises for ragged input
            raise ParameterError(f"{what}: column {name} is not an array of numbers ({exc})") from None
        if a.dtype.kind not in "iuf" or a.ndim != 1:
            raise ParameterError(
                f"{what}: column {name} must be a 1-D array of real numbers, got dtype {a.dtype} shape {a.shape}"
            )
        cols[name] = a.astype(float)
    lengths = {len(c) for c in cols.values()}
    if len(lengths) != 1:
        raise ParameterError(
            f"{what}: columns n_b, eps, P have different lengths {[len(c) for c in cols.values()]}"
        )
    if lengths.pop() < 4:
        raise ParameterError(f"{what}: needs at least 4 rows")
    for name, a in cols.items():
        bad = ~np.isfinite(a) | (a <= 0)
        if np.any(bad):
            j = int(np.argmax(bad))
            raise ParameterError(f"{what}: {name}[{j}] = {a[j]!r} must be finite and > 0")
        step = np.diff(a) <= 0
        if np.any(step):
            j = int(np.argmax(step)) + 1
            raise ParameterError(
                f"{what}: {name} must increase strictly, but {name}[{j}] = {a[j]!r} <= {name}[{j - 1}] = {a[j - 1]!r}"
            )
    return cols["n_b"], cols["eps"], cols["P"]


def enthalpy_of(eps, P) -> np.ndarray:
    """h at each row (..., k) of increasing (eps, P) tables, P(eps) a power law between rows."""
    eps, P = np.asarray(eps, dtype=float), np.asarray(P, dtype=float)
    lp0, lp1 = np.log(P[..., :-1]), np.log(P[..., 1:])
    gamma = (lp1 - lp0) / (np.log(eps[..., 1:]) - np.log(eps[..., :-1]))
    total = np.zeros(lp0.shape)
    for x, w in zip(_GL_X, _GL_W):
        lp = 0.5 * (lp0 + lp1) + 0.5 * (lp1 - lp0) * x
        p = np.exp(lp)
        e = eps[..., :-1] * np.exp((lp - lp0) / gamma)
        total = total + 0.5 * w * (lp1 - lp0) * p / (e + p)  # int P/(eps+P) d ln P
    h0 = P[..., :1] / (eps[..., :1] + P[..., :1])
    return np.concatenate([h0, h0 + np.cumsum(total, axis=-1)], axis=-1)


def log_slope_deps_dh(eps, P) -> np.ndarray:
    """deps/dh = (eps + P) eps / (Gamma P) at each row, Gamma = dlnP/dln eps averaged over the two
    adjacent intervals (one at the ends)."""
    eps, P = np.asarray(eps, dtype=float), np.asarray(P, dtype=float)
    g = np.diff(np.log(P), axis=-1) / np.diff(np.log(eps), axis=-1)
    node = np.concatenate([g[..., :1], 0.5 * (g[..., 1:] + g[..., :-1]), g[..., -1:]], axis=-1)
    return (eps + P) * eps / (node * P)
