"""Experimental data shipped in nucleiml/data/experiment.csv (AME2020, Angeli & Marinova 2013)."""

import dataclasses
from importlib import resources

import pytest

from nucleiml import ExperimentalData, Nucleus, NucleusError, experiment
from nucleiml.experiment import MissingExperimentError, available_nuclei


def test_208pb_values():
    d = experiment("208Pb")
    assert isinstance(d, ExperimentalData)
    assert d.nucleus == Nucleus(82, 126)
    assert d.binding_energy == 1636.4300
    assert d.binding_energy_err == 0.0011
    assert d.binding_energy_extrapolated is False
    assert d.charge_radius == 5.5012
    assert d.charge_radius_err == 0.0013
    assert d.binding_energy_per_nucleon == pytest.approx(1636.43 / 208)


@pytest.mark.parametrize("spec", ["Pb208", "pb-208", (82, 126), Nucleus(82, 126)])
def test_lookup_spellings(spec):
    assert experiment(spec) is experiment("208Pb")


def test_other_values():
    o16 = experiment("16O")
    assert (o16.binding_energy, o16.charge_radius) == (127.6193, 2.6991)
    assert experiment("40Ca").charge_radius == 3.4776
    assert experiment("48Ca").binding_energy == 416.0012


def test_extrapolated_flags():
    flagged = {n.name for n in available_nuclei() if experiment(n).binding_energy_extrapolated}
    assert flagged == {"58Ca", "60Ca", "48Ni", "78Ni"}


def test_missing_radius_is_none():
    d = experiment("78Ni")
    assert d.charge_radius is None
    assert d.charge_radius_err is None
    assert d.binding_energy == 642.5370
    assert d.binding_energy_extrapolated is True


def test_available_nuclei():
    nuclei = available_nuclei()
    assert len(nuclei) == 24
    assert list(nuclei) == sorted(nuclei)
    assert Nucleus(82, 126) in nuclei
    assert all(experiment(n).nucleus == n for n in nuclei)


def test_unknown_nucleus_lists_available():
    with pytest.raises(MissingExperimentError) as info:
        experiment("209Bi")
    msg = str(info.value)
    assert "209Bi" in msg
    assert "available nuclei: 16O" in msg
    assert "208Pb" in msg
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, LookupError)


def test_bad_name_is_nucleus_error():
    with pytest.raises(NucleusError, match="unknown element symbol 'Qq'"):
        experiment("208Qq")


def test_data_is_frozen_and_json_ready():
    d = experiment("22O")
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.binding_energy = 0.0  # type: ignore[misc]
    assert d.to_dict() == {
        "nucleus": "22O",
        "Z": 8,
        "N": 14,
        "A": 22,
        "binding_energy": 162.0302,
        "binding_energy_err": 0.06,
        "binding_energy_extrapolated": False,
        "charge_radius": None,
        "charge_radius_err": None,
        "neutron_skin": None,
        "neutron_skin_err": None,
        "neutron_skin_experiment": None,
    }


def test_data_files_and_sources_are_packaged():
    data = resources.files("nucleiml").joinpath("data")
    assert data.joinpath("experiment.csv").is_file()
    sources = data.joinpath("SOURCES.md").read_text(encoding="utf-8")
    assert "Chin. Phys. C" in sources and "030003" in sources  # AME2020
    assert "Angeli" in sources and "Marinova" in sources
