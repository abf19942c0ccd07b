"""A pressure band of symmetric matter from collective flow in heavy-ion collisions: at each density
(in units of each sample's own rho0) a Gaussian centred in the band with the band's half-width as its
width (the band read as a 68 % interval), summed over the densities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import ConstraintError, Context

__all__ = ["PressureBand"]


def _floats(name: str, entry: dict, key: str) -> tuple[float, ...]:
    v = entry.get(key)
    if (
        not isinstance(v, list)
        or not v
        or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)
    ):
        raise ConstraintError(f"constraint {name}: {key} must be a non-empty list of numbers, got {v!r}")
    if not all(np.isfinite(v)):
        raise ConstraintError(f"constraint {name}: {key} must be finite, got {v!r}")
    return tuple(float(x) for x in v)


@dataclass(frozen=True)
class PressureBand:
    name: str
    density_n0: tuple[float, ...]
    lower: tuple[float, ...]  # MeV fm^-3
    upper: tuple[float, ...]
    reference: str
    description: str = ""
    kind: str = "pressure_band"
    needs_stars: bool = False

    @classmethod
    def from_entry(cls, name: str, entry: dict) -> PressureBand:
        d, lo, hi = (_floats(name, entry, k) for k in ("density_n0", "lower", "upper"))
        if not len(d) == len(lo) == len(hi):
            raise ConstraintError(f"constraint {name}: density_n0, lower and upper must have one length")
        if any(a >= b for a, b in zip(lo, hi)) or any(x <= 0 for x in d):
            raise ConstraintError(
                f"constraint {name}: need lower < upper and density_n0 > 0 at every density"
            )
        if entry.get("matter", "symmetric") != "symmetric":
            raise ConstraintError(
                f"constraint {name}: matter must be 'symmetric', got {entry.get('matter')!r}"
            )
        return cls(name=name, density_n0=d, lower=lo, upper=hi, reference=str(entry.get("reference", "")),
                   description=str(entry.get("description", "")))  # fmt: skip

    def summary(self) -> str:
        cells = ", ".join(
            f"[{a:g}, {b:g}] at {d:g} n0" for d, a, b in zip(self.density_n0, self.lower, self.upper)
        )
        return f"P_SNM in {cells} MeV fm^-3"

    def loglike(self, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
        total = np.zeros(len(ctx))
        valid = np.ones(len(ctx), dtype=bool)
        for d, lo, hi in zip(self.density_n0, self.lower, self.upper):
            p = ctx.symmetric_pressure(d * ctx.rho0)
            valid &= np.isfinite(p)
            total += -0.5 * ((np.nan_to_num(p) - 0.5 * (lo + hi)) / (0.5 * (hi - lo))) ** 2
        return np.where(valid, total, 0.0), valid
