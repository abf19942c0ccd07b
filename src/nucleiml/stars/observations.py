"""Published neutron-star measurements shipped in ``data/ns_measurements.csv`` (sources in
``data/SOURCES.md``): pulsar masses and NICER mass-radius intervals, drawn on the M-R figures."""

from __future__ import annotations

import csv
import io
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


def _num(text: str) -> float:
    return float(text) if text.strip() else float("nan")


@lru_cache(maxsize=1)
def load_measurements() -> tuple[Measurement, ...]:
    """All shipped measurements, in file order."""
    text = resources.files("nucleiml").joinpath("data", "ns_measurements.csv").read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    out = []
    for row in csv.DictReader(io.StringIO(body)):
        out.append(
            Measurement(
                name=row["name"],
                kind=row["kind"],
                mass=_num(row["mass_Msun"]),
                mass_minus=_num(row["mass_minus"]),
                mass_plus=_num(row["mass_plus"]),
                radius=_num(row["radius_km"]),
                radius_minus=_num(row["radius_minus"]),
                radius_plus=_num(row["radius_plus"]),
                reference=row["reference"],
            )
        )
    return tuple(out)
