"""A binary neutron-star merger's tidal deformability (GW170817), marginalised over the mass ratio:

    L = (1 / (1 - q_min)) int_{q_min}^{1} dq  p_obs(Lambda-tilde(q)),

with the chirp mass fixed at its (very precise) measured value, m1 = Mc (1 + q)^(1/5) q^(-3/5), m2 = q m1,
Lambda_i = Lambda(m_i) on the EoS's stable branch (ln Lambda interpolated linearly in M) and

    Lambda-tilde = (16/13) [(m1 + 12 m2) m1^4 Lambda1 + (m2 + 12 m1) m2^4 Lambda2] / (m1 + m2)^5

(Flanagan & Hinderer 2008). p_obs is a split normal with its mode at the published median and widths the
published 90 % half-intervals divided by 1.645 (the shipped compact summary; the published interval is a
highest-density one, which the fit treats as equal-tailed). Mass ratios whose heavier star exceeds Mmax
(or lies below the branch) contribute nothing; a set for which no mass ratio is possible is invalid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from .base import ConstraintError, Context, log_split_normal, need_real, over_branches

__all__ = ["GwTidal", "lambda_tilde", "lambda_tilde_along_q"]

Z_90 = 1.6448536269514722
N_Q = 64


def lambda_tilde(m1, m2, lam1, lam2):
    """Binary tidal deformability from the component masses (any unit) and deformabilities."""
    return (16.0 / 13.0) * ((m1 + 12 * m2) * m1**4 * lam1 + (m2 + 12 * m1) * m2**4 * lam2) / (m1 + m2) ** 5


def lambda_tilde_along_q(chirp_mass, q_min, masses, lambdas, m_max):
    """(q, Lambda-tilde(q), possible) on N_Q mass ratios in [q_min, 1] at ``chirp_mass`` for one stable
    branch (masses increasing, Msun; ln Lambda interpolated linearly in M); ``possible`` is False where the
    heavier star exceeds Mmax or the lighter lies below the branch."""
    q = np.linspace(q_min, 1.0, N_Q)
    m1, m2 = component_masses(chirp_mass, q)
    possible = (m1 <= min(m_max, masses[-1])) & (m2 >= masses[0])
    log_lam = np.log(lambdas)
    lam1, lam2 = np.exp(np.interp(m1, masses, log_lam)), np.exp(np.interp(m2, masses, log_lam))
    return q, lambda_tilde(m1, m2, lam1, lam2), possible


def component_masses(chirp_mass, q):
    """(m1, m2), m1 >= m2, from the chirp mass and q = m2 / m1."""
    m1 = chirp_mass * (1 + q) ** 0.2 * q**-0.6
    return m1, q * m1


@dataclass(frozen=True)
class GwTidal:
    name: str
    lambda_tilde: float
    minus: float
    plus: float
    level: float
    chirp_mass: float
    q_min: float
    reference: str
    description: str = ""
    kind: str = "gw_tidal"
    needs_stars: bool = True

    @classmethod
    def from_entry(cls, name: str, entry: dict) -> GwTidal:
        level = need_real(name, entry, "level", 0.5, 0.99)
        if abs(level - 0.90) > 1e-12:
            raise ConstraintError(f"constraint {name}: level must be 0.90 (the 90 % interval), got {level!r}")
        return cls(
            name=name,
            lambda_tilde=need_real(name, entry, "lambda_tilde", 0.0, 1e5),
            minus=need_real(name, entry, "minus", 1e-3, 1e5),
            plus=need_real(name, entry, "plus", 1e-3, 1e5),
            level=level,
            chirp_mass=need_real(name, entry, "chirp_mass", 0.5, 3.0),
            q_min=need_real(name, entry, "q_min", 0.1, 0.999),
            reference=str(entry.get("reference", "")),
            description=str(entry.get("description", "")),
        )

    def summary(self) -> str:
        return (
            f"Lambda-tilde = {self.lambda_tilde:g} -{self.minus:g}/+{self.plus:g} (90 %), "
            f"Mc = {self.chirp_mass} Msun, q in [{self.q_min}, 1]"
        )

    def log_density(self, lt):
        return log_split_normal(lt, self.lambda_tilde, self.minus / Z_90, self.plus / Z_90)

    def loglike_branch(self, masses, lambdas, m_max) -> float:
        """log L for one stable branch (masses increasing, Msun); -inf where no mass ratio is possible."""
        _, lt, ok = lambda_tilde_along_q(self.chirp_mass, self.q_min, masses, lambdas, m_max)
        if not np.any(ok):
            return -np.inf
        logf = np.where(ok, self.log_density(lt), -np.inf)
        w = np.full(N_Q, (1.0 - self.q_min) / (N_Q - 1))
        w[[0, -1]] *= 0.5
        return float(logsumexp(logf, b=w) - np.log(1.0 - self.q_min))

    def loglike(self, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
        return over_branches(ctx, "Lambda", self.loglike_branch)
