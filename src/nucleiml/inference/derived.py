"""Quantities derived from posterior samples of the NMPs: neutron stars, symmetry energy, pressure.

Per equally weighted sample (NMPs inverted exactly with the run's masses): Mmax, its radius and central
density, R and Lambda at 1.4 Msun, R at 2.0 Msun, the symmetry energy and the pressure of symmetric
matter at twice the sample's own rho0, and Ksym; also the neutron skins of 208Pb and 48Ca from the solver
(``rmf``) or the emulator (``nml``, if it has the skin regressor). NaN where a sample has no couplings or its sequence was cut (the status column says why).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._parallel import map_row_chunks
from .constraints import Context

__all__ = ["DERIVED_UNITS", "derived_quantities"]

SKIN_NUCLEI = ("208Pb", "48Ca")
"""Nuclei whose neutron skin the model adds to the derived quantities (PREX-II and CREX targets)."""

MIN_BLOCK = 32
"""Fewest samples per worker task."""

DERIVED_UNITS = {
    "M_max": "Msun",
    "R_M_max": "km",
    "n_c_M_max": "fm^-3",
    "R_14": "km",
    "Lambda_14": "",
    "R_20": "km",
    "S_2n0": "MeV",
    "P_SNM_2n0": "MeV fm^-3",
    "Ksym": "MeV",
    "skin_208Pb": "fm",
    "skin_48Ca": "fm",
}
"""Derived columns of posterior.parquet and their units."""


def _ksym(ctx: Context) -> np.ndarray:
    """Ksym (MeV) at each set's saturation density (the NMP rho0: the couplings reproduce it exactly),
    vectorised over the sets with couplings."""
    from ..constants import HBARC_MEV_FM
    from ..nuclear_matter import _saturation_quantities, _symmetric_point
    from ..stars.matter import scaled_couplings_arrays

    out = np.full(len(ctx), np.nan)
    idx = np.nonzero(ctx.has_couplings)[0]
    if idx.size == 0:
        return out
    sc = scaled_couplings_arrays({k: v[idx] for k, v in ctx.couplings.items()})
    rho0 = ctx.rho0[idx]
    st, mstar, sp, f_s = _symmetric_point(sc, rho0)
    q = _saturation_quantities(
        rho0, mstar, st.S, st.V, sp, sc.alpha, sc.C, sc.b, sc.c, f_s, sc.beta, sc.Lambda_v
    )
    out[idx] = np.where(st.ok, q[4] * HBARC_MEV_FM, np.nan)
    return out


@dataclass(frozen=True)
class _DerivedTask:
    nmp: np.ndarray
    masses: dict
    star_config: object


def _derived_block(task: _DerivedTask) -> tuple[dict, np.ndarray]:
    """:func:`derived_quantities` of one block of samples (run in a worker or in process)."""
    ctx = Context.from_nmp(task.nmp, task.masses, task.star_config)
    s = ctx.stars().summary
    out = {
        k: np.asarray(s[k], dtype=float)
        for k in ("M_max", "R_M_max", "n_c_M_max", "R_14", "Lambda_14", "R_20")
    }
    out["S_2n0"] = ctx.symmetry_energy(2.0 * ctx.rho0)
    out["P_SNM_2n0"] = ctx.symmetric_pressure(2.0 * ctx.rho0)
    out["Ksym"] = _ksym(ctx)
    return out, np.asarray(s["status"])


def derived_quantities(nmp, masses: dict, star_config=None, executor=None) -> tuple[dict, np.ndarray]:
    """Columns of :data:`DERIVED_UNITS` (each (n,)) and the star status codes (n,) of the samples ``nmp``
    (n, 7), inverted with ``masses`` (MeV); spread over ``executor`` (an executor of
    :mod:`nucleiml._parallel`; None: in process) in blocks, with results that do not depend on it."""
    nmp = np.atleast_2d(np.asarray(nmp, dtype=float))
    parts = map_row_chunks(
        executor, _derived_block, lambda block: _DerivedTask(block, dict(masses), star_config), nmp, MIN_BLOCK
    )
    columns = {k: np.concatenate([p[0][k] for p in parts]) for k in parts[0][0]}
    return columns, np.concatenate([p[1] for p in parts])


def neutron_skins(config, nmp, executor=None) -> dict:
    """Rn - Rp (fm) of :data:`SKIN_NUCLEI` from the run's model at ``nmp`` (n, 7), as columns
    ``skin_<nucleus>``: the solver's (``rmf``, on ``executor``, the run's workers, or its own) or the emulator's (``nml`` with the
    skin regressor, as the shipped one; none from an emulator without it); NaN where the model fails."""
    from .models import make_model

    with make_model(config, nuclei=SKIN_NUCLEI, executor=executor) as model:
        ev = model.evaluate(np.asarray(nmp, dtype=float))
    skins = ev.neutron_skin
    if skins is None:
        return {}
    return {f"skin_{n}": np.where(ev.valid[:, i], skins[:, i], np.nan) for i, n in enumerate(SKIN_NUCLEI)}
