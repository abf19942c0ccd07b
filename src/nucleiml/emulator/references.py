"""Reference parameter sets: realistic RMF solutions that carry shell structure to an unseen nucleus.

A smooth formula of nuclear systematics fitted through a row's predictions at the training nuclei misses the
shell structure of an unseen nucleus (a bias of 1-2 % in B per nucleus). Shell structure is much alike
between realistic parameter sets, so :func:`nucleiml.emulator.extrapolation.extrapolate` fits only the
*difference* between a row and a reference set, and adds the reference's own RMF value at the unseen nucleus.

The references are the :data:`REFERENCE_COUNT` training samples that reproduce the measured binding energies
and charge radii of the training nuclei best (root mean square of the relative deviations; a sample must be
convergent in every training nucleus). Their NMPs are stored in the model's metadata (``reference_nmp``);
their RMF values are solved when an unseen nucleus is first asked for (about a second) and kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from ..datasets.labels import CONVERGENT
from ..experiment import experiment
from ..parameters import ParameterError

__all__ = ["REFERENCE_COUNT", "ReferenceValues", "reference_values", "select_references"]

REFERENCE_COUNT = 5
"""Reference sets per model. Chosen by leave-one-out over the ten set2 nuclei (mean 95 % band of the
left-out nucleus, shipped model: B 1.54 %, Rch 0.57 % with five references against 1.69 % / 0.53 % with the
best one alone and 2.57 % / 1.11 % with no reference)."""


class ReferenceValues(NamedTuple):
    """RMF values of m reference sets at the k training nuclei and at one target nucleus (the neutron skins
    Rn - Rp optional)."""

    binding_training: np.ndarray  # (m, k) MeV
    radius_training: np.ndarray  # (m, k) fm
    binding: np.ndarray  # (m,) MeV at the target
    radius: np.ndarray  # (m,) fm at the target
    skin_training: np.ndarray | None = None  # (m, k) fm
    skin: np.ndarray | None = None  # (m,) fm at the target


def select_references(rows, nuclei, count: int = REFERENCE_COUNT) -> np.ndarray:
    """NMPs (m, 7), m <= ``count``, of the samples of ``rows`` (:class:`nucleiml.emulator.tables.Rows`)
    that are convergent in every nucleus of ``nuclei`` (names) and closest to experiment there (RMS of the
    relative deviations of B and, where measured, of the charge radius); best first. Fewer than ``count``
    (none at all in a tiny dataset) if fewer samples are convergent in every nucleus."""
    dev2 = np.zeros(rows.sample_id.size)
    terms = np.zeros(rows.sample_id.size)
    keep = np.isin(rows.nucleus, list(nuclei))
    for name in nuclei:
        m = rows.nucleus == name
        exp = experiment(name)
        dev2[m] = (rows.binding_energy[m] / exp.binding_energy - 1.0) ** 2
        terms[m] = 1
        if exp.charge_radius is not None:
            dev2[m] += (rows.charge_radius[m] / exp.charge_radius - 1.0) ** 2
            terms[m] = 2
    ids, first, inverse = np.unique(rows.sample_id[keep], return_index=True, return_inverse=True)
    good = np.bincount(inverse, (rows.label[keep] == CONVERGENT).astype(float), ids.size) == len(nuclei)
    with np.errstate(invalid="ignore", divide="ignore"):
        rms = np.sqrt(
            np.bincount(inverse, dev2[keep], ids.size) / np.bincount(inverse, terms[keep], ids.size)
        )
    rms = np.where(good & np.isfinite(rms), rms, np.inf)
    order = np.argsort(rms, kind="stable")[:count]
    order = order[np.isfinite(rms[order])]
    return rows.nmp[np.flatnonzero(keep)[first[order]]]


def _solve(solver_input: Mapping, nucleus) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(B MeV, Rch fm, Rn - Rp fm) of the sets in ``solver_input`` (couplings and masses) in ``nucleus``
    (NaN where not converged)."""
    from ..solver import solve_batch

    res = solve_batch(solver_input, nucleus)
    skin = res.neutron_radius - res.proton_radius
    return tuple(np.where(res.converged, v, np.nan) for v in (res.binding_energy, res.charge_radius, skin))


def reference_values(solver_input: Mapping, training, nucleus, cache: dict) -> ReferenceValues:
    """RMF values (B, Rch, Rn - Rp) of the reference sets at the ``training`` nuclei and at ``nucleus``; ``solver_input``
    holds their couplings and masses (a mapping :func:`nucleiml.solve_batch` takes). Each nucleus is solved
    once and kept in ``cache`` (a dict owned by the caller). References that do not converge in the target
    nucleus are left out.

    Raises
    ------
    ParameterError
        If no reference set converges in ``nucleus`` and every training nucleus.
    """
    for nuc in (*training, nucleus):
        if nuc not in cache:
            cache[nuc] = _solve(solver_input, nuc)
    bt, rt, st = (np.stack([cache[n][i] for n in training], axis=1) for i in range(3))
    b, r, s = cache[nucleus]
    use = np.all(np.isfinite(bt) & np.isfinite(rt), axis=1) & np.isfinite(b) & np.isfinite(r)
    if not np.any(use):
        raise ParameterError(
            f"no reference set of the model converges in {nucleus} and every training nucleus"
        )
    return ReferenceValues(bt[use], rt[use], b[use], r[use], st[use], s[use])
