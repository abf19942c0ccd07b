"""NucleiML: relativistic mean-field (RMF) nuclear matter and finite nuclei, datasets, an ML emulator and
Bayesian inference.

Units throughout: energies and masses in MeV, lengths in fm, densities in fm^-3; the cubic sigma coupling
``A`` in fm^-1. The nuclear-matter functions are loaded on first use, so ``import nucleiml`` stays light
(numpy only, no scipy).
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from .experiment import ExperimentalData, experiment
from .nuclei import NUCLEUS_SETS, Nucleus, NucleusError, parse_nuclei, parse_nucleus
from .parameters import NMP, Couplings, ParameterError
from .presets import PRESETS, get_preset

if TYPE_CHECKING:
    from .emulator import Emulator
    from .nuclear_matter import (
        CouplingsResult,
        couplings_from_nmp,
        couplings_from_nmp_array,
        ksym,
        nmp_from_couplings,
    )
    from .solver import NucleusResult, SolverConfig, SolverStatus, solve, solve_batch
    from .stars import StarConfig, StarStatus, star, star_batch, star_from_table

try:
    __version__ = version("nucleiml")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

# Public names resolved lazily (PEP 562): name -> submodule that defines it.
_LAZY = {
    "nmp_from_couplings": "nuclear_matter",
    "couplings_from_nmp": "nuclear_matter",
    "couplings_from_nmp_array": "nuclear_matter",
    "CouplingsResult": "nuclear_matter",
    "ksym": "nuclear_matter",
    "solve": "solver",
    "solve_batch": "solver",
    "SolverConfig": "solver",
    "SolverStatus": "solver",
    "NucleusResult": "solver",
    "Emulator": "emulator",
    "star": "stars",
    "star_batch": "stars",
    "star_from_table": "stars",
    "StarConfig": "stars",
    "StarStatus": "stars",
}

__all__ = [
    "NMP",
    "NUCLEUS_SETS",
    "PRESETS",
    "Couplings",
    "CouplingsResult",
    "Emulator",
    "ExperimentalData",
    "Nucleus",
    "NucleusError",
    "NucleusResult",
    "ParameterError",
    "SolverConfig",
    "SolverStatus",
    "StarConfig",
    "StarStatus",
    "__version__",
    "couplings_from_nmp",
    "couplings_from_nmp_array",
    "experiment",
    "get_preset",
    "ksym",
    "nmp_from_couplings",
    "parse_nuclei",
    "parse_nucleus",
    "solve",
    "solve_batch",
    "star",
    "star_batch",
    "star_from_table",
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nucleiml' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # cache: later lookups bypass __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
