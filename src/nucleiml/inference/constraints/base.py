"""What every constraint term shares: the batch context it reads, and the split-normal density.

A term is a small frozen dataclass built from one table of ``data/constraints.toml`` (its ``from_entry``
classmethod validates the table) with

- ``name``, ``kind``, ``reference``, ``description``: what it is and where it was published;
- ``needs_stars``: whether it reads the neutron-star sequences of the batch;
- ``loglike(ctx) -> (logl, valid)``: (n,) arrays; ``valid`` False where the term cannot be evaluated
  (no couplings, a star sequence cut before its maximum, a maximum mass below what the term needs); such
  points get the likelihood's floor. ``logl`` is finite where valid, up to an additive constant.

The :class:`Context` of a batch holds the NMPs, the couplings of the sets that have them and, computed once
for the whole batch when a term needs them, the star sequences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...constants import HBARC_MEV_FM
from ...parameters import ParameterError

__all__ = ["ConstraintError", "Context", "log_split_normal", "need_real", "over_branches"]


class ConstraintError(ParameterError):
    """A constraint name, entry or file is invalid (the message names the constraint and the field)."""


def need_real(name: str, entry: dict, key: str, lo: float = -math.inf, hi: float = math.inf) -> float:
    """``entry[key]`` as a finite float in [lo, hi], or a ConstraintError naming ``name`` and ``key``."""
    v = entry.get(key)
    ok = isinstance(v, int | float) and not isinstance(v, bool)
    try:
        ok = ok and math.isfinite(float(v)) and lo <= float(v) <= hi
    except OverflowError:  # an int beyond the float range
        ok = False
    if not ok:
        shown = (
            f"an integer of {len(str(abs(v)))} digits" if isinstance(v, int) and abs(v) > 1e15 else repr(v)
        )
        raise ConstraintError(f"constraint {name}: {key} must be a number in [{lo}, {hi}], got {shown[:80]}")
    return float(v)


def log_split_normal(x, mode, minus, plus):
    """Log density of the split normal with ``mode`` and widths ``minus`` below and ``plus`` above it (the
    fit used for published asymmetric intervals: the mode at the published median, the widths the
    published half-intervals)."""
    x = np.asarray(x, dtype=float)
    s = np.where(x < mode, minus, plus)
    return -0.5 * ((x - mode) / s) ** 2 - math.log(math.sqrt(2 * math.pi) * 0.5 * (minus + plus))


@dataclass
class Context:
    """One batch of parameter sets as the constraint terms see it.

    Attributes
    ----------
    nmp : ndarray (n, 7)
        rho0 [fm^-3], E0, K0, Q0 [MeV], mstar, J0, L0 [MeV].
    couplings : dict of (n,) arrays
        The eleven coupling and mass fields (NaN where ``has_couplings`` is False).
    has_couplings : ndarray of bool (n,)
    star_config : StarConfig or None
    """

    nmp: np.ndarray
    couplings: dict
    has_couplings: np.ndarray
    star_config: object = None
    _stars: object = field(default=None, repr=False)

    @classmethod
    def from_nmp(cls, nmp, masses: dict, star_config=None) -> Context:
        """Invert the NMPs exactly (:func:`~nucleiml.couplings_from_nmp_array`) with the prior's masses."""
        from ...nuclear_matter import couplings_from_nmp_array

        nmp = np.atleast_2d(np.asarray(nmp, dtype=float))
        inv = couplings_from_nmp_array(nmp, **masses)
        cols = {k: np.asarray(v, dtype=float) for k, v in inv.couplings.items()}
        cols.update({k: np.full(len(nmp), float(v)) for k, v in inv.masses.items()})
        return cls(
            nmp=nmp, couplings=cols, has_couplings=np.asarray(inv.ok, dtype=bool), star_config=star_config
        )

    def __len__(self) -> int:
        return int(self.nmp.shape[0])

    @property
    def rho0(self) -> np.ndarray:
        """Each set's own saturation density, fm^-3."""
        return self.nmp[:, 0]

    def stars(self):
        """The :class:`~nucleiml.stars.StarBatch` of the sets with couplings (rows of the others: status
        NO_COUPLINGS), computed on first use for the whole batch."""
        if self._stars is None:
            from ...stars import StarConfig
            from ...stars.api import _scatter_batch, star_batch

            idx = np.nonzero(self.has_couplings)[0]
            sub = star_batch({k: v[idx] for k, v in self.couplings.items()}, self.star_config or StarConfig())
            self._stars = _scatter_batch(sub if idx.size else None, idx, len(self))
        return self._stars

    def _matter(self, density, delta):
        """Uniform matter of every set with couplings at ``density`` (n,) fm^-3 and asymmetry delta."""
        from ...eos import matter_state
        from ...stars.matter import scaled_couplings_arrays

        idx = np.nonzero(self.has_couplings)[0]
        sc = scaled_couplings_arrays({k: v[idx] for k, v in self.couplings.items()})
        return idx, sc, matter_state(sc, np.asarray(density, dtype=float)[idx], delta)

    def symmetric_pressure(self, density) -> np.ndarray:
        """Pressure of symmetric matter (MeV fm^-3) at ``density`` (n,) fm^-3; NaN without couplings."""
        out = np.full(len(self), np.nan)
        idx, _sc, st = self._matter(density, 0.0)
        out[idx] = np.where(st.ok, st.pressure * HBARC_MEV_FM, np.nan)
        return out

    def symmetry_energy(self, density) -> np.ndarray:
        """Symmetry energy J(n) = (1/2) d^2(E/A)/d delta^2 at delta = 0 (MeV) at ``density`` (n,) fm^-3
        (:func:`nucleiml.nuclear_matter.symmetry_energy_kernel`); NaN without couplings."""
        from ...nuclear_matter import symmetry_energy_kernel
        from ...stars.matter import scaled_couplings_arrays

        out = np.full(len(self), np.nan)
        idx = np.nonzero(self.has_couplings)[0]
        sc = scaled_couplings_arrays({k: v[idx] for k, v in self.couplings.items()})
        out[idx] = symmetry_energy_kernel(sc, np.asarray(density, dtype=float)[idx])
        return out


def over_branches(ctx: Context, column: str, branch_loglike) -> tuple[np.ndarray, np.ndarray]:
    """(logl, valid) of a term evaluated on each set's stable branch: ``branch_loglike(masses, values,
    m_max)`` with the branch's masses (Msun, increasing, at least two stars), its ``column`` ("radius",
    "Lambda") and Mmax; -inf (invalid) where the sequence has no maximum or the function says so."""
    stars = ctx.stars()
    mmax = stars.summary["M_max"]
    out = np.full(len(ctx), -np.inf)
    for i in np.nonzero(np.isfinite(mmax))[0]:
        m, v = stars.sequence["mass"][i], stars.sequence[column][i]
        keep = np.isfinite(m)
        if np.count_nonzero(keep) >= 2:
            out[i] = branch_loglike(m[keep], v[keep], mmax[i])
    valid = np.isfinite(out)
    return np.where(valid, out, 0.0), valid
