"""A NICER mass-radius measurement, marginalised over the star's unknown mass along each EoS's M-R curve:

    L = int_{M_lo}^{Mmax} dM p(M) p_obs(M, R(M)),    p(M) = 1 / (Mmax - M_lo),  M_lo = 1 Msun,

with p_obs a product of split normals in M and R (mode at the published median, widths the published 68 %
half-intervals: the compact summary shipped; the published posteriors are correlated, which this fit
ignores). R(M) is the stable branch, interpolated linearly in M on 400 masses; the integral is a trapezoid
in log space. A star sequence whose branch does not reach M_lo is invalid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from .base import Context, log_split_normal, need_real

__all__ = ["Nicer", "log_marginal_mass_radius"]

M_LO = 1.0
"""Lower end of the mass prior, Msun."""
N_MASSES = 400


def log_marginal_mass_radius(masses, radii, m_max, log_density) -> float:
    """log of int_{M_LO}^{m_max} dM / (m_max - M_LO) exp(log_density(M, R(M))) along one branch (masses
    increasing, Msun; radii km); -inf where the branch does not cover [M_LO, m_max]."""
    if not (np.isfinite(m_max) and m_max > M_LO and masses.size >= 2 and masses[0] <= M_LO):
        return -np.inf
    grid = np.linspace(M_LO, m_max, N_MASSES)
    r = np.interp(grid, masses, radii)
    logf = log_density(grid, r)
    w = np.full(N_MASSES, (m_max - M_LO) / (N_MASSES - 1))
    w[[0, -1]] *= 0.5
    return float(logsumexp(logf, b=w) - np.log(m_max - M_LO))


@dataclass(frozen=True)
class Nicer:
    name: str
    mass: float
    mass_minus: float
    mass_plus: float
    radius: float
    radius_minus: float
    radius_plus: float
    reference: str
    description: str = ""
    kind: str = "nicer"
    needs_stars: bool = True

    @classmethod
    def from_entry(cls, name: str, entry: dict) -> Nicer:
        v = {k: need_real(name, entry, k, 1e-3, 40.0) for k in ("mass", "mass_minus", "mass_plus")}
        v.update(
            {k: need_real(name, entry, k, 1e-3, 40.0) for k in ("radius", "radius_minus", "radius_plus")}
        )
        return cls(
            name=name,
            reference=str(entry.get("reference", "")),
            description=str(entry.get("description", "")),
            **v,
        )

    def summary(self) -> str:
        return (
            f"M = {self.mass} -{self.mass_minus}/+{self.mass_plus} Msun, "
            f"R = {self.radius} -{self.radius_minus}/+{self.radius_plus} km (68 %)"
        )

    def log_density(self, m, r):
        return log_split_normal(m, self.mass, self.mass_minus, self.mass_plus) + log_split_normal(
            r, self.radius, self.radius_minus, self.radius_plus
        )

    def loglike(self, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
        stars = ctx.stars()
        mmax = stars.summary["M_max"]
        out = np.full(len(ctx), -np.inf)
        for i in np.nonzero(np.isfinite(mmax))[0]:
            m, r = stars.sequence["mass"][i], stars.sequence["radius"][i]
            keep = np.isfinite(m)
            out[i] = log_marginal_mass_radius(m[keep], r[keep], mmax[i], self.log_density)
        valid = np.isfinite(out)
        return np.where(valid, out, 0.0), valid
