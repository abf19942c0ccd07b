"""A pulsar's measured mass: the EoS must support it, log L = log P(M_obs < Mmax) for a Gaussian
measurement, log Phi((Mmax - M_obs) / sigma)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr

from .base import Context, need_real

__all__ = ["PulsarMass"]


@dataclass(frozen=True)
class PulsarMass:
    name: str
    mass: float  # Msun
    sigma: float  # Msun
    reference: str
    description: str = ""
    kind: str = "pulsar_mass"
    needs_stars: bool = True

    @classmethod
    def from_entry(cls, name: str, entry: dict) -> PulsarMass:
        return cls(
            name=name,
            mass=need_real(name, entry, "mass", 0.5, 4.0),
            sigma=need_real(name, entry, "sigma", 1e-4, 2.0),
            reference=str(entry.get("reference", "")),
            description=str(entry.get("description", "")),
        )

    def summary(self) -> str:
        return f"M = {self.mass} +/- {self.sigma} Msun"

    def loglike(self, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
        mmax = ctx.stars().summary["M_max"]
        valid = np.isfinite(mmax)
        z = (np.where(valid, mmax, 0.0) - self.mass) / self.sigma
        return np.where(valid, log_ndtr(z), 0.0), valid
