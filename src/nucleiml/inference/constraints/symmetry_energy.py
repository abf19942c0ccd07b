"""A symmetry-energy point from heavy-ion collisions: a Gaussian in S at a density given in units of the
saturation density, evaluated at each sample's own rho0 (S is the symmetry energy J(n) of
:func:`nucleiml.nuclear_matter.symmetry_energy`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Context, need_real

__all__ = ["SymmetryEnergy"]


@dataclass(frozen=True)
class SymmetryEnergy:
    name: str
    density_n0: float
    value: float  # MeV
    sigma: float  # MeV
    reference: str
    description: str = ""
    kind: str = "symmetry_energy"
    needs_stars: bool = False

    @classmethod
    def from_entry(cls, name: str, entry: dict) -> SymmetryEnergy:
        return cls(
            name=name,
            density_n0=need_real(name, entry, "density_n0", 0.05, 5.0),
            value=need_real(name, entry, "value", -50.0, 200.0),
            sigma=need_real(name, entry, "sigma", 1e-3, 100.0),
            reference=str(entry.get("reference", "")),
            description=str(entry.get("description", "")),
        )

    def summary(self) -> str:
        return f"S({self.density_n0:g} n0) = {self.value:g} +/- {self.sigma:g} MeV"

    def loglike(self, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
        s = ctx.symmetry_energy(self.density_n0 * ctx.rho0)
        valid = np.isfinite(s)
        return np.where(valid, -0.5 * ((s - self.value) / self.sigma) ** 2, 0.0), valid
