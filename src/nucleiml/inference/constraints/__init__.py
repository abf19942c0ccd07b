"""Constraints beyond finite nuclei, as named likelihood terms (heavy-ion collisions, pulsar masses, NICER,
gravitational waves).

The data live once, in ``nucleiml/data/constraints.toml`` (with their references; sources and checks in
``data/SOURCES.md``). Each table names a ``kind``, the module that evaluates it: adding a constraint of a
known kind means adding a table; a new kind is a new module with a ``from_entry`` classmethod and a
``loglike(ctx)`` method (see :mod:`.base`), registered in :data:`KINDS`.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

from .base import ConstraintError, Context
from .gw_tidal import GwTidal
from .nicer import Nicer
from .pressure_band import PressureBand
from .pulsar_mass import PulsarMass
from .samples import MassRadiusSamples, TidalSamples
from .symmetry_energy import SymmetryEnergy
from .symmetry_slope import SymmetrySlope

__all__ = [
    "KINDS",
    "ConstraintError",
    "Context",
    "constraints_table",
    "get_constraints",
    "shipped_constraints",
]

KINDS = MappingProxyType(
    {
        "pulsar_mass": PulsarMass,
        "nicer": Nicer,
        "gw_tidal": GwTidal,
        "symmetry_energy": SymmetryEnergy,
        "symmetry_slope": SymmetrySlope,
        "pressure_band": PressureBand,
        "mass_radius_samples": MassRadiusSamples,
        "tidal_samples": TidalSamples,
    }
)
"""Constraint kinds and the term classes that evaluate them."""


def parse_constraints(table: dict, source: str) -> dict:
    """Terms of every entry of a parsed constraints table (name -> term)."""
    out = {}
    for name, entry in table.items():
        if not isinstance(entry, dict):
            raise ConstraintError(f"{source}: [{name}] must be a table")
        kind = entry.get("kind")
        if kind not in KINDS:
            raise ConstraintError(f"{source}: [{name}] kind must be one of {', '.join(KINDS)}, got {kind!r}")
        out[name] = KINDS[kind].from_entry(name, entry)
    return out


@lru_cache(maxsize=1)
def shipped_constraints() -> MappingProxyType:
    """All constraints shipped in ``data/constraints.toml``, by name (read-only)."""
    text = resources.files("nucleiml").joinpath("data", "constraints.toml").read_text(encoding="utf-8")
    return MappingProxyType(parse_constraints(tomllib.loads(text), "data/constraints.toml"))


def get_constraints(names, extra=None) -> tuple:
    """The terms called ``names`` (a sequence of str), in order: shipped ones, or those of ``extra`` (a
    mapping name -> term, e.g. a run file's own tables).

    Raises
    ------
    ConstraintError
        For a name that is neither shipped nor in ``extra`` (the message lists the shipped ones) or a
        repeated name.
    """
    shipped = {**shipped_constraints(), **(extra or {})}
    if isinstance(names, str):
        names = [names]
    out, seen = [], set()
    for name in names:
        if name not in shipped:
            raise ConstraintError(f"unknown constraint {name!r}; shipped: {', '.join(shipped)}")
        if name in seen:
            raise ConstraintError(f"constraint {name!r} is listed twice")
        seen.add(name)
        out.append(shipped[name])
    return tuple(out)


def constraints_table() -> str:
    """The shipped constraints as a markdown table (name, kind, data, reference): what docs/joint.md shows,
    generated from ``data/constraints.toml`` so that the docs cannot drift from the data."""
    rows = ["| name | kind | data | reference |", "| --- | --- | --- | --- |"]
    for name, term in shipped_constraints().items():
        rows.append(f"| `{name}` | {term.kind} | {term.summary()} | {term.reference} |")
    return "\n".join(rows)
