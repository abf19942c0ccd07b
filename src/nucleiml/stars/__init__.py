"""Neutron stars from the RMF couplings or a tabulated EoS: beta-equilibrated matter, the SLy4 crust,
the TOV equations with the tidal Love number, and the M-R-Lambda sequence (see :mod:`nucleiml.stars.api`).

Modules: :mod:`.matter` (beta equilibrium), :mod:`.crust` (crust table and junction), :mod:`.table`
(tabulated EoS), :mod:`.tov` (the equations), :mod:`.sequence` (the sequence and its summary),
:mod:`.cli` (``nucleiml star``).
"""

from .api import (
    SUMMARY_FIELDS,
    StarBatch,
    StarConfig,
    StarResult,
    StarSummary,
    beta_equilibrium,
    star,
    star_batch,
    star_from_table,
)
from .matter import BetaEquilibrium, PointStatus
from .sequence import StarStatus

__all__ = [
    "SUMMARY_FIELDS",
    "BetaEquilibrium",
    "PointStatus",
    "StarBatch",
    "StarConfig",
    "StarResult",
    "StarStatus",
    "StarSummary",
    "beta_equilibrium",
    "star",
    "star_batch",
    "star_from_table",
]
