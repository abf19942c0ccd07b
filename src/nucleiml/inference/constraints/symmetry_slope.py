"""A constraint on the slope of the symmetry energy, L(n) = 3 n dS/dn, at a density given in units of the
saturation density and evaluated at each sample's own rho0; published as an interval, used as a Gaussian
with the interval's centre and half-width (the fit is stated with the data)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import ConstraintError, Context, need_real

__all__ = ["SymmetrySlope", "symmetry_slope"]

REL_STEP = 1e-4
"""Relative density step of the central difference of S(n)."""


def symmetry_slope(ctx: Context, density) -> np.ndarray:
    """L(n) = 3 n dS/dn (MeV) at ``density`` (n,) fm^-3, by a central difference of the symmetry energy
    (relative step :data:`REL_STEP`); NaN without couplings. At n = rho0 it is the NMP L0."""
    n = np.asarray(density, dtype=float)
    h = REL_STEP * n
    return 3.0 * n * (ctx.symmetry_energy(n + h) - ctx.symmetry_energy(n - h)) / (2.0 * h)


@dataclass(frozen=True)
class SymmetrySlope:
    name: str
    density_n0: float
    low: float  # MeV
    high: float  # MeV
    reference: str
    description: str = ""
    kind: str = "symmetry_slope"
    needs_stars: bool = False

    @classmethod
    def from_entry(cls, name: str, entry: dict) -> SymmetrySlope:
        low = need_real(name, entry, "low", -200.0, 400.0)
        high = need_real(name, entry, "high", -200.0, 400.0)
        if not high > low:
            raise ConstraintError(f"constraint {name}: high must exceed low, got [{low}, {high}] MeV")
        return cls(
            name=name,
            density_n0=need_real(name, entry, "density_n0", 0.05, 5.0),
            low=low,
            high=high,
            reference=str(entry.get("reference", "")),
            description=str(entry.get("description", "")),
        )

    @property
    def centre(self) -> float:
        return 0.5 * (self.low + self.high)

    @property
    def sigma(self) -> float:
        return 0.5 * (self.high - self.low)

    def summary(self) -> str:
        return f"{self.low:g} < L({self.density_n0:g} n0) < {self.high:g} MeV (Gaussian, half-width as sigma)"

    def loglike(self, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
        slope = symmetry_slope(ctx, self.density_n0 * ctx.rho0)
        valid = np.isfinite(slope)
        return np.where(valid, -0.5 * ((slope - self.centre) / self.sigma) ** 2, 0.0), valid
