"""Experimental ground-state binding energies and charge radii shipped with the package.

Binding energies: AME2020 (Wang et al., Chin. Phys. C 45, 030003 (2021)).
Charge radii: Angeli & Marinova, At. Data Nucl. Data Tables 99, 69 (2013).
See ``nucleiml/data/SOURCES.md``. The table is read lazily on first use.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

from .nuclei import Nucleus, parse_nucleus

__all__ = ["ExperimentalData", "MissingExperimentError", "available_nuclei", "experiment"]

_DATA_FILE = "experiment.csv"
_COLUMNS = (
    "name",
    "Z",
    "N",
    "A",
    "binding_energy_MeV",
    "binding_energy_err_MeV",
    "binding_energy_extrapolated",
    "charge_radius_fm",
    "charge_radius_err_fm",
)


class MissingExperimentError(ValueError, LookupError):
    """No experimental data is shipped for the requested nucleus."""


@dataclass(frozen=True)
class ExperimentalData:
    """Measured ground-state properties of one nucleus.

    Attributes
    ----------
    nucleus : the nucleus.
    binding_energy : total binding energy B > 0, MeV (AME2020).
    binding_energy_err : its uncertainty, MeV.
    binding_energy_extrapolated : True if AME2020 gives an extrapolated (``#``) value rather than a measurement.
    charge_radius : rms charge radius in fm, or None if not measured (Angeli & Marinova 2013).
    charge_radius_err : its uncertainty in fm, or None.
    """

    nucleus: Nucleus
    binding_energy: float
    binding_energy_err: float
    binding_energy_extrapolated: bool
    charge_radius: float | None
    charge_radius_err: float | None

    @property
    def binding_energy_per_nucleon(self) -> float:
        """B/A in MeV."""
        return self.binding_energy / self.nucleus.A

    def to_dict(self) -> dict[str, object]:
        """Plain-JSON view: nucleus name, Z, N, A and the measured values (None where missing)."""
        return {
            "nucleus": self.nucleus.name,
            "Z": self.nucleus.Z,
            "N": self.nucleus.N,
            "A": self.nucleus.A,
            "binding_energy": self.binding_energy,
            "binding_energy_err": self.binding_energy_err,
            "binding_energy_extrapolated": self.binding_energy_extrapolated,
            "charge_radius": self.charge_radius,
            "charge_radius_err": self.charge_radius_err,
        }


def _corrupt(line: int, message: str) -> RuntimeError:
    return RuntimeError(f"corrupt package data file nucleiml/data/{_DATA_FILE}, line {line}: {message}")


def _optional_float(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


def _parse_row(row: dict[str, str], line: int) -> ExperimentalData:
    try:
        nucleus = parse_nucleus(row["name"])
        if (nucleus.Z, nucleus.N, nucleus.A) != (int(row["Z"]), int(row["N"]), int(row["A"])):
            raise ValueError(
                f"name {row['name']!r} disagrees with Z, N, A = {row['Z']}, {row['N']}, {row['A']}"
            )
        flag = row["binding_energy_extrapolated"].strip().lower()
        if flag not in ("yes", "no"):
            raise ValueError(f"binding_energy_extrapolated must be 'yes' or 'no', got {flag!r}")
        radius = _optional_float(row["charge_radius_fm"])
        radius_err = _optional_float(row["charge_radius_err_fm"])
        if (radius is None) != (radius_err is None):
            raise ValueError("charge_radius_fm and charge_radius_err_fm must both be given or both be empty")
        return ExperimentalData(
            nucleus=nucleus,
            binding_energy=float(row["binding_energy_MeV"]),
            binding_energy_err=float(row["binding_energy_err_MeV"]),
            binding_energy_extrapolated=flag == "yes",
            charge_radius=radius,
            charge_radius_err=radius_err,
        )
    except (ValueError, KeyError) as exc:
        raise _corrupt(line, str(exc)) from exc


@lru_cache(maxsize=1)
def _table() -> MappingProxyType[Nucleus, ExperimentalData]:
    text = resources.files("nucleiml").joinpath("data", _DATA_FILE).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != _COLUMNS:
        raise _corrupt(1, f"expected columns {_COLUMNS}, got {reader.fieldnames}")
    table: dict[Nucleus, ExperimentalData] = {}
    for line, row in enumerate(reader, start=2):
        data = _parse_row(row, line)
        if data.nucleus in table:
            raise _corrupt(line, f"duplicate entry for {data.nucleus.name}")
        table[data.nucleus] = data
    return MappingProxyType(dict(sorted(table.items())))


def available_nuclei() -> tuple[Nucleus, ...]:
    """Nuclei with shipped experimental data, ordered by (Z, N)."""
    return tuple(_table())


def experiment(nucleus: object) -> ExperimentalData:
    """Experimental data for ``nucleus`` (``"208Pb"``, ``(82, 126)``, a ``Nucleus``, ...).

    Raises ``MissingExperimentError`` (a ``ValueError`` and ``LookupError``) listing the available nuclei
    if none is shipped, and ``NucleusError`` if ``nucleus`` cannot be parsed.
    """
    nuc = parse_nucleus(nucleus)
    table = _table()
    try:
        return table[nuc]
    except KeyError:
        names = ", ".join(n.name for n in table)
        raise MissingExperimentError(
            f"no experimental data for {nuc.name}; available nuclei: {names}"
        ) from None
