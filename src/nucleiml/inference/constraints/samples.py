"""Constraints from a user's file of published posterior samples, through a kernel density estimate.

- ``mass_radius_samples``: columns M [Msun], R [km] (e.g. a NICER posterior). The KDE (Gaussian kernel,
  Scott's bandwidth per axis, binned) is tabulated once on a 240 x 240 grid over the samples' range (+- 4
  bandwidths) and read by bilinear interpolation; the term is the NICER marginal of :mod:`.nicer` with this
  density. Outside the grid the density is zero (the point gets the floor).
- ``tidal_samples``: columns m1, m2 [Msun], Lambda1, Lambda2 (e.g. a GW170817 posterior). Each sample gives
  q = m2/m1 and Lambda-tilde; their 2-D KDE is tabulated the same way, and the term is the mean over q on
  [q_min, 1] (the samples' range) of the density at (q, Lambda-tilde of the EoS), at the samples' median
  chirp mass.

The file: whitespace- or comma-separated numbers, '#' comments, at least 50 rows. Its path (``file``) is
taken relative to the run file. The densities are up to a constant, like the other terms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.special import logsumexp

from .base import ConstraintError, Context, over_branches
from .gw_tidal import N_Q, lambda_tilde, lambda_tilde_along_q
from .nicer import log_marginal_mass_radius

__all__ = ["MassRadiusSamples", "TidalSamples", "read_samples"]

GRID = 240
MIN_ROWS = 50


def read_samples(name: str, path, columns: int) -> np.ndarray:
    """The first ``columns`` columns of a samples file as an (n, columns) array.

    Raises
    ------
    ConstraintError
        Naming the constraint, the file and the line that is wrong.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConstraintError(f"constraint {name}: cannot read samples file {str(p)!r}: {exc}") from None
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        body = line.split("#", 1)[0].replace(",", " ").split()
        if not body:
            continue
        try:
            values = [float(v) for v in body[:columns]]
        except ValueError:
            raise ConstraintError(f"constraint {name}: {p}: line {lineno} is not numbers") from None
        if len(values) < columns or not np.all(np.isfinite(values)):
            raise ConstraintError(f"constraint {name}: {p}: line {lineno} needs {columns} finite numbers")
        rows.append(values)
    if len(rows) < MIN_ROWS:
        raise ConstraintError(f"constraint {name}: {p}: {len(rows)} samples; need at least {MIN_ROWS}")
    return np.array(rows)


@dataclass(frozen=True)
class _GridDensity:
    """log of a 2-D KDE tabulated on a regular grid, read by bilinear interpolation (-inf outside)."""

    x: np.ndarray
    y: np.ndarray
    logd: np.ndarray

    @classmethod
    def fit(cls, a: np.ndarray, b: np.ndarray) -> _GridDensity:
        """Binned Gaussian KDE: the samples' 2-D histogram on the grid, smoothed by a Gaussian of Scott's
        bandwidth per axis (std n^(-1/6); the kernel is axis-aligned), normalised to unit integral. Cost
        independent of the number of samples."""
        from scipy.ndimage import gaussian_filter

        n = a.size
        ha, hb = np.std(a) * n ** (-1 / 6), np.std(b) * n ** (-1 / 6)
        x = np.linspace(a.min() - 4 * ha, a.max() + 4 * ha, GRID)
        y = np.linspace(b.min() - 4 * hb, b.max() + 4 * hb, GRID)
        dx, dy = x[1] - x[0], y[1] - y[0]
        edges_x = np.concatenate([x - dx / 2, [x[-1] + dx / 2]])
        edges_y = np.concatenate([y - dy / 2, [y[-1] + dy / 2]])
        hist, _, _ = np.histogram2d(a, b, bins=[edges_x, edges_y])
        d = gaussian_filter(hist, sigma=(ha / dx, hb / dy), mode="constant", truncate=4.0) / (n * dx * dy)
        with np.errstate(divide="ignore"):
            return cls(x, y, np.log(np.maximum(d, 1e-300)))

    def __call__(self, a, b):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        fx = (a - self.x[0]) / (self.x[1] - self.x[0])
        fy = (b - self.y[0]) / (self.y[1] - self.y[0])
        inside = (fx >= 0) & (fx <= GRID - 1) & (fy >= 0) & (fy <= GRID - 1)
        i = np.clip(np.floor(fx).astype(int), 0, GRID - 2)
        j = np.clip(np.floor(fy).astype(int), 0, GRID - 2)
        tx, ty = np.clip(fx - i, 0, 1), np.clip(fy - j, 0, 1)
        d = np.exp(self.logd)
        v = (
            d[i, j] * (1 - tx) * (1 - ty)
            + d[i + 1, j] * tx * (1 - ty)
            + d[i, j + 1] * (1 - tx) * ty
            + d[i + 1, j + 1] * tx * ty
        )
        with np.errstate(divide="ignore"):
            return np.where(inside, np.log(np.maximum(v, 1e-300)), -np.inf)


def _path(name: str, entry: dict) -> Path:
    f = entry.get("file")
    if not isinstance(f, str) or not f.strip():
        raise ConstraintError(f"constraint {name}: file must be the path of a samples file, got {f!r}")
    return Path(f)


@dataclass(frozen=True)
class MassRadiusSamples:
    name: str
    file: str
    density: _GridDensity = field(repr=False)
    n_samples: int
    reference: str = ""
    description: str = ""
    kind: str = "mass_radius_samples"
    needs_stars: bool = True

    @classmethod
    def from_entry(cls, name: str, entry: dict) -> MassRadiusSamples:
        path = _path(name, entry)
        s = read_samples(name, path, 2)
        return cls(name=name, file=str(path), density=_GridDensity.fit(s[:, 0], s[:, 1]), n_samples=len(s),
                   reference=str(entry.get("reference", "")), description=str(entry.get("description", "")))  # fmt: skip

    def summary(self) -> str:
        return f"KDE of {self.n_samples} (M, R) samples from {self.file}"

    def loglike(self, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
        return over_branches(
            ctx, "radius", lambda m, r, mmax: log_marginal_mass_radius(m, r, mmax, self.density)
        )


@dataclass(frozen=True)
class TidalSamples:
    name: str
    file: str
    density: _GridDensity = field(repr=False)
    n_samples: int
    chirp_mass: float
    q_min: float
    reference: str = ""
    description: str = ""
    kind: str = "tidal_samples"
    needs_stars: bool = True

    @classmethod
    def from_entry(cls, name: str, entry: dict) -> TidalSamples:
        path = _path(name, entry)
        s = read_samples(name, path, 4)
        m1, m2 = np.maximum(s[:, 0], s[:, 1]), np.minimum(s[:, 0], s[:, 1])
        lam1 = np.where(s[:, 0] >= s[:, 1], s[:, 2], s[:, 3])
        lam2 = np.where(s[:, 0] >= s[:, 1], s[:, 3], s[:, 2])
        q = m2 / m1
        chirp = float(np.median((m1 * m2) ** 0.6 / (m1 + m2) ** 0.2))
        return cls(name=name, file=str(path), density=_GridDensity.fit(q, lambda_tilde(m1, m2, lam1, lam2)),
                   n_samples=len(s), chirp_mass=chirp, q_min=float(q.min()),
                   reference=str(entry.get("reference", "")), description=str(entry.get("description", "")))  # fmt: skip

    def summary(self) -> str:
        return f"KDE of {self.n_samples} (q, Lambda-tilde) samples from {self.file}, Mc = {self.chirp_mass:.4f} Msun"

    def loglike_branch(self, masses, lambdas, m_max) -> float:
        q, lt, ok = lambda_tilde_along_q(self.chirp_mass, self.q_min, masses, lambdas, m_max)
        if not np.any(ok):
            return -np.inf
        logf = np.where(ok, self.density(q, lt), -np.inf)
        return float(logsumexp(logf) - np.log(N_Q))

    def loglike(self, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
        return over_branches(ctx, "Lambda", self.loglike_branch)
