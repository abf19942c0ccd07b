"""Neutron-star measurements drawn on the M-R figures: the pulsar masses and NICER mass-radius intervals
among the constraints shipped in ``data/constraints.toml`` (the one place these numbers live; sources in
``data/SOURCES.md``)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = ["Measurement", "load_measurements"]


@dataclass(frozen=True)
class Measurement:
    """One measurement: ``kind`` is "mass" or "mass_radius"; median and 68 % interval half-widths below
    (minus) and above (plus) it, mass in Msun and radius in km (NaN for a mass alone)."""

    name: str
    kind: str
    mass: float
    mass_minus: float
    mass_plus: float
    radius: float
    radius_minus: float
    radius_plus: float
    reference: str


@lru_cache(maxsize=1)
def load_measurements() -> tuple[Measurement, ...]:
    """The shipped pulsar masses and NICER measurements, in file order."""
    text = resources.files("nucleiml").joinpath("data", "constraints.toml").read_text(encoding="utf-8")
    nan = float("nan")
    out = []
    for name, e in tomllib.loads(text).items():
        if e.get("kind") not in ("pulsar_mass", "nicer"):
            continue
        label = f"{_pulsar(e.get('description', name))} ({_cite(e['reference'])})"
        if e["kind"] == "pulsar_mass":
            out.append(
                Measurement(label, "mass", e["mass"], e["sigma"], e["sigma"], nan, nan, nan, e["reference"])
            )
        else:
            out.append(
                Measurement(label, "mass_radius", e["mass"], e["mass_minus"],
                            e["mass_plus"], e["radius"], e["radius_minus"], e["radius_plus"], e["reference"])
            )  # fmt: skip
    return tuple(out)


def _pulsar(description: str) -> str:
    """The pulsar's name, the first two words of a description ("PSR J0740+6620 mass ..." -> "PSR J0740+6620")."""
    return " ".join(description.split()[:2])


def _cite(reference: str) -> str:
    """A short citation of a reference "A. B. Author et al., Journal ... (2021)": "Author et al. 2021"."""
    authors = reference.split(",")[0].split()
    year = reference.rstrip(")").rsplit("(", 1)[-1]
    return f"{authors[-3] if authors[-2:] == ['et', 'al.'] else authors[-1]} {year}"
