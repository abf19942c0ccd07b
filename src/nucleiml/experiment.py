"""Experimental ground-state binding energies and charge radii shipped with the package.

Binding energies: AME2020 (Wang et al., Chin. Phys. C 45, 030003 (2021)).
Charge radii: Angeli & Marinova, At. Data Nucl. Data Tables 99, 69 (2013).
Neutron skins Rn - Rp from parity-violating electron scattering: 208Pb, PREX-II (Adhikari et al., Phys. Rev.
Lett. 126, 172502 (2021)); 48Ca, CREX (Adhikari et al., Phys. Rev. Lett. 129, 042501 (2022)).
See ``nucleiml/data/SOURCES.md``. The tables are read lazily on first use.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

from .nuclei import Nucleus, parse_nucleus

__all__ = ["ExperimentalData", "MissingExperimentError", "available_nuclei", "experiment"]

_DATA_FILE = "experiment.csv"
_SKIN_FILE = "neutron_skin.csv"
_SKIN_COLUMNS = ("name", "Z", "N", "A", "neutron_skin_fm", "neutron_skin_err_fm", "experiment")
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
    neutron_skin : neutron skin Rn - Rp (point-nucleon rms radii) in fm, or None if not measured.
    neutron_skin_err : its total uncertainty in fm (experimental and model parts in quadrature), or None.
    neutron_skin_experiment : the measurement ("PREX-II", "CREX"), or None.
    """

    nucleus: Nucleus
    binding_energy: float
    binding_energy_err: float
    binding_energy_extrapolated: bool
    charge_radius: float | None
    charge_radius_err: float | None
    neutron_skin: float | None = None
    neutron_skin_err: float | None = None
    neutron_skin_experiment: str | None = None

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
            "neutron_skin": self.neutron_skin,
            "neutron_skin_err": self.neutron_skin_err,
            "neutron_skin_experiment": self.neutron_skin_experiment,
        }


def _corrupt(line: int, message: str, file: str = _DATA_FILE) -> RuntimeError:
    return RuntimeError(f"corrupt package data file nucleiml/data/{file}, line {line}: {message}")


def _optional_float(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


def _row_nucleus(row: dict[str, str]) -> Nucleus:
    nucleus = parse_nucleus(row["name"])
    if (nucleus.Z, nucleus.N, nucleus.A) != (int(row["Z"]), int(row["N"]), int(row["A"])):
        raise ValueError(f"name {row['name']!r} disagrees with Z, N, A = {row['Z']}, {row['N']}, {row['A']}")
    return nucleus


def _parse_row(row: dict[str, str], line: int) -> ExperimentalData:
    try:
        nucleus = _row_nucleus(row)
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


def _reader(file: str, columns: tuple[str, ...]) -> csv.DictReader:
    text = resources.files("nucleiml").joinpath("data", file).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != columns:
        raise _corrupt(1, f"expected columns {columns}, got {reader.fieldnames}", file)
    return reader


def _add_skins(table: dict[Nucleus, ExperimentalData]) -> None:
    """Add the measured neutron skins (``neutron_skin.csv``) to the entries of ``table``."""
    seen: set[Nucleus] = set()
    for line, row in enumerate(_reader(_SKIN_FILE, _SKIN_COLUMNS), start=2):
        try:
            nucleus = _row_nucleus(row)
            skin, err = float(row["neutron_skin_fm"]), float(row["neutron_skin_err_fm"])
            if not err > 0:
                raise ValueError(f"neutron_skin_err_fm must be > 0, got {err}")
            if nucleus not in table:
                raise ValueError(f"{nucleus.name} is not in {_DATA_FILE}")
        except (ValueError, KeyError) as exc:
            raise _corrupt(line, str(exc), _SKIN_FILE) from exc
        if nucleus in seen:
            raise _corrupt(line, f"duplicate entry for {nucleus.name}", _SKIN_FILE)
        seen.add(nucleus)
        table[nucleus] = dataclasses.replace(
            table[nucleus], neutron_skin=skin, neutron_skin_err=err, neutron_skin_experiment=row["experiment"]
        )


@lru_cache(maxsize=1)
def _table() -> MappingProxyType[Nucleus, ExperimentalData]:
    table: dict[Nucleus, ExperimentalData] = {}
    for line, row in enumerate(_reader(_DATA_FILE, _COLUMNS), start=2):
        data = _parse_row(row, line)
        if data.nucleus in table:
            raise _corrupt(line, f"duplicate entry for {data.nucleus.name}")
        table[data.nucleus] = data
    _add_skins(table)
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
