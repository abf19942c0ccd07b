"""NMP tables that exercise every path of the NMP -> couplings inversion (quartic and scan).

The smallest root of Q0(C) = Q0 lies where the prior puts it: mostly in the first scan intervals, and more
than half of the prior draws have none. To put roots in every interval of the scan, Q0 of a prior draw is
replaced by the Q0 its other NMPs give at a chosen C (then the smallest root is at or below it); roots a
relative 1e-13 from a scan point, residuals within round-off of zero at C = 0 and a wider box of NMPs
(dS/drho turning negative inside the scan, no vector field) cover the members the quartic leaves to the
scan.
"""

from __future__ import annotations

import numpy as np

from nucleiml.constants import HBARC_MEV_FM
from nucleiml.datasets.prior import default_prior
from nucleiml.nuclear_matter import _isoscalar_given_C, _saturation_input, _scan_grid_t
from nucleiml.parameters import NMP, NMP_NAMES

N_SCAN = 48


def _q0_at(table: dict, t: np.ndarray, M: float = 939.0) -> np.ndarray:
    """Q0 (MeV) that the other NMPs of ``table`` give at C = t C_pole (NaN where not admissible)."""
    sat, code = _saturation_input(table, M)
    with np.errstate(all="ignore"):
        out = _isoscalar_given_C(sat.rho, sat.Mstar, sat.V, sat.E0, sat.K0, t * sat.rho / sat.V**3, sat.M)
    q0 = out[6] * HBARC_MEV_FM
    lo, hi, _ = NMP.RANGES["Q0"]
    return np.where((code == 0) & (out[7] == 0) & (q0 > lo) & (q0 < hi), q0, np.nan)


def _with_q0_at(base: dict, t: np.ndarray) -> dict:
    """``base`` with Q0 replaced by the value at C = t C_pole, members without one dropped."""
    q0 = _q0_at(base, t)
    keep = np.isfinite(q0)
    out = {k: v[keep] for k, v in base.items()}
    out["Q0"] = q0[keep]
    return out


def inversion_cases(rng: np.random.Generator, per_interval: int, n_prior: int) -> dict:
    """A table (NMP name -> array) of prior draws, roots placed in every scan interval, next to scan
    points and near C = 0, and draws from a wider box."""
    prior = default_prior()
    t_grid = _scan_grid_t(N_SCAN)
    parts = [prior.sample(n_prior, rng)]
    j = np.repeat(np.arange(N_SCAN - 1), per_interval)
    t = t_grid[j] + rng.uniform(0.0, 1.0, j.size) * (t_grid[j + 1] - t_grid[j])
    parts.append(_with_q0_at(prior.sample(j.size, rng), t))
    k = rng.integers(1, N_SCAN - 1, per_interval * 8)  # next to a scan point, on either side
    side = rng.choice([-1.0, 1.0], k.size)
    parts.append(_with_q0_at(prior.sample(k.size, rng), t_grid[k] * (1.0 + side * 1e-13)))
    zero = prior.sample(per_interval * 8, rng)  # C = 0 within round-off, and tiny C
    zero["Q0"] = _q0_at(zero, np.zeros(per_interval * 8))
    zero["Q0"] = zero["Q0"] * (1.0 + rng.choice([0.0, 1e-13, -1e-13, 1e-9, -1e-9, 1e-6], zero["Q0"].size))
    parts.append({kk: v[np.isfinite(zero["Q0"])] for kk, v in zero.items()})
    wide = {
        "rho0": rng.uniform(0.12, 0.2, n_prior // 2),
        "E0": rng.uniform(-18.0, -13.0, n_prior // 2),
        "K0": rng.uniform(120.0, 450.0, n_prior // 2),
        "Q0": rng.uniform(-2500.0, 2500.0, n_prior // 2),
        "mstar": rng.uniform(0.45, 0.95, n_prior // 2),
        "J0": rng.uniform(20.0, 45.0, n_prior // 2),
        "L0": rng.uniform(0.0, 150.0, n_prior // 2),
    }
    parts.append(wide)
    return {name: np.concatenate([p[name] for p in parts]) for name in NMP_NAMES}
